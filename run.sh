#!/usr/bin/env bash
# Sets everything up and runs quire's main job: a 3-member cluster.
#   ./run.sh                        a real local cluster: 3 quired daemons on 127.0.0.1:7101-7103
#                                   (HTTP status and metrics on 7201-7203), a short demo with the
#                                   quire CLI and curl, then a clean stop
#   ./run.sh --simulate             simulated 3-node run with faults, printing what happened
#   ./run.sh --simulate --seed 42   the same, for one seed (replays byte for byte)
# QUIRE_RUN_DATA=DIR keeps the members' data in DIR (default: a fresh temporary directory, removed
# at the end). See docs/operations.md.
set -euo pipefail
cd "$(dirname "$0")"

if [ "${1:-}" = "--simulate" ]; then
  shift
  bash scripts/setup.sh
  bash scripts/build.sh build/release Release quire-sim
  exec build/release/tools/quire-sim run --nodes 3 --seconds 30 "$@"
fi
if [ $# -gt 0 ]; then
  echo "run.sh: unknown argument '$1' (use --simulate [quire-sim flags] for the simulated run)" >&2
  exit 2
fi

bash scripts/setup.sh
bash scripts/build.sh build/release Release quired quire

bin=build/release/tools
ports=(7101 7102 7103 7201 7202 7203)
members="1=127.0.0.1:7101,2=127.0.0.1:7102,3=127.0.0.1:7103"
group=demo
token=5eed
pids=()

for port in "${ports[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "run.sh: port $port on 127.0.0.1 is busy (another quired, or another program);" \
      "stop it and run again" >&2
    exit 1
  fi
done

if [ -n "${QUIRE_RUN_DATA:-}" ]; then
  data=$QUIRE_RUN_DATA
  remove_data=0
  mkdir -p "$data"
else
  data=$(mktemp -d "${TMPDIR:-/tmp}/quire-run.XXXXXX")
  remove_data=1
fi

# Whatever happens, no daemon outlives this script.
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$remove_data" = 1 ]; then rm -rf "$data"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

quire() {
  "$bin/quire" --members "$members" --group "$group" --token "$token" "$@"
}

# Runs a CLI command, echoing it and its exit code.
show() {
  echo "\$ quire $*"
  local code=0
  quire "$@" 2>&1 || code=$?
  echo "  (exit $code)"
  return 0
}

show_logs() {
  for id in 1 2 3; do
    echo "--- member $id log ($data/n$id.log):"
    tail -n 20 "$data/n$id.log" || true
  done
}

echo "== starting 3 members of group '$group' (data in $data)"
for id in 1 2 3; do
  "$bin/quired" --id "$id" --members "$members" --group "$group" --token "$token" \
    --data-dir "$data/n$id" --http-listen "127.0.0.1:720$id" 2>"$data/n$id.log" &
  pids+=($!)
done

echo "== waiting for a leader"
leader_found=0
for _ in $(seq 1 100); do
  for index in 0 1 2; do
    if ! kill -0 "${pids[$index]}" 2>/dev/null; then
      echo "run.sh: member $((index + 1)) exited early" >&2
      show_logs >&2
      exit 1
    fi
  done
  if quire status >/dev/null 2>&1; then
    leader_found=1
    break
  fi
  sleep 0.3
done
if [ "$leader_found" != 1 ]; then
  echo "run.sh: no leader after 30 s" >&2
  quire status >&2 || true
  show_logs >&2
  exit 1
fi
show status

echo "== writes go to the leader; each is acknowledged once a majority made it durable"
show put greeting hello
show put planet earth
show put counter 1
echo "== linearizable reads (at the leader, confirmed by a quorum round)"
show get greeting
show get missing
echo "== compare-and-set: the first succeeds, the second finds the value changed"
show cas counter 1 2
show cas counter 1 3
show get counter
echo "== a range scan, and a local read at member 3 once it has reached commit point 4"
show scan a z
show get counter --local --member 3 --min-commit 4
show delete planet
echo "== a transaction: every operation or none, if its conditions hold; then the first write, as of"
echo "   commit point 1 (a historical read), and one answer as JSON"
show txn --if counter=2 --if-absent planet put counter 3 put planet mars
show txn --if counter=2 delete greeting
show get greeting --at 1
show --json get counter
show status

echo "== each member's HTTP endpoint: /status?HA, and one line of /metrics"
for id in 1 2 3; do
  ha=$(curl -s -m 5 "http://127.0.0.1:720$id/status?HA" || echo "(no answer)")
  commits=$(curl -s -m 5 "http://127.0.0.1:720$id/metrics" | grep '^quire_commits_total ' ||
    echo "(no answer)")
  echo "member $id: /status?HA $ha; /metrics $commits"
done
echo "\$ curl -s http://127.0.0.1:7201/status"
curl -s -m 5 "http://127.0.0.1:7201/status" || echo "(no answer)"

echo "== stopping the cluster (SIGTERM)"
failed=0
for index in 0 1 2; do
  kill -TERM "${pids[$index]}"
done
for index in 0 1 2; do
  code=0
  wait "${pids[$index]}" || code=$?
  echo "member $((index + 1)) exited with $code"
  if [ "$code" != 0 ]; then failed=1; fi
done
pids=()
if [ "$failed" != 0 ]; then
  show_logs >&2
  exit 1
fi
if [ "$remove_data" = 0 ]; then echo "data kept in $data"; fi
echo "== done"
