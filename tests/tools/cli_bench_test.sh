#!/usr/bin/env bash
# Goal: real processes. `quire bench` against a running 3-member group does exactly the operations
# asked, all of them successfully, and says so in its one JSON object: the count, no errors, a
# positive rate and ordered percentiles; a mix of puts, gets and txns (clients sharing
# connections, local gets) succeeds as well; a bad flag is a usage error (exit 2) with a reason;
# and with no member up bench exits 4 (unavailable) and still prints its object.
# Method: three quired on loopback (7460-7462 when free, else ports picked free), then quire
# bench runs. Every wait is bounded; every process started here is stopped on exit.
# Usage: cli_bench_test.sh QUIRED QUIRE
set -euo pipefail
quired=$1
quire=$2
source "$(dirname "$0")/real_processes.sh"
if port_free 7460 && port_free 7461 && port_free 7462 && port_free 7463; then base=7460; fi
members="1=127.0.0.1:$base,2=127.0.0.1:$((base + 1)),3=127.0.0.1:$((base + 2))"
cli=("$quire" --members "$members" --group bench --token 5eed --timeout 10)

for id in 1 2 3; do
  "$quired" --id "$id" --members "$members" --group bench --token 5eed --data-dir "$work/n$id" \
    >> "$work/n$id.log" 2>&1 &
  pids+=($!)
done
wait_for_leader "${cli[@]}"

# json_field JSON PATH: one field of bench's object ("latency_ms.p50"), by python3.
json_field() {
  python3 -c 'import json, sys
value = json.loads(sys.argv[1])
for part in sys.argv[2].split("."): value = value[part]
print(value)' "$1" "$2"
}
# check_run NAME JSON COUNT: COUNT operations, no error, rate > 0, p50 <= p99 <= max.
check_run() {
  local lines
  lines=$(printf '%s\n' "$2" | wc -l)
  [ "$lines" -eq 1 ] || fail "$1: $lines lines on stdout, not one object: $2"
  [ "$(json_field "$2" operations)" -eq "$3" ] || fail "$1: not $3 operations: $2"
  [ "$(json_field "$2" error_count)" -eq 0 ] || fail "$1: errors: $2"
  [ "$(json_field "$2" errors)" = "{}" ] || fail "$1: errors by kind: $2"
  python3 -c 'import json, sys
o = json.loads(sys.argv[1]); l = o["latency_ms"]
assert o["rate"] > 0, "rate"
assert 0 < l["p50"] <= l["p90"] <= l["p99"] <= l["p999"] <= l["max"], "percentiles"' "$2" ||
    fail "$1: rate or percentiles: $2"
  echo "$1: $2"
}

out=$(timeout 120 "${cli[@]}" bench --clients 4 --count 2000 --json 2>> "$work/cli.log") ||
  fail "bench put exited $?"
check_run "put" "$out" 2000
[ "$(json_field "$out" clients)" -eq 4 ] && [ "$(json_field "$out" connections)" -eq 4 ] &&
  [ "$(json_field "$out" value_size)" -eq 256 ] && [ "$(json_field "$out" mix.put)" -eq 100 ] ||
  fail "put: the settings are not echoed: $out"

out=$(timeout 120 "${cli[@]}" bench --clients 6 --connections 2 --count 1500 --keys 500 \
  --mix put=40,get=30,txn=30 --value-size 100 --json 2>> "$work/cli.log") ||
  fail "bench mix exited $?"
check_run "mix" "$out" 1500
[ "$(json_field "$out" connections)" -eq 2 ] && [ "$(json_field "$out" mix.txn)" -eq 30 ] ||
  fail "mix: the settings are not echoed: $out"

out=$(timeout 120 "${cli[@]}" bench --clients 3 --count 300 --keys 500 --mix get=100 \
  --consistency local --json 2>> "$work/cli.log") || fail "bench local gets exited $?"
check_run "local gets" "$out" 300

# The text report, bounded by seconds, with progress lines on stderr.
timeout 60 "${cli[@]}" bench --clients 2 --seconds 2 --progress > "$work/text.out" \
  2> "$work/progress.err" || fail "bench --seconds exited $?"
grep -q '^errors: 0$' "$work/text.out" || fail "text report: $(cat "$work/text.out")"
grep -q '^latency ms: p50 ' "$work/text.out" || fail "text report: $(cat "$work/text.out")"
grep -q '^bench: [0-9]* operations, [0-9]* ops/s$' "$work/progress.err" ||
  fail "no progress line: $(cat "$work/progress.err")"
echo "text: $(tr '\n' ' ' < "$work/text.out")"

for bad in "--clients 0" "--mix put=50,get=40" "--count 5 --seconds 5" "--consistency eventual" \
  "--frobnicate"; do
  status=0
  # shellcheck disable=SC2086 # The flags are split on purpose.
  "${cli[@]}" bench $bad > "$work/bad.out" 2> "$work/bad.err" || status=$?
  [ "$status" -eq 2 ] || fail "bench $bad exited $status, not 2"
  grep -q '^quire: ' "$work/bad.err" || fail "bench $bad: no reason: $(cat "$work/bad.err")"
  [ ! -s "$work/bad.out" ] || fail "bench $bad printed on stdout: $(cat "$work/bad.out")"
done
echo "bad flags exit 2 with a reason"

# Nobody up: exit 4 (unavailable), and the object says nothing was done.
for pid in "${pids[@]}"; do kill -9 "$pid" 2> /dev/null || true; done
wait 2> /dev/null || true
status=0
out=$(timeout 60 "$quire" --members "$members" --group bench --token 5eed --timeout 2 bench \
  --count 10 --json 2>> "$work/cli.log") || status=$?
[ "$status" -eq 4 ] || fail "bench with every member down exited $status, not 4"
[ "$(json_field "$out" operations)" -eq 0 ] || fail "down: $out"
echo "every member down: exit 4, $out"
