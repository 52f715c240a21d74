#!/usr/bin/env bash
# Goal: real processes. With one of three members killed (SIGKILL) and the leader up, every CLI
# command succeeds, whichever member the client happens to try first; members started with
# different member lists refuse each other (in both logs), and a data directory refuses a start
# with a list other than the one it was first started with.
# Method: three quired on loopback ports picked free, 100 CLI operations, then the two
# misconfigurations. Every wait is bounded; every process started here is stopped on exit.
# Usage: cli_one_member_down_test.sh QUIRED QUIRE
set -euo pipefail
quired=$1
quire=$2
source "$(dirname "$0")/real_processes.sh"
members="1=127.0.0.1:$base,2=127.0.0.1:$((base + 1)),3=127.0.0.1:$((base + 2))"
cli=("$quire" --members "$members" --group real --token 5eed --timeout 10)

start_member() {  # id members data-dir
  "$quired" --id "$1" --members "$2" --group real --token 5eed --data-dir "$3" \
    >> "$work/n$1.log" 2>&1 &
  pids+=($!)
}
for id in 1 2 3; do start_member "$id" "$members" "$work/n$id"; done
wait_for_leader "${cli[@]}"

# Kill member 3 (whatever its role): a majority of two stays.
kill -9 "${pids[2]}"
wait "${pids[2]}" 2>/dev/null || true
for _ in $(seq 100); do
  "${cli[@]}" put probe ready > /dev/null 2>&1 && break
  sleep 0.1
done

failures=0
for index in $(seq 1 50); do
  "${cli[@]}" put "key$index" "value$index" > /dev/null 2>> "$work/cli.log" || failures=$((failures + 1))
  got=$("${cli[@]}" get "key$index" 2>> "$work/cli.log") || failures=$((failures + 1))
  [ "${got:-}" = "value$index" ] || { echo "get key$index: '${got:-}'" >> "$work/cli.log"; failures=$((failures + 1)); }
done
[ "$failures" -eq 0 ] || fail "$failures of 100 CLI operations failed with one member down"
echo "100 CLI operations with member 3 down: all ok"

# Member 3's data directory was first started with the three-member list: another is refused.
other="$members,4=127.0.0.1:$((base + 3))"
if "$quired" --id 3 --members "$other" --group real --token 5eed --data-dir "$work/n3" \
  > "$work/n3-again.log" 2>&1; then
  fail "quired started on a data directory of another member list"
fi
grep -q "belongs to a group with members" "$work/n3-again.log" ||
  fail "the refusal does not say why: $(cat "$work/n3-again.log")"
echo "a data directory refuses another member list"

# A fresh member 3 that believes in four members: the peers and it refuse each other.
start_member 3 "$other" "$work/n3-fresh"
for _ in $(seq 50); do
  grep -q "member list differs" "$work/n1.log" "$work/n2.log" 2>/dev/null &&
    grep -q "member list differs" "$work/n3.log" && break
  sleep 0.1
done
grep -q "member list differs" "$work/n1.log" "$work/n2.log" || fail "no peer logged the refusal"
grep -q "member list differs" "$work/n3.log" || fail "member 3 did not log the refusal"
"${cli[@]}" put after refused > /dev/null || fail "the majority stopped serving"
echo "members with different lists refuse each other; the majority serves"
