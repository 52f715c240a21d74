// Observations: what the members of a simulated cluster told the harness as the run went
// (engine::NodeObserver): every commit point each member reached, status changes, the
// transactions of every sealed write set, and coverage marks. The checkers read them after the
// run; the timeline draws them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/replica.h"
#include "engine/node_observer.h"
#include "store/root_block.h"

namespace quire::harness {

struct CommitObservation {
  Instant time;
  store::RootBlock root;
  // Not a commit: the member set its journal aside here and starts over (its disk lost its
  // history; NodeObserver::on_history_lost). `root` is empty.
  bool history_lost = false;
};

struct StatusObservation {
  Instant time;
  engine::core::ReplicaStatus status;
};

struct SealedWriteSet {
  NodeId leader;
  Instant time;
  store::RootBlock root;
  std::vector<engine::SealedTransaction> transactions;
};

struct Observations {
  std::map<NodeId, std::vector<CommitObservation>> commits;
  std::map<NodeId, std::vector<StatusObservation>> statuses;
  // By (counter, write-set hash): a write set is identified by its bytes, whatever the term of
  // the root block that committed it.
  std::map<std::pair<uint64_t, uint64_t>, SealedWriteSet> sealed;
  std::map<std::string, uint64_t> marks;
  std::vector<std::string> node_exits;  // "n2 at 12.3s: io_error: fsync failed on journal"
};

}  // namespace quire::harness
