#!/usr/bin/env bash
# Goal: one member stopped with SIGSTOP (a GC pause, a stuck host) under load costs a group of
# three real processes at most the prepare timeout plus one election timeout without an
# acknowledged write, never the length of the pause (issue 16; docs/protocol.md, "A member that
# stops reading").
# Method: three quired on loopback ports PORT_BASE+1..3 with fresh data directories; four writer
# loops put keys and two reader loops do linearizable gets through the CLI, one command at a
# time, each recording when it started and ended and its exit code. Three seconds in, the victim
# (MODE follower: the lowest-numbered follower, the head of the pipeline; MODE leader: the
# leader, measured with CLIENTS=all only: the clients must be able to reach it before the pause) is stopped for PAUSE_S seconds, then continued. The check: the longest stretch between
# consecutive acknowledged puts, and between answered gets, across the pause is below the bound
# plus the longest such stretch before the pause (the clients' own cost on a loaded host), and
# both kept completing during the pause.
# With CLIENTS=all (how ctest runs it) the clients get every member, as an operator's CLI would:
# a command whose first guess is the stopped member gives up on its hello after 250 ms and tries
# the next (engine/client.cc; before that fix it waited the CLI's whole 5 s attempt timeout, and
# every writer stalled for the pause: issue 16 as reported). CLIENTS=live gives them only the
# members that are not paused, to measure the group alone.
# Usage: paused_member_real_test.sh QUIRED QUIRE [follower|leader] [PORT_BASE]
# Every process it starts is bounded by timeout(1) and stopped by the EXIT trap.
set -u
quired=$1
quire=$2
mode=${3:-follower}
port_base=${4:-7440}
pause_s=${PAUSE_S:-5}
clients=${CLIENTS:-live}
tick_ms=10
# prepare timeout (20 ticks) + the longest election timeout (60 ticks), the defaults of quired.
bound_ms=$(((20 + 60) * tick_ms))

dir=$(mktemp -d "${TMPDIR:-/tmp}/quire-paused-XXXXXX")
members="1=127.0.0.1:$((port_base + 1)),2=127.0.0.1:$((port_base + 2)),3=127.0.0.1:$((port_base + 3))"
daemons=()
victim_pid=""
cleanup() {
  [ -n "$victim_pid" ] && kill -CONT "$victim_pid" 2> /dev/null
  for pid in "${daemons[@]}"; do kill "$pid" 2> /dev/null; done
  wait 2> /dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
now_ns() { date +%s%N; }
cli() { timeout 30 "$quire" --members "$1" --group paused-test --token 7e57 "${@:2}"; }

for id in 1 2 3; do
  timeout 180 "$quired" --id $id --members "$members" --group paused-test --token 7e57 \
    --data-dir "$dir/n$id" --tick-ms $tick_ms 2> "$dir/n$id.log" &
  daemons+=($!)
done

leader=""
for _ in $(seq 100); do
  leader=$(cli "$members" --timeout 2 status 2> /dev/null | awk '$3 == "Leader" { print $1 }')
  [ -n "$leader" ] && break
  sleep 0.2
done
if [ -z "$leader" ]; then
  echo "FAIL: no leader within 20 s"
  tail -n 5 "$dir"/n*.log
  exit 1
fi
victim=$leader
if [ "$mode" = follower ]; then
  for id in 1 2 3; do
    if [ "$id" != "$leader" ]; then
      victim=$id
      break
    fi
  done
fi
# The member itself, not the timeout(1) that bounds it: SIGSTOP must stop quired.
victim_pid=$(pgrep -P "${daemons[$((victim - 1))]}" -x quired)
if [ -z "$victim_pid" ]; then
  echo "FAIL: no quired process under timeout pid ${daemons[$((victim - 1))]}"
  exit 1
fi
client_members=$members
if [ "$clients" = live ]; then
  client_members=$(echo "$members" | tr , '\n' | grep -v "^$victim=" | paste -sd,)
fi
echo "leader $leader; pausing $mode $victim (pid $victim_pid) for ${pause_s}s; clients use $client_members"

load_s=$((3 + pause_s + 3))
end_ns=$(($(now_ns) + load_s * 1000000000))
loop() {  # loop KIND NAME COMMAND...: one line "KIND start_ns end_ns exit_code" per command
  local kind=$1 name=$2
  shift 2
  local n=0
  while [ "$(now_ns)" -lt $end_ns ]; do
    local start
    start=$(now_ns)
    cli "$client_members" --timeout 10 "$@" "$name-$n" > /dev/null 2>&1
    local code=$?
    echo "$kind $start $(now_ns) $code"
    n=$((n + 1))
  done > "$dir/$kind-$name.log"
}
loops=()
for writer in 1 2 3 4; do
  loop put w$writer put key$writer &
  loops+=($!)
done
for reader in 1 2; do
  # The key is named after the command's number too; the answer (found or not) does not matter,
  # only that a linearizable read was answered: 0 found, 1 not found.
  loop get r$reader get &
  loops+=($!)
done

sleep 3
stop_ns=$(now_ns)
kill -STOP "$victim_pid"
sleep "$pause_s"
cont_ns=$(now_ns)
kill -CONT "$victim_pid"
for pid in "${loops[@]}"; do wait "$pid"; done

cat "$dir"/put-*.log "$dir"/get-*.log > "$dir/all.log"
# Stretches between consecutive answers of KIND with the given exit codes: the longest one that
# overlaps the pause, the longest one before it (what the clients cost on this machine without a
# fault: a loaded CI host runs each CLI command for hundreds of milliseconds), and how many
# answers came during the pause.
measure() {
  local kind=$1 codes=$2
  awk -v kind="$kind" -v codes="$codes" '$1 == kind && index(codes, $4) { print $3 }' \
    "$dir/all.log" | sort -n | awk -v stop="$stop_ns" -v cont="$cont_ns" '
      NR > 1 {
        gap = ($1 - last) / 1e6
        if ($1 < stop) { if (gap > before) before = gap }
        else if (last < cont && gap > during_gap) { during_gap = gap; at = (last - stop) / 1e6 }
      }
      { last = $1; if ($1 > stop && $1 < cont) during++ }
      END { printf "%d %d %d %d\n", during_gap, at, before, during }'
}
read -r put_gap_ms put_gap_at_ms put_before_ms puts_during < <(measure put 0)
read -r get_gap_ms get_gap_at_ms get_before_ms gets_during < <(measure get 01)
puts_total=$(awk '$1 == "put" && $4 == 0' "$dir/all.log" | wc -l)
echo "pause ${pause_s}s: $puts_total puts acknowledged, $puts_during during the pause, $gets_during gets answered during it"
echo "longest stretch without an acknowledged put: ${put_gap_ms} ms across the pause (from ${put_gap_at_ms} ms after the SIGSTOP), ${put_before_ms} ms before it"
echo "longest stretch without an answered get: ${get_gap_ms} ms across the pause (from ${get_gap_at_ms} ms after the SIGSTOP), ${get_before_ms} ms before it"
echo "bound: ${bound_ms} ms (prepare timeout + election timeout) + the longest stretch before the pause"
status=0
if [ "$puts_during" -eq 0 ] || [ "$gets_during" -eq 0 ]; then
  echo "FAIL: no put or no get completed during the pause"
  status=1
fi
if [ "$put_gap_ms" -ge $((bound_ms + put_before_ms)) ] ||
  [ "$get_gap_ms" -ge $((bound_ms + get_before_ms)) ]; then
  echo "FAIL: a stretch without answers across the pause reached the bound"
  status=1
fi
[ $status -ne 0 ] && tail -n 3 "$dir"/n*.log
exit $status
