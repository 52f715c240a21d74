#!/usr/bin/env bash
# Sets everything up and runs the whole test suite with ctest: unit and property tests, the
# real-runtime tests, every scenario in scenarios/, the fuzz batch and the planted-bug tests (label
# planted: each checker must catch its planted bug within 100 seeds; scenarios/CMakeLists.txt).
#   ./test.sh                        build (RelWithDebInfo) and run every test
#   QUIRE_SANITIZE=1 ./test.sh       also build the sanitize-labelled tests under ASan + UBSan, and
#                                    check that traces replay the same in the Release and
#                                    Sanitize builds (tests/sim/replay_anywhere_test.sh)
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
    tools_http_request_test tools_kv_json_test tools_quired_settings_test tools_event_log_test \
    tools_quire_cli_test quire-sim
  (cd build/sanitize && ctest --output-on-failure -j "$(nproc)" --timeout 3600 -L sanitize)
  # Replay anywhere: the same seed and scenarios give the same trace hash in the RelWithDebInfo,
  # Release and Sanitize builds (CI's .ci/run has built the Release one already).
  bash scripts/build.sh build/release Release quire-sim
  bash tests/sim/replay_anywhere_test.sh build/test/tools/quire-sim build/release/tools/quire-sim \
    build/sanitize/tools/quire-sim
fi
