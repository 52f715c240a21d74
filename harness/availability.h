// Availability: a client must not give up while the group could serve it. An operation the
// client gave up on (no definite answer before its deadline) is a finding when a member that the
// client could reach for the whole operation was leading in one term, and committing in it, from
// before the operation began until after it ended. Judged from the history (what each client
// could reach, Operation::reachable_throughout) and the members' reports (Observations).
// docs/harness.md, "Checkers".
#pragma once

#include "harness/finding.h"
#include "harness/history.h"
#include "harness/observations.h"

namespace quire::harness {

// A leader counts as serving an operation when it committed in its term within this long before
// the operation began and within this long after it ended, and led throughout.
inline constexpr Duration availability_commit_window = Duration::seconds(1);

Findings check_availability(const History& history, const Observations& observations);

}  // namespace quire::harness
