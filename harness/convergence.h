// Convergence: at the end of a run every member holds the same commit point, and the same
// committed bytes. Committed bytes never change, so equal data regions at the end mean equal
// bytes at every commit point on the way (the root-block slots may differ in term and commit
// time after a re-proposal: docs/protocol.md, "Why it is safe").
#pragma once

#include <map>

#include "harness/finding.h"
#include "harness/journal_copy.h"

namespace quire::harness {

// `journals`: every member's journal copy, by member.
Findings check_convergence(std::map<NodeId, std::unique_ptr<JournalCopy>>& journals);

}  // namespace quire::harness
