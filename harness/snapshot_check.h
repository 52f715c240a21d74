// Snapshot roll-forward: a snapshot of a member's journal at one commit point, rolled forward by
// its HALogs, equals the live journal at every later commit point it reaches.
#pragma once

#include "harness/finding.h"
#include "store/journal.h"

namespace quire::harness {

Findings check_snapshot_roll_forward(store::Journal& journal, const store::JournalOptions& options);

}  // namespace quire::harness
