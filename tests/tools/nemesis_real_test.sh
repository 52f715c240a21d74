#!/usr/bin/env bash
# Goal: real processes under the faults an operator meets. While real_history's clients put,
# compare-and-set and read through engine::Client and record what they saw, a nemesis SIGKILLs
# the leader, SIGSTOPs a follower past the election timeout, SIGKILLs and restarts every member
# at once, flips bytes in a follower's journal and in one of its HALogs, and fills a follower's
# disk. The recorded history, ending with a linearizable read of every key after the faults,
# must pass harness::check_linearizability: no acknowledged write lost, no stale read. Then every
# member must be joined and report the same committed digest (/status?digest) at the same commit
# point.
# Method: three quired on loopback (peer ports from 7620, HTTP 8620+id), each data directory on
# a tmpfs of its own (mount needs root: without it the test reports skipped, exit 77), scrub
# passes of 2 s so that rot is found during the run. Every wait is bounded; every process
# started here is stopped, and every tmpfs unmounted, on exit.
# Usage: nemesis_real_test.sh QUIRED QUIRE REAL_HISTORY
set -euo pipefail
quired=$1
quire=$2
real_history=$3
source "$(dirname "$0")/real_processes.sh"
command -v jq > /dev/null || fail "jq is not installed"
command -v curl > /dev/null || fail "curl is not installed"

base=7620
http_base=8620
for port in "$base" $((base + 1)) $((base + 2)) $((http_base + 1)) $((http_base + 2)) \
  $((http_base + 3)); do
  port_free "$port" || fail "port $port is in use"
done
members="1=127.0.0.1:$base,2=127.0.0.1:$((base + 1)),3=127.0.0.1:$((base + 2))"
addresses="127.0.0.1:$base,127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2))"
group=(--group nemesis --token 4e4e)

mounts=()
unmount_all() {
  for mount in "${mounts[@]}"; do umount -l "$mount" 2> /dev/null || true; done
}
stop_all() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2> /dev/null || true; done
  wait 2> /dev/null || true
}
trap 'stop_all; unmount_all; cleanup' EXIT
for id in 1 2 3; do
  mkdir -p "$work/n$id"
  if ! mount -t tmpfs -o size=192m tmpfs "$work/n$id" 2> /dev/null; then
    echo "SKIPPED: real.nemesis needs to mount a size-limited tmpfs (root) for the full disk"
    exit 77
  fi
  mounts+=("$work/n$id")
done

declare -A member_pid
start_member() {
  "$quired" --id "$1" --members "$members" "${group[@]}" --data-dir "$work/n$1" \
    --http-listen "127.0.0.1:$((http_base + $1))" --scrub-pass-seconds 2 \
    --scrub-mib-per-second 64 --log-format text 2>> "$work/n$1.log" &
  member_pid[$1]=$!
  pids+=($!)
}
http() { curl -s -m 2 "http://127.0.0.1:$((http_base + $1))$2" || true; }
role_of() { http "$1" "/status?HA"; }
# find_role ROLE: a member that answers ROLE (Leader or Follower), waiting at most 10 s.
find_role() {
  for _ in $(seq 100); do
    for id in 1 2 3; do
      if [ "$(role_of "$id")" = "$1" ]; then
        echo "$id"
        return 0
      fi
    done
    sleep 0.1
  done
  fail "no member answered $1 within 10 s"
}
at() { # at SECONDS: sleep until SECONDS after the workload started.
  local wait_ms=$((workload_start_ms + $1 * 1000 - $(date +%s%3N)))
  if [ "$wait_ms" -gt 0 ]; then sleep "$((wait_ms / 1000)).$(printf '%03d' $((wait_ms % 1000)))"; fi
}

for id in 1 2 3; do start_member "$id"; done
wait_for_leader "$quire" --members "$members" "${group[@]}" --timeout 10

workload_start_ms=$(date +%s%3N)
"$real_history" --members "$addresses" "${group[@]}" --clients 4 --keys 16 --seconds 45 \
  --writes-ok-min 200 > "$work/history.out" 2> "$work/history.err" &
history_pid=$!

at 3
leader=$(find_role Leader)
echo "nemesis: SIGKILL the leader, member $leader; restart it 2 s later"
kill -9 "${member_pid[$leader]}"
sleep 2
start_member "$leader"

at 9
follower=$(find_role Follower)
echo "nemesis: SIGSTOP follower $follower for 3 s (the election timeout is 0.3 to 0.6 s)"
kill -STOP "${member_pid[$follower]}"
sleep 3
kill -CONT "${member_pid[$follower]}"

at 15
echo "nemesis: SIGKILL every member at once, then start them all"
for id in 1 2 3; do kill -9 "${member_pid[$id]}"; done
for id in 1 2 3; do wait "${member_pid[$id]}" 2> /dev/null || true; done
for id in 1 2 3; do start_member "$id"; done

at 21
follower=$(find_role Follower)
end=$(http "$follower" "/status?digest" | jq -r '.end_offset // 0')
[ "$end" -gt 40960 ] || fail "follower $follower reports a committed end of $end"
flip() { # flip FILE OFFSET: inverts one byte in place, as rot would.
  local byte
  byte=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf "$(printf '\\%03o' $((255 - byte)))" |
    dd of="$1" bs=1 seek="$2" count=1 conv=notrunc status=none
}
flip "$work/n$follower/journal" $((end / 2))
# The second newest HALog: the newest may still be open, the oldest may be purged any moment.
halog=$(find "$work/n$follower/halog" -name '*.halog' | sort | tail -2 | head -1)
[ -n "$halog" ] || fail "follower $follower has no HALog file"
halog_size=$(stat -c %s "$halog" 2> /dev/null || echo 0)
[ "$halog_size" -gt 0 ] && flip "$halog" $((halog_size / 2))
echo "nemesis: flipped a byte at $((end / 2)) of follower $follower's journal and in $halog"

at 26
follower=$(find_role Follower)
free=$(df -B1 --output=avail "$work/n$follower" | tail -1 | tr -d ' ')
echo "nemesis: fill follower $follower's disk ($free bytes free) for 4 s"
fallocate -l "$free" "$work/n$follower/filler" 2> /dev/null ||
  dd if=/dev/zero of="$work/n$follower/filler" bs=1M status=none 2> /dev/null || true
sleep 4
rm -f "$work/n$follower/filler"
grep -q "event=disk_full" "$work/n$follower.log" ||
  fail "follower $follower logged no disk_full while its disk was full"
if ! kill -0 "${member_pid[$follower]}" 2> /dev/null; then
  grep -q "event=disk_full" "$work/n$follower.log" ||
    fail "follower $follower stopped on a full disk without logging disk_full"
  echo "nemesis: follower $follower stopped on the full disk (disk_full logged); restart it"
  start_member "$follower"
else
  echo "nemesis: follower $follower logged disk_full and rode out the full disk:"
  grep "event=disk_full" "$work/n$follower.log" | head -3
fi
echo "nemesis: done at about 30 s; the workload runs to 45 s, then reads every key"

set +e
wait "$history_pid"
history_rc=$?
set -e
cat "$work/history.out"
if [ "$history_rc" -ne 0 ]; then
  cat "$work/history.err" >&2
  fail "real_history exited $history_rc: the history is not linearizable or was not judged"
fi
grep -q "verdict linearizable" "$work/history.out" || fail "no linearizable verdict"

# Every member joined, one commit point, one digest (the group is quiet now).
converged=""
for _ in $(seq 150); do
  digests=""
  for id in 1 2 3; do
    [ "$(role_of "$id")" != NotReady ] || continue 2
    digests+="$(http "$id" "/status?digest" | jq -r '"\(.commit_counter) \(.digest)"')"$'\n'
  done
  if [ "$(sort -u <<< "$digests" | grep -c .)" = 1 ]; then
    converged=$(head -1 <<< "$digests")
    break
  fi
  sleep 0.2
done
[ -n "$converged" ] || fail "the members did not converge on one digest: $digests"
echo "every member joined at commit point and digest: $converged"
for id in 1 2 3; do
  echo "member $id: $(grep -c 'event=scrub_repaired' "$work/n$id.log" || true) scrub repairs logged"
done
echo "PASS"
