#!/usr/bin/env bash
# Configures (once) and builds quire. Usage: scripts/build.sh <build dir> <build type> [targets...]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=$1
build_type=$2
shift 2
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type"
fi
cmake --build "$build_dir" -j "$(nproc)" ${1:+--target "$@"}
