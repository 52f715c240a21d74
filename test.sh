#!/usr/bin/env bash
# Sets everything up and runs the whole test suite with ctest: unit and property tests, the
# real-runtime tests, every scenario in scenarios/, the fuzz batch and the planted-bug tests (label
# planted: each checker must catch its planted bug within 100 seeds; scenarios/CMakeLists.txt).
#   ./test.sh                        build (RelWithDebInfo) and run every test
#   QUIRE_SANITIZE=1 ./test.sh       also build the sanitize-labelled tests under ASan + UBSan
#   QUIRE_FUZZ_SEEDS=50 ./test.sh    the fuzz batch's size (default 500 seeds of 60 s)
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh --test
bash scripts/build.sh build/test RelWithDebInfo
cmake build/test -DQUIRE_FUZZ_SEEDS="${QUIRE_FUZZ_SEEDS:-500}" > /dev/null
(cd build/test && ctest --output-on-failure -j "$(nproc)" --timeout 3000)
if [ "${QUIRE_SANITIZE:-0}" = "1" ]; then
  # Only what the sanitize label runs: the ASan build of everything would double CI's time.
  bash scripts/build.sh build/sanitize Sanitize \
    sim_test sim_conformance_test store_test io_real_test no_io_uring engine_core_test \
    engine_core_property_test engine_cluster_test engine_client_test engine_real_cluster_test \
    harness_linearizability_test harness_commit_safety_test harness_timeline_test \
    tools_bench_options_test \
    tools_http_request_test tools_quired_settings_test tools_quire_cli_test
  (cd build/sanitize && ctest --output-on-failure -j "$(nproc)" --timeout 3600 -L sanitize)
fi
