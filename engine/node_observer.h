// NodeObserver: what a node tells an onlooker (the simulator's checkers, a test) as it happens.
// Optional (NodeConfig::observer); every call is made on the node's own fibers, in the order the
// events happen, and must not suspend. Nothing in the node depends on what the observer does.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/core/replica.h"
#include "store/root_block.h"

namespace quire::engine {

// One transaction of a sealed write set, in the order it was applied to the pending layer.
struct SealedTransaction {
  uint64_t trace_id = 0;          // wire::Transaction.trace_id, chosen by the client (0: none).
  bool condition_failed = false;  // It changed nothing.
};

class NodeObserver {
 public:
  virtual ~NodeObserver() = default;
  // A commit point became durable here (commit, HALog replay, or the end of a rebuild).
  virtual void on_commit(NodeId node, const store::RootBlock& root) = 0;
  // Role, term, leader or commit counter changed.
  virtual void on_status(NodeId node, const core::ReplicaStatus& status) = 0;
  // As leader, this node sealed the transactions of write set `root.commit_counter`.
  virtual void on_sealed(NodeId node, const store::RootBlock& root,
                         const std::vector<SealedTransaction>& transactions) = 0;
  // The node set its unusable journal aside and starts empty: its commit points start over
  // (it rebuilds from a peer before it votes again).
  virtual void on_history_lost(NodeId node) = 0;
  // A named rare state was reached (coverage marks, docs/harness.md).
  virtual void on_mark(NodeId node, std::string_view mark) = 0;
  // This node sent its vote on write set `counter` (a PrepareResponse) to the leader. The
  // simulator's targeted crash points use it (docs/harness.md, "Swarm and budget").
  virtual void on_vote_sent(NodeId /*node*/, CommitCounter /*counter*/, bool /*yes*/) {}
};

}  // namespace quire::engine
