#!/bin/sh
# Goal: quire-sim shrink reduces a failing seed to a smaller scenario that fails the same way, and
# that passes once the bug is gone (the file expects PASS).
# Method: the planted bug resync_never_starts makes seed 1 fail liveness; shrink it; the file must
# be shorter than the seed's run, fail on replay with the bug (exit 128, liveness), and pass
# without it. Usage: shrink_test.sh QUIRE_SIM_PLANTED SCRATCH_DIRECTORY
set -eu
sim="$1"
scratch="$2"
mkdir -p "$scratch"
shrunk="$scratch/shrunk.scenario"
rm -f "$shrunk"
"$sim" shrink --plant resync_never_starts --seed 1 --seconds 30 --out "$shrunk" > "$scratch/shrink.log"
grep -q "fails: liveness" "$scratch/shrink.log"
if grep -q "duration_ms: 30000" "$shrunk"; then
  echo "shrink_test: the run was not shortened" >&2
  cat "$shrunk" >&2
  exit 1
fi
set +e
"$sim" replay "$shrunk" --plant resync_never_starts > "$scratch/replay.log"
code=$?
set -e
if [ "$code" != 128 ] || ! grep -q "FAIL liveness" "$scratch/replay.log"; then
  echo "shrink_test: the shrunk scenario does not fail as the seed did (exit $code)" >&2
  cat "$scratch/replay.log" >&2
  exit 1
fi
"$sim" replay "$shrunk" > "$scratch/fixed.log"
echo "shrink_test: $(grep -c "same failure: kept" "$scratch/shrink.log") reductions kept"
