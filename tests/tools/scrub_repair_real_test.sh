#!/usr/bin/env bash
# Goal: real processes. Bytes flipped on disk in the committed data of a running follower's
# journal are found and mended by its scrubber, visibly: every flipped byte is back to the
# leader's value within a bound of three scrub passes, the daemon's log says so, and `quire
# status` counts the repairs.
# Method: three quired on loopback with a short scrub pass (3 s, at most 64 MiB/s), about 2 MiB of
# values written through the CLI, then 16 bytes flipped (dd, in place) across the follower's data
# region while it runs. Every wait is bounded; every process started here is stopped on exit.
# Usage: scrub_repair_real_test.sh QUIRED QUIRE
set -euo pipefail
quired=$1
quire=$2
source "$(dirname "$0")/real_processes.sh"
members="1=127.0.0.1:$base,2=127.0.0.1:$((base + 1)),3=127.0.0.1:$((base + 2))"
cli=("$quire" --members "$members" --group scrub --token 5eed --timeout 10)
pass_seconds=3
for id in 1 2 3; do
  "$quired" --id "$id" --members "$members" --group scrub --token 5eed --data-dir "$work/n$id" \
    --scrub-pass-seconds "$pass_seconds" --scrub-mib-per-second 64 >> "$work/n$id.log" 2>&1 &
  pids+=($!)
done
wait_for_leader "${cli[@]}"

value=$(head -c 60000 /dev/zero | tr '\0' 'q')
for index in $(seq 1 36); do
  "${cli[@]}" put "big$index" "$index-$value" > /dev/null || fail "put big$index"
done
status=$("${cli[@]}" status)
leader=$(awk '$3 == "Leader" { print $1 }' <<< "$status" | head -1)
follower=$(awk '$3 == "Follower" { print $1 }' <<< "$status" | head -1)
[ -n "$leader" ] && [ -n "$follower" ] || fail "no leader and follower in: $status"
# Let the follower's last commit settle and the journals reach the same length.
sleep 1

source_journal="$work/n$leader/journal"
target_journal="$work/n$follower/journal"
# The committed end (the newest root slot's end offset, docs/format.md "Root blocks"), not the
# file's size: the journal is preallocated, and zeros past the end are no committed data.
committed_end() {
  local best_counter=-1 best_end=0 slot counter end
  for slot in 0 4096; do
    counter=$(od -An -tu8 -j $((slot + 16)) -N8 "$1" | tr -d ' ')
    end=$(od -An -tu8 -j $((slot + 48)) -N8 "$1" | tr -d ' ')
    if [ "$counter" -gt "$best_counter" ]; then best_counter=$counter; best_end=$end; fi
  done
  echo "$best_end"
}
size=$(committed_end "$source_journal")
target_size=$(committed_end "$target_journal")
[ "$target_size" -lt "$size" ] && size=$target_size
data_begin=20480  # docs/format.md, "Journal file": the data region's first byte
[ "$size" -gt $((data_begin + 1048576)) ] || fail "journal too small to damage: $size bytes"
byte_at() { od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '; }
offsets=()
step=$(((size * 9 / 10 - data_begin) / 16))
for index in $(seq 0 15); do
  offset=$((data_begin + index * step + 4099))
  offsets+=("$offset")
  old=$(byte_at "$target_journal" "$offset")
  [ "$old" = "$(byte_at "$source_journal" "$offset")" ] || fail "replicas differ at $offset before damage"
  printf "$(printf '\\%03o' $(((old + 1) % 256)))" |
    dd of="$target_journal" bs=1 seek="$offset" conv=notrunc status=none
done
echo "flipped 16 bytes in member $follower's journal (committed end $size), $step apart"

# Three passes: one under way, one begun after the damage, and room to spare.
bound=$((3 * pass_seconds + 10))
start=$SECONDS
mended=0
while [ $((SECONDS - start)) -lt "$bound" ]; do
  mended=0
  for offset in "${offsets[@]}"; do
    [ "$(byte_at "$target_journal" "$offset")" = "$(byte_at "$source_journal" "$offset")" ] &&
      mended=$((mended + 1))
  done
  [ "$mended" -eq 16 ] && break
  sleep 0.5
done
[ "$mended" -eq 16 ] || fail "only $mended of 16 flipped bytes mended within $bound s"
echo "all 16 flipped bytes mended in $((SECONDS - start)) s (bound $bound s)"
sleep 1.2  # The daemon logs its counters once a second.
grep -q "event=scrub_repaired" "$work/n$follower.log" || fail "member $follower's log says nothing"
grep "event=scrub_pass" "$work/n$follower.log" | tail -1
"${cli[@]}" status | grep -q "scrub repairs" || fail "quire status does not count the repairs"
