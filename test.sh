#!/usr/bin/env bash
# Sets everything up and runs the whole test suite with ctest.
#   ./test.sh                 build (RelWithDebInfo) and run every test
#   QUIRE_SANITIZE=1 ./test.sh   also build and test under ASan + UBSan
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
bash scripts/build.sh build/test RelWithDebInfo
(cd build/test && ctest --output-on-failure -j "$(nproc)" --timeout 1800)
if [ "${QUIRE_SANITIZE:-0}" = "1" ]; then
  bash scripts/build.sh build/sanitize Sanitize
  (cd build/sanitize && ctest --output-on-failure -j "$(nproc)" --timeout 3600 -L sanitize)
fi
