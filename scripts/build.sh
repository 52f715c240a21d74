#!/usr/bin/env bash
# Configures (once) and builds quire. Usage: scripts/build.sh <build dir> <build type> [targets...]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=$1
build_type=$2
shift 2
# The project's own builds treat warnings as errors (QUIRE_WERROR, README "Building by hand"); a
# build folder configured before that option existed is switched on too.
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" -DQUIRE_WERROR=ON
elif ! grep -q '^QUIRE_WERROR:BOOL=ON$' "$build_dir/CMakeCache.txt"; then
  cmake -B "$build_dir" -DQUIRE_WERROR=ON > /dev/null
fi
cmake --build "$build_dir" -j "$(nproc)" ${1:+--target "$@"}
