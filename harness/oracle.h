// The oracle: RocksDB (in memory) applies, commit point by commit point, exactly the transactions
// each committed write set carried (as its leader reported when it sealed it, in order), with the
// version of that commit point; after each, the journal's view of that commit point must hold the
// same keys, values and versions. The oracle also re-evaluates every transaction's conditions, so
// a leader that applied a transaction whose condition failed (or refused one whose conditions
// held) is caught, and it checks every point read (local and historical reads) against the state
// at the commit point the member said it read.
#pragma once

#include <vector>

#include "harness/finding.h"
#include "harness/observations.h"
#include "harness/workload.h"
#include "store/journal.h"

namespace quire::harness {

struct OracleStats {
  uint64_t commit_points = 0;
  uint64_t commit_points_compared = 0;
  uint64_t transactions_applied = 0;
  uint64_t point_reads_checked = 0;
};

// `journal`: the most advanced member's journal (a JournalCopy).
Findings check_against_oracle(store::Journal& journal, const Observations& observations,
                              const Workload& workload, OracleStats* stats = nullptr);

// Every acknowledged transaction is in the write set committed at the counter it was told, and
// the cluster reached that counter.
Findings check_durability(store::Journal& journal, const Observations& observations,
                          const Workload& workload);

}  // namespace quire::harness
