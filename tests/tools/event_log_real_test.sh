#!/usr/bin/env bash
# Goal: real processes. quired's event log tells an operator what happened when the leader dies:
# each survivor logs the leader change to a new leader in a higher term, one of them the election
# it won; every line of `--log-format json` is one JSON object with time, level, member, event
# and fields (jq parses each), and the text format carries the same events as key=value.
# Method: three quired on loopback (ports from 7700), members 1 and 2 logging JSON, member 3
# text; the leader is read from the logs, killed with SIGKILL, and the survivors' logs are polled
# (bounded, 20 s). Every process started here is stopped on exit (real_processes.sh).
# Usage: event_log_real_test.sh QUIRED QUIRE
set -euo pipefail
quired=$1
quire=$2
source "$(dirname "$0")/real_processes.sh"
base=7700
while ! port_free "$base" || ! port_free $((base + 1)) || ! port_free $((base + 2)); do
  base=$((base + 3))
  [ "$base" -le 7797 ] || fail "no three free ports in 7700-7799"
done
members="1=127.0.0.1:$base,2=127.0.0.1:$((base + 1)),3=127.0.0.1:$((base + 2))"
cli=("$quire" --members "$members" --group events --token e7e7 --timeout 10)
command -v jq > /dev/null || fail "jq is not installed"

declare -A member_pid
for id in 1 2 3; do
  format=json
  [ "$id" = 3 ] && format=text
  "$quired" --id "$id" --members "$members" --group events --token e7e7 --data-dir "$work/n$id" \
    --log-format "$format" --log-level debug 2> "$work/n$id.log" &
  pids+=($!)
  member_pid[$id]=$!
done
wait_for_leader "${cli[@]}"
"${cli[@]}" put before-kill yes > /dev/null

# leader_of ID: the leader and term member ID last logged (leader_changed, or member_running
# when it knew a leader at its first look), as "LEADER TERM".
leader_of() {
  if [ "$1" = 3 ]; then
    grep -E " event=(leader_changed|member_running) " "$work/n3.log" | tail -1 |
      sed -E 's/.* leader=([0-9]+) .* term=([0-9]+).*/\1 \2/'
  else
    jq -r 'select(.event == "leader_changed" or .event == "member_running") |
      "\(.fields.leader) \(.fields.term)"' \
      "$work/n$1.log" | tail -1
  fi
}

leader=""
for _ in $(seq 100); do
  read -r leader term <<< "$(leader_of 1)" || true
  [ -n "${leader:-}" ] && [ "$leader" != 0 ] && break
  sleep 0.1
done
[ -n "${leader:-}" ] && [ "$leader" != 0 ] || fail "member 1 logged no leader"
echo "member 1 logged leader $leader in term $term"

kill -9 "${member_pid[$leader]}"
survivors=()
for id in 1 2 3; do [ "$id" != "$leader" ] && survivors+=("$id"); done

changed=0
for _ in $(seq 200); do
  changed=0
  for id in "${survivors[@]}"; do
    read -r new_leader new_term <<< "$(leader_of "$id")" || true
    if [ -n "${new_leader:-}" ] && [ "$new_leader" != 0 ] && [ "$new_leader" != "$leader" ] &&
      [ "$new_term" -gt "$term" ]; then
      changed=$((changed + 1))
    fi
  done
  [ "$changed" -eq 2 ] && break
  sleep 0.1
done
[ "$changed" -eq 2 ] || fail "the survivors did not both log a new leader above term $term"
read -r new_leader new_term <<< "$(leader_of "${survivors[0]}")"
echo "survivors logged leader $new_leader in term $new_term"

# The new leader logged the election it won, in the new term.
if [ "$new_leader" = 3 ]; then
  grep -q " event=election_won term=$new_term " "$work/n3.log" ||
    fail "member 3 logged no election_won in term $new_term"
else
  jq -e --argjson term "$new_term" 'select(.event == "election_won" and .fields.term == $term)' \
    "$work/n$new_leader.log" > /dev/null || fail "member $new_leader logged no election_won"
fi

# Every JSON line parses on its own and has the five keys; member 3's lines are text.
for id in 1 2; do
  lines=$(wc -l < "$work/n$id.log")
  [ "$lines" -ge 3 ] || fail "member $id logged $lines lines"
  while IFS= read -r line; do
    jq -e 'type == "object" and has("time") and has("level") and has("member") and
      has("event") and (.fields | type == "object")' <<< "$line" > /dev/null ||
      fail "member $id: not a JSON event line: $line"
  done < "$work/n$id.log"
  [ "$(jq -r 'select(.event == "start") | "\(.fields.version != null) \(.fields.data_dir)"' \
    "$work/n$id.log")" = "true $work/n$id" ] || fail "member $id's start line lacks version or data_dir"
done
grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z info member=3 event=start ' \
  "$work/n3.log" || fail "member 3's text start line is not 'TIME info member=3 event=start'"

# A clean stop is logged as one.
stopper=${survivors[0]}
kill -TERM "${member_pid[$stopper]}"
for _ in $(seq 100); do
  kill -0 "${member_pid[$stopper]}" 2> /dev/null || break
  sleep 0.1
done
grep -q "event=stop clean=true\|\"event\":\"stop\",\"fields\":{\"clean\":true" \
  "$work/n$stopper.log" || fail "member $stopper did not log a clean stop"
echo "event log: leader change, election and clean stop logged; JSON lines parse"
