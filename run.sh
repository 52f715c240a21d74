#!/usr/bin/env bash
# Sets everything up and runs quire's main job: a 3-node cluster.
#   ./run.sh              simulated 3-node run with faults, printing what happened
#   ./run.sh --seed 42    the same, for one seed (replays byte for byte)
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
bash scripts/build.sh build/release Release quire-sim
exec build/release/tools/quire-sim run --nodes 3 --seconds 30 "$@"
