// Commit safety: no two different write sets ever commit at one counter on any members, and no
// member's commit counter or term goes back. Judged from the commits and statuses the members
// reported as they happened (Observations), so that a divergence that later heals is still seen.
#pragma once

#include "harness/finding.h"
#include "harness/observations.h"

namespace quire::harness {

Findings check_commit_safety(const Observations& observations);

}  // namespace quire::harness
