#!/usr/bin/env bash
# Goal: a user's failure reproduces on a developer's machine whatever the build (issue 12 item
# 5): one seed and a few scenario files give the same trace hash from every quire-sim given,
# for example the RelWithDebInfo, Release and Sanitize builds (test.sh passes those three when
# QUIRE_SANITIZE=1). The scenarios are short ones that reach the disk faults (latent sector
# errors, a failed fsync the page cache hid, a misdirected root block) and every fault at once.
# Usage: replay_anywhere_test.sh QUIRE_SIM QUIRE_SIM...
set -euo pipefail
[ "$#" -ge 2 ] || { echo "usage: $0 QUIRE_SIM QUIRE_SIM..." >&2; exit 2; }
scenarios="$(cd "$(dirname "$0")/../../scenarios" && pwd)"
runs=("run --seed 1"
  "replay $scenarios/bug_a_latent_sector_error_kept_a_member_restarting.scenario"
  "replay $scenarios/bug_page_cache_hid_a_failed_fsync.scenario"
  "replay $scenarios/bug_misdirected_root_block.scenario"
  "replay $scenarios/over_budget_mayhem.scenario")
failed=0
for run in "${runs[@]}"; do
  reference=""
  for sim in "$@"; do
    # shellcheck disable=SC2086 # $run is a command and its arguments.
    hash=$("$sim" $run 2>&1 | grep -o 'hash [0-9a-f]*' | head -1 || true)
    [ -n "$hash" ] || { echo "FAIL: $sim $run printed no trace hash" >&2; failed=1; continue; }
    if [ -z "$reference" ]; then
      reference=$hash
    elif [ "$hash" != "$reference" ]; then
      echo "FAIL: $sim $run: $hash, but $1 gave $reference" >&2
      failed=1
    fi
  done
  echo "replay anywhere: ${run##*/}: $reference from $# builds"
done
exit "$failed"
