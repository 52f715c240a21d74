#!/usr/bin/env bash
# Goal: real processes. Each quired started with --http-listen answers /status?HA, /health,
# /status and /metrics as docs/operations.md says: one Leader and two Followers, healthy, JSON
# whose commit counters agree after puts, a Prometheus exposition promtool accepts whose
# quire_commits_total grows with the puts; malformed, oversized and non-GET requests get their
# 4xx and the member keeps serving; connections past the bound get 503; after SIGKILL of a
# follower the other two keep answering.
# Method: three quired on loopback (members 7480-7482 and HTTP 7485-7487 when free, else ports
# picked free), curl and bash's /dev/tcp as clients, jq for the JSON. Every wait is bounded;
# every process started here is stopped on exit.
# Usage: http_status_test.sh QUIRED QUIRE
set -euo pipefail
quired=$1
quire=$2
source "$(dirname "$0")/real_processes.sh"
for tool in curl jq; do
  command -v "$tool" > /dev/null || fail "$tool is missing (scripts/setup.sh installs it)"
done
all_free() { for port in "$@"; do port_free "$port" || return 1; done; }
base=7480
while ! all_free $base $((base + 1)) $((base + 2)) $((base + 5)) $((base + 6)) $((base + 7)); do
  base=$((20000 + RANDOM % 20000))
done
members="1=127.0.0.1:$base,2=127.0.0.1:$((base + 1)),3=127.0.0.1:$((base + 2))"
http_port() { echo $((base + 4 + $1)); }  # member id -> its HTTP port
cli=("$quire" --members "$members" --group real --token 5eed --timeout 10)

for id in 1 2 3; do
  "$quired" --id "$id" --members "$members" --group real --token 5eed --data-dir "$work/n$id" \
    --http-listen "127.0.0.1:$(http_port "$id")" >> "$work/n$id.log" 2>&1 &
  pids+=($!)
done

# get ID PATH: the body on stdout; the status code in $work/code.
get() {
  curl -s -m 5 -o "$work/body" -w '%{http_code}' "http://127.0.0.1:$(http_port "$1")$2" \
    > "$work/code" || echo 000 > "$work/code"
  cat "$work/body" 2>/dev/null || true
  rm -f "$work/body"
}
code() { cat "$work/code"; }
ha_roles() { for id in "$@"; do printf '%s ' "$(get "$id" '/status?HA')"; done; }

# A leader, and every member ready: one Leader, two Followers (a follower may be NotReady for a
# moment while it joins).
roles=""
for _ in $(seq 150); do
  roles=$(ha_roles 1 2 3)
  [ "$(tr ' ' '\n' <<< "$roles" | grep -c '^Leader$')" = 1 ] &&
    [ "$(tr ' ' '\n' <<< "$roles" | grep -c '^Follower$')" = 2 ] && break
  sleep 0.1
done
[ "$(tr ' ' '\n' <<< "$roles" | grep -c '^Leader$')" = 1 ] || fail "no single Leader: $roles"
[ "$(tr ' ' '\n' <<< "$roles" | grep -c '^Follower$')" = 2 ] || fail "not two Followers: $roles"
echo "/status?HA: $roles"
leader=0
for id in 1 2 3; do [ "$(get "$id" '/status?HA')" = Leader ] && leader=$id; done

for id in 1 2 3; do
  reason=$(get "$id" /health)
  [ "$(code)" = 200 ] || fail "/health of member $id: $(code) $reason"
done
echo "/health: 200 on every member"

commits() { get "$1" /metrics | awk '$1 == "quire_commits_total" { print $2 }'; }
declare -A before
for id in 1 2 3; do
  before[$id]=$(commits "$id")
  [ -n "${before[$id]}" ] || fail "member $id's /metrics has no quire_commits_total"
done
for index in $(seq 1 10); do
  "${cli[@]}" put "http$index" "value$index" > /dev/null 2>> "$work/cli.log" ||
    fail "put http$index failed"
done
counters=""
for _ in $(seq 100); do
  counters=""
  for id in 1 2 3; do
    json=$(get "$id" /status)
    jq -e . <<< "$json" > /dev/null || fail "member $id's /status is not JSON: $json"
    counters+="$(jq -r .commit_counter <<< "$json") "
  done
  [ "$(tr ' ' '\n' <<< "$counters" | sort -u | grep -c .)" = 1 ] && break
  sleep 0.1
done
[ "$(tr ' ' '\n' <<< "$counters" | sort -u | grep -c .)" = 1 ] ||
  fail "commit counters differ after the puts: $counters"
json=$(get "$leader" /status)
for field in role term commit_counter lag leader joined halog.count halog.bytes halog.retention \
  journal_bytes disk_free_bytes read_repairs scrub.passes scrub.repairs; do
  jq -e "has(\"${field%%.*}\")" <<< "$json" > /dev/null || fail "/status lacks $field: $json"
done
[ "$(jq -r .role <<< "$json")" = Leader ] || fail "the leader's /status: $json"
[ "$(jq -r '.joined | length' <<< "$json")" = 2 ] || fail "the leader does not list 2 joined: $json"
echo "/status: JSON, commit counters equal ($counters)"

for id in 1 2 3; do
  after=$(commits "$id")
  [ "$after" -ge $((before[$id] + 10)) ] ||
    fail "member $id: quire_commits_total went from ${before[$id]} to $after over 10 puts"
done
echo "quire_commits_total grew by at least 10 on every member"

get "$leader" /metrics > "$work/metrics.txt"
# The rules promtool checks that matter most, checked here too so that a machine without it
# still tests them: every sample's family has HELP and TYPE, counters end in _total, names
# start with quire_.
awk '
  /^# HELP / { help[$3] = 1; next }
  /^# TYPE / { type[$3] = $4; next }
  /^#/ { next }
  {
    name = $1; sub(/\{.*/, "", name); family = name
    if (!(family in type)) sub(/_(bucket|sum|count)$/, "", family)
    if (!(family in help) || !(family in type)) { print "no HELP/TYPE for " name; bad = 1 }
    if (type[family] == "counter" && family !~ /_total$/) { print "counter " family; bad = 1 }
    if (family !~ /^quire_/) { print "not quire_: " family; bad = 1 }
  }
  END { exit bad }' "$work/metrics.txt" || fail "/metrics breaks the exposition rules"
if command -v promtool > /dev/null; then
  promtool check metrics < "$work/metrics.txt" > "$work/promtool.log" 2>&1 ||
    fail "promtool check metrics: $(cat "$work/promtool.log")"
  echo "/metrics: promtool check metrics passes"
else
  echo "SKIP: promtool not installed (Debian's prometheus package; ./test.sh installs it):" \
    "/metrics checked by this script's own rules only"
fi

# raw ID BYTES...: sends the bytes on a fresh connection, prints the response's status line.
raw() {
  local id=$1
  shift
  exec {fd}<> "/dev/tcp/127.0.0.1/$(http_port "$id")"
  printf '%s' "$@" >&"$fd" || true
  local line=""
  IFS= read -r -t 5 line <&"$fd" || true
  exec {fd}>&-
  printf '%s' "${line%$'\r'}"
}
expect_status() {  # description expected actual
  [[ "$3" == "HTTP/1.1 $2 "* ]] || fail "$1: expected $2, got '$3'"
}
expect_status "garbage" 400 "$(raw "$leader" $'garbage\r\n\r\n')"
expect_status "binary" 400 "$(raw "$leader" $'\x01\x02\x03\xff\r\n\r\n')"
expect_status "an oversized head" 431 "$(raw "$leader" "GET /status?$(head -c 9000 /dev/zero | tr '\0' A) HTTP/1.1"$'\r\n\r\n')"
expect_status "a body" 400 "$(raw "$leader" $'GET /status HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd')"
get "$leader" /nowhere > /dev/null
[ "$(code)" = 404 ] || fail "an unknown path: $(code)"
curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$(http_port "$leader")/status" \
  > "$work/code" || true
[ "$(code)" = 405 ] || fail "a POST: $(code)"
[ "$(get "$leader" '/status?HA')" = Leader ] || fail "the leader stopped serving after bad requests"
echo "garbage and binary 400, oversized 431, a body 400, unknown path 404, POST 405; still serving"

# 64 idle connections fill the bound: the next one gets 503; once they close, 200 again.
idle=()
for _ in $(seq 64); do
  exec {fd}<> "/dev/tcp/127.0.0.1/$(http_port "$leader")"
  idle+=("$fd")
done
sleep 0.3
get "$leader" '/status?HA' > /dev/null
[ "$(code)" = 503 ] || fail "a connection past the bound of 64: $(code)"
for fd in "${idle[@]}"; do exec {fd}>&-; done
for _ in $(seq 50); do
  get "$leader" '/status?HA' > /dev/null
  [ "$(code)" = 200 ] && break
  sleep 0.1
done
[ "$(code)" = 200 ] || fail "the bound did not free up: $(code)"
echo "connection 65 refused with 503; served again once the 64 closed"

# SIGKILL one follower: the others keep answering, the majority keeps its leader.
victim=1
[ "$leader" = 1 ] && victim=2
kill -9 "${pids[$((victim - 1))]}"
wait "${pids[$((victim - 1))]}" 2>/dev/null || true
get "$victim" '/status?HA' > /dev/null
[ "$(code)" = 000 ] || fail "the killed member still answers: $(code)"
others=()
for id in 1 2 3; do [ "$id" != "$victim" ] && others+=("$id"); done
for id in "${others[@]}"; do
  get "$id" /metrics > /dev/null
  [ "$(code)" = 200 ] || fail "member $id's /metrics after the kill: $(code)"
done
"${cli[@]}" put after kill > /dev/null 2>> "$work/cli.log" || fail "no write after the kill"
roles=$(ha_roles "${others[@]}")
[ "$(tr ' ' '\n' <<< "$roles" | grep -c '^Leader$')" = 1 ] ||
  fail "after killing member $victim: $roles"
for id in "${others[@]}"; do
  get "$id" /health > /dev/null
  [ "$(code)" = 200 ] || fail "member $id's /health after the kill: $(code)"
done
echo "after SIGKILL of member $victim: members ${others[*]} answer ($roles), /health 200"
