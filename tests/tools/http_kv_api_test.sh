#!/usr/bin/env bash
# Goal: real processes. The JSON key-value API on each quired's HTTP port answers as
# docs/operations.md ("HTTP JSON API") says: puts through a follower (forwarded to the leader) and
# through the leader, linearizable, local and historical gets, a txn whose condition holds and one
# whose condition fails (409), a scan with a limit, a delete (then 404), binary values, malformed
# JSON (400 with the parser's message), oversized bodies (413), requests in flight past the bound
# (503 busy), a write whose answer is lost (504 unknown); after all that every member serves; and
# SIGTERM with a request in flight answers it 503 and exits 0 at once.
# Each check asserts the status code and the JSON body.
# Method: three quired on loopback (members 7960-7962, HTTP 8960-8962 when free, else ports
# picked free), curl as the client, jq for the JSON. Every wait is bounded; every process started
# here is stopped on exit.
# Usage: http_kv_api_test.sh QUIRED QUIRE
set -euo pipefail
quired=$1
source "$(dirname "$0")/real_processes.sh"
for tool in curl jq; do
  command -v "$tool" > /dev/null || fail "$tool is missing (scripts/setup.sh installs it)"
done
all_free() { for port in "$@"; do port_free "$port" || return 1; done; }
base=7960
http_base=8960
while ! all_free $base $((base + 1)) $((base + 2)) $http_base $((http_base + 1)) $((http_base + 2)); do
  base=$((20000 + RANDOM % 20000))
  http_base=$((base + 5))
done
members="1=127.0.0.1:$base,2=127.0.0.1:$((base + 1)),3=127.0.0.1:$((base + 2))"
url() { echo "http://127.0.0.1:$((http_base + $1 - 1))$2"; }  # url ID PATH
for id in 1 2 3; do
  "$quired" --id "$id" --members "$members" --group kv --token 5eed --data-dir "$work/n$id" \
    --http-listen "127.0.0.1:$((http_base + id - 1))" >> "$work/n$id.log" 2>&1 &
  pids+=($!)
done

# call METHOD ID PATH [CURL ARGS...]: the body in $work/body, the status code in $work/code.
call() {
  local method=$1 id=$2 path=$3
  shift 3
  curl -s -m 20 -X "$method" -o "$work/body" -w '%{http_code}' "$@" "$(url "$id" "$path")" \
    > "$work/code" || echo 000 > "$work/code"
  [ -f "$work/body" ] || : > "$work/body"
}
body() { cat "$work/body"; }
# expect DESCRIPTION CODE JQ-FILTER: the last call answered CODE with a body the filter accepts.
expect() {
  [ "$(cat "$work/code")" = "$2" ] || fail "$1: expected $2, got $(cat "$work/code"): $(body)"
  jq -e "$3" "$work/body" > /dev/null 2>&1 || fail "$1: the body fails '$3': $(body)"
}
field() { jq -r "$1" "$work/body"; }

roles=""
for _ in $(seq 150); do
  roles=""
  for id in 1 2 3; do roles+="$(curl -s -m 2 "$(url "$id" '/status?HA')" || true) "; done
  [ "$(tr ' ' '\n' <<< "$roles" | grep -c '^Leader$')" = 1 ] &&
    [ "$(tr ' ' '\n' <<< "$roles" | grep -c '^Follower$')" = 2 ] && break
  sleep 0.1
done
[ "$(tr ' ' '\n' <<< "$roles" | grep -c '^Follower$')" = 2 ] || fail "no Leader and 2 Followers: $roles"
leader=0
followers=()
for id in 1 2 3; do
  if [ "$(curl -s -m 2 "$(url "$id" '/status?HA')")" = Leader ]; then leader=$id; else followers+=("$id"); fi
done
follower=${followers[0]}
echo "leader $leader, followers ${followers[*]}"

# Writes through a follower (forwarded) and through the leader.
call PUT "$follower" /v1/kv/color --data-binary red
expect "a put through follower $follower" 200 '.outcome == "ok" and (.commit_counter | type == "number")'
red_at=$(field .commit_counter)
call PUT "$leader" /v1/kv/color --data-binary blue
expect "a put through the leader" 200 ".outcome == \"ok\" and .commit_counter > $red_at"
blue_at=$(field .commit_counter)
echo "puts: through the follower at commit point $red_at, through the leader at $blue_at"

call GET "$follower" /v1/kv/color
expect "a linearizable get at a follower" 200 \
  ".outcome == \"ok\" and .key == \"color\" and .value == \"blue\" and .version == $blue_at"
call GET "${followers[1]}" "/v1/kv/color?consistency=local&min_commit=$blue_at"
expect "a local get after min_commit" 200 '.value == "blue"'
call GET "$follower" "/v1/kv/color?at=$red_at"
expect "a historical get at the first put" 200 ".value == \"red\" and .commit_counter == $red_at"
call GET "$leader" "/v1/kv/color?at=$blue_at"
expect "a historical get at the second put" 200 '.value == "blue"'
call GET "$follower" "/v1/kv/color?consistency=local&min_commit=1000000000"
expect "a local get waiting for a commit point never reached" 503 '.outcome == "timeout"'
echo "gets: linearizable, local, historical (at=$red_at: red), timeout 503"

txn() {
  printf '{"conditions": [{"key": "color", "value_equals": "%s"}],
           "operations": [{"key": "color", "put": "green"}, {"key": "shade", "put": "%s"}]}' "$1" "$2"
}
call POST "$follower" /v1/txn --data-binary "$(txn blue light)"
expect "a txn whose condition holds" 200 '.outcome == "ok"'
call POST "$leader" /v1/txn --data-binary "$(txn blue dark)"
expect "a txn whose condition fails" 409 '.outcome == "condition_failed" and (.message | length > 0)'
call GET "$leader" /v1/kv/shade
expect "the failed txn wrote nothing" 200 '.value == "light"'
call POST "$follower" /v1/txn --data-binary \
  '{"conditions": [{"key": "nothing", "absent": true}], "operations": [{"key": "fresh", "put": "1"}]}'
expect "a txn on an absent key" 200 '.outcome == "ok"'
echo "txn: condition held 200, condition failed 409 and wrote nothing"

for letter in a b c d e; do
  call PUT "$leader" "/v1/kv/scan%2F$letter" --data-binary "value-$letter"
  expect "put scan/$letter" 200 '.outcome == "ok"'
done
scanned_at=$(field .commit_counter)
call GET "$follower" '/v1/scan?begin=scan%2F&end=scan0&limit=3'
expect "a scan with limit 3" 200 \
  '.outcome == "ok" and ([.entries[].key] == ["scan/a", "scan/b", "scan/c"]) and .entries[1].value == "value-b"'
call GET "$follower" "/v1/scan?begin=scan%2Fd&consistency=local&min_commit=$scanned_at&limit=10"
expect "a local scan from scan/d" 200 '[.entries[].key] == ["scan/d", "scan/e", "shade"]'
echo "scan: limit 3 gives scan/a..c"

call DELETE "$follower" /v1/kv/color
expect "a delete through a follower" 200 '.outcome == "ok"'
call GET "$leader" /v1/kv/color
expect "a get after the delete" 404 '.outcome == "not_found" and .key == "color"'
echo "delete: 200, then get 404"

printf '\xff\x00binary' > "$work/binary"
call PUT "$follower" /v1/kv/bin%FF --data-binary "@$work/binary"
expect "a put of binary bytes" 200 '.outcome == "ok"'
call GET "$leader" /v1/kv/bin%FF
expect "a binary value in UTF-8 JSON" 406 '.outcome == "not_acceptable"'
call GET "$leader" '/v1/kv/bin%FF?encoding=base64'
expect "a binary value in base64" 200 ".key == \"$(printf 'bin\xff' | base64)\" and .value == \"$(base64 < "$work/binary")\""
curl -s -m 10 -o "$work/raw" "$(url "$leader" '/v1/kv/bin%FF?encoding=raw')"
cmp -s "$work/raw" "$work/binary" || fail "?encoding=raw did not give back the bytes put"
echo "binary: 406 in UTF-8, base64 and raw give the bytes back"

call POST "$follower" /v1/txn --data-binary '{"operations": [{"key": "a", "put": '
expect "malformed JSON" 400 \
  '.outcome == "invalid" and (.message | startswith("the body is not JSON: ")) and (.message | contains("parse error at line 1"))'
call POST "$follower" /v1/txn --data-binary '{"operations": [{"key": "a", "value": "1"}]}'
expect "a misspelt operation" 400 '.message == "operations[0]: unknown field '"'value'"'"'
call GET "$follower" '/v1/kv/a?consistency=strong'
expect "a bad consistency" 400 '.message == "consistency='"'strong'"': linearizable or local"'
call PATCH "$follower" /v1/kv/a
[ "$(cat "$work/code")" = 405 ] || fail "PATCH: $(cat "$work/code")"
echo "malformed JSON, a misspelt field, a bad parameter: 400 with the reason; PATCH 405"

head -c $((1024 * 1024 + 1)) /dev/zero > "$work/big"
call PUT "$leader" /v1/kv/big --data-binary "@$work/big"
[ "$(cat "$work/code")" = 413 ] && grep -q 'exceeds 1048576 bytes' "$work/body" ||
  fail "an oversized body (Expect: 100-continue): $(cat "$work/code") $(body)"
call PUT "$leader" /v1/kv/big -H 'Expect:' --data-binary "@$work/big"
[ "$(cat "$work/code")" = 413 ] || fail "an oversized body sent at once: $(cat "$work/code") $(body)"
head -c $((1024 * 1024)) /dev/zero | tr '\0' x > "$work/full"
call PUT "$leader" /v1/kv/big --data-binary "@$work/full"
expect "a body of exactly 1 MiB" 200 '.outcome == "ok"'
echo "bodies: over 1 MiB 413 (with and without 100-continue), exactly 1 MiB 200"

# 32 local reads that wait for a commit point never reached fill the bound; the 33rd is busy.
waiting=()
for index in $(seq 32); do
  curl -s -m 20 -o "$work/wait$index" -w '%{http_code}' \
    "$(url "$follower" '/v1/kv/a?consistency=local&min_commit=1000000000')" > "$work/wait$index.code" &
  waiting+=($!)
done
sleep 1.5
call GET "$follower" /v1/kv/shade
expect "a request past 32 in flight" 503 '.outcome == "busy"'
for pid in "${waiting[@]}"; do wait "$pid" || true; done
for index in $(seq 32); do
  [ "$(cat "$work/wait$index.code")" = 503 ] || fail "waiting read $index: $(cat "$work/wait$index.code")"
done
call GET "$follower" /v1/kv/shade
expect "a request once the bound freed" 200 '.value == "light"'
echo "in flight: the 33rd request 503 busy, served again once the 32 ended"

# A write whose answer is lost: both followers paused, the leader cannot commit it.
for id in "${followers[@]}"; do kill -STOP "${pids[$((id - 1))]}"; done
call PUT "$leader" /v1/kv/lost --data-binary maybe
for id in "${followers[@]}"; do kill -CONT "${pids[$((id - 1))]}"; done
expect "a put while no quorum answers" 504 \
  '.outcome == "unknown" and (.message | contains("may or may not have committed"))'
echo "a write with no quorum: 504 unknown"

# After all that, every member serves writes and reads again.
for id in 1 2 3; do
  for _ in $(seq 100); do
    call PUT "$id" "/v1/kv/after$id" --data-binary "ok$id"
    [ "$(cat "$work/code")" = 200 ] && break
    sleep 0.1
  done
  expect "a put through member $id afterwards" 200 '.outcome == "ok"'
  call GET "$id" "/v1/kv/after$id"
  expect "a get through member $id afterwards" 200 ".value == \"ok$id\""
done
call GET "$leader" /v1/kv/lost
[[ "$(cat "$work/code")" == 200 || "$(cat "$work/code")" == 404 ]] ||
  fail "the lost write's key: $(cat "$work/code") $(body)"
for id in 1 2 3; do
  for _ in $(seq 100); do
    [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$(url "$id" /health)")" = 200 ] && break
    sleep 0.1
  done
  [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$(url "$id" /health)")" = 200 ] ||
    fail "member $id is not healthy at the end"
done
echo "afterwards: every member takes puts and gets, and is healthy"

# SIGTERM with an API request in flight: the request is answered 503 and the member exits 0 at
# once, not when the request's 10 s run out.
victim=${followers[1]}
curl -s -m 20 -o "$work/stopping" -w '%{http_code}' \
  "$(url "$victim" '/v1/kv/a?consistency=local&min_commit=1000000000')" > "$work/stopping.code" &
waiter=$!
sleep 0.5
kill -TERM "${pids[$((victim - 1))]}"
started=$SECONDS
status=0
wait "${pids[$((victim - 1))]}" || status=$?
[ "$status" = 0 ] || fail "member $victim exited $status after SIGTERM"
[ $((SECONDS - started)) -le 3 ] || fail "member $victim took $((SECONDS - started)) s to stop"
wait "$waiter" || true
[ "$(cat "$work/stopping.code")" = 503 ] && jq -e '.outcome == "unavailable"' "$work/stopping" > /dev/null ||
  fail "the request in flight at SIGTERM: $(cat "$work/stopping.code") $(cat "$work/stopping")"
echo "SIGTERM with a request in flight: 503 unavailable, exit 0 within $((SECONDS - started)) s"
