#!/usr/bin/env bash
# Goal: real processes. The CLI's transactions, historical reads, --json, environment defaults
# and status figures against three quired: `quire txn` commits when its conditions hold and
# writes nothing when one fails (from arguments and from JSON on stdin, malformed JSON a usage
# error); `get --at N` / `scan --at N` see the state at an older commit point, and a commit point
# beyond the history is a clear error; every --json answer is one JSON object (checked with jq)
# with its outcome; QUIRE_MEMBERS (with the host name localhost) stands in for --members and
# the flag overrides it; `status` shows each member's HALog files and bytes and free disk.
# Method: three quired on loopback; every wait is bounded; every process started here is
# stopped on exit.
# Usage: cli_txn_history_test.sh QUIRED QUIRE
set -euo pipefail
quired=$1
quire=$2
source "$(dirname "$0")/real_processes.sh"
command -v jq > /dev/null || fail "jq is not installed (scripts/setup.sh)"
members="1=127.0.0.1:$base,2=127.0.0.1:$((base + 1)),3=127.0.0.1:$((base + 2))"
for id in 1 2 3; do
  "$quired" --id "$id" --members "$members" --group real --token 5eed --data-dir "$work/n$id" \
    >> "$work/n$id.log" 2>&1 &
  pids+=($!)
done
# The group and token from the environment, the members by flag (QUIRE_MEMBERS is tried below).
unset QUIRE_MEMBERS
export QUIRE_GROUP=real QUIRE_TOKEN=5eed
cli=("$quire" --members "$members" --timeout 10)
wait_for_leader "${cli[@]}"
for _ in $(seq 100); do
  "${cli[@]}" put probe ready > /dev/null 2>&1 && break
  sleep 0.1
done

# expect_exit CODE COMMAND...: runs it, output in $work/out and $work/err, and checks its exit.
expect_exit() {
  local want=$1 got=0
  shift
  "$@" > "$work/out" 2> "$work/err" || got=$?
  [ "$got" -eq "$want" ] ||
    fail "$* exited $got, not $want: $(cat "$work/out" "$work/err")"
}
# json_field FILTER: the jq filter on $work/out, which must be exactly one JSON object.
json_field() {
  [ "$(jq -s 'length' "$work/out")" = 1 ] || fail "not one JSON object: $(cat "$work/out")"
  jq -er "$1" "$work/out" || fail "jq '$1' on $(cat "$work/out")"
}

# A transaction whose conditions hold commits; its commit counter is in the JSON answer.
expect_exit 0 "${cli[@]}" put k1 v1
expect_exit 0 "${cli[@]}" --json txn --if k1=v1 --if-absent k2 put k1 v2 put k3 three put k2 two
[ "$(json_field .outcome)" = committed ] || fail "txn: $(cat "$work/out")"
[ "$(json_field .exit_code)" = 0 ] || fail "txn exit_code: $(cat "$work/out")"
after_txn=$(json_field .commit_counter)
expect_exit 0 "${cli[@]}" get k1
[ "$(cat "$work/out")" = v2 ] || fail "k1 after the txn: $(cat "$work/out")"
echo "txn with holding conditions committed at commit point $after_txn"

# A condition that fails: refused, exit 1, nothing written.
expect_exit 1 "${cli[@]}" --json txn --if k1=v1 put k1 v3 delete k3
[ "$(json_field .outcome)" = refused ] || fail "failed txn: $(cat "$work/out")"
[ "$(json_field .reason)" = condition_failed ] || fail "failed txn reason: $(cat "$work/out")"
expect_exit 1 "${cli[@]}" txn --if-absent k2 delete k3
grep -q "condition failed" "$work/err" || fail "text refusal: $(cat "$work/err")"
expect_exit 0 "${cli[@]}" get k3
[ "$(cat "$work/out")" = three ] || fail "a refused txn wrote: k3 is $(cat "$work/out")"
echo "txn with a failing condition: refused, nothing written"

# The same from JSON on stdin; malformed JSON is a usage error naming the fault.
echo '{"conditions":[{"key":"k1","value_equals":"v2"}],"operations":[{"key":"k3","remove":true},{"key":"k4","put":"four"}]}' \
  > "$work/txn.json"
expect_exit 0 "${cli[@]}" --json txn --json-input < "$work/txn.json"
[ "$(json_field .outcome)" = committed ] || fail "JSON txn: $(cat "$work/out")"
expect_exit 1 "${cli[@]}" get k3
echo '{"operations":[{"key":"k5","puts":"x"}]}' > "$work/bad.json"
expect_exit 2 "${cli[@]}" --json txn --json-input < "$work/bad.json"
[ "$(json_field .reason)" = usage ] || fail "malformed JSON: $(cat "$work/out")"
json_field .message | grep -q 'operations\[0\]: unknown field "puts"' ||
  fail "the error does not name the fault: $(cat "$work/out")"
echo "txn --json-input commits; malformed JSON is refused naming the fault"

# Historical reads: the state at the txn's commit point, after later writes.
expect_exit 0 "${cli[@]}" put k1 later
expect_exit 0 "${cli[@]}" get k1 --at "$after_txn"
[ "$(cat "$work/out")" = v2 ] || fail "get --at $after_txn: $(cat "$work/out")"
expect_exit 0 "${cli[@]}" --json scan k k9 --at "$after_txn"
[ "$(json_field '[.entries[] | "\(.key)=\(.value)"] | join(",")')" = "k1=v2,k2=two,k3=three" ] ||
  fail "scan --at $after_txn: $(cat "$work/out")"
[ "$(json_field .commit_counter)" = "$after_txn" ] || fail "scan --at counter: $(cat "$work/out")"
expect_exit 0 "${cli[@]}" --json get k1
[ "$(json_field .value)" = later ] || fail "get now: $(cat "$work/out")"
expect_exit 1 "${cli[@]}" get k1 --at 999999
grep -q "commit point 999999 is not in the retained history" "$work/err" ||
  fail "beyond the history: $(cat "$work/err")"
expect_exit 1 "${cli[@]}" --json get k1 --at 999999
[ "$(json_field .reason)" = not_retained ] || fail "beyond the history, JSON: $(cat "$work/out")"
echo "get/scan --at $after_txn read the older state; --at 999999 is not retained"

# QUIRE_MEMBERS with a host name; a --members flag overrides it.
named="1=localhost:$base,2=localhost:$((base + 1)),3=localhost:$((base + 2))"
QUIRE_MEMBERS=$named expect_exit 0 "$quire" --json get k4
[ "$(json_field .value)" = four ] || fail "get through QUIRE_MEMBERS: $(cat "$work/out")"
QUIRE_MEMBERS="1=localhost:1,2=localhost:2,3=localhost:3" expect_exit 0 "${cli[@]}" get k4
QUIRE_MEMBERS="1=localhost:1" expect_exit 4 "$quire" --timeout 2 --json get k4
[ "$(json_field .reason)" = unavailable ] || fail "unreachable members: $(cat "$work/out")"
expect_exit 2 "$quire" get k4
grep -q "QUIRE_MEMBERS" "$work/err" || fail "no --members: $(cat "$work/err")"
echo "QUIRE_MEMBERS (localhost) is the default; --members overrides it"

# Status: HALog files and bytes and free disk, in the table and in JSON. With a follower down the
# leader keeps the HALogs it will need to catch up (docs/protocol.md, "Catch-up"), so some are on
# disk to count.
expect_exit 0 "${cli[@]}" --json status
follower=$(json_field '[.members[] | select(.role == "Follower")][0].id')
kill -9 "${pids[$((follower - 1))]}"
wait "${pids[$((follower - 1))]}" 2>/dev/null || true
for index in 1 2 3; do expect_exit 0 "${cli[@]}" put "after$index" x; done
expect_exit 0 "${cli[@]}" --json status
[ "$(json_field '.members | length')" = 3 ] || fail "status members: $(cat "$work/out")"
[ "$(json_field "[.members[] | select(.role == \"down\")][0].id")" = "$follower" ] ||
  fail "member $follower is not down: $(cat "$work/out")"
json_field '[.members[] | select(.role != "down" and .halog_files >= 0 and .halog_bytes >= 0 and .disk_free_bytes > 0)] | length' |
  grep -qx 2 || fail "status lacks HALog or disk figures: $(cat "$work/out")"
json_field '[.members[] | select(.role == "Leader" and .halog_files >= 3 and .halog_bytes > 0)] | length' |
  grep -qx 1 || fail "the leader counts no HALogs kept for member $follower: $(cat "$work/out")"
[ "$(json_field .outcome)" = ok ] || fail "status outcome: $(cat "$work/out")"
expect_exit 0 "${cli[@]}" status
head -1 "$work/out" | grep -q "halogs *halog *disk" || fail "status header: $(head -1 "$work/out")"
awk '$3 == "Leader" && ($8 < 3 || $9 == "-" || $10 == "-") { bad = 1 } END { exit bad }' \
  "$work/out" || fail "the leader's row lacks its HALog or disk columns: $(cat "$work/out")"
grep -q "^$follower .* down " "$work/out" || fail "member $follower's row: $(cat "$work/out")"
echo "status shows HALog files, bytes and free disk"
