# Sourced by the real-process tests of this folder: a scratch folder, the processes started in
# it (stopped with SIGKILL on exit), fail() that shows the members' logs, and `base`, the first
# of four free loopback ports (the search starts at QUIRE_TEST_PORT_BASE when set), and
# wait_for_leader. REQUIRES: `set -euo pipefail` in the caller.
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for log in "$work"/*.log; do echo "--- $log" >&2; tail -20 "$log" >&2; done
  exit 1
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# QUIRE_TEST_PORT_BASE, when set, is where the search starts (to keep runs in a range of ports).
base=${QUIRE_TEST_PORT_BASE:-$((20000 + RANDOM % 20000))}
while ! port_free "$base" || ! port_free $((base + 1)) || ! port_free $((base + 2)) ||
  ! port_free $((base + 3)); do
  base=$((base + 10))
done
# wait_for_leader CLI...: until `CLI... status` succeeds (a leader answers), at most 10 s.
wait_for_leader() {
  for _ in $(seq 100); do
    "$@" status > /dev/null 2>&1 && return 0
    sleep 0.1
  done
  "$@" status > /dev/null || fail "no leader within 10 s"
}
