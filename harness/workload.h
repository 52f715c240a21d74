// Workload: the simulated clients. Each client is a node of its own with one engine::Client; it
// issues operations drawn from the spec's mix until a stop time and records each one, with its
// invocation and completion times and its outcome, in a History (harness/history.h) that the
// linearizability checker judges. Reads that are not linearizable by contract (local reads at a
// minimum commit counter, historical reads) go to a list of their own, which the oracle checks
// against the state at the commit point they report.
#pragma once

#include <cstdint>
#include <vector>

#include "harness/cluster.h"
#include "harness/history.h"

namespace quire::harness {

// A read answered at one commit point by one member.
struct PointRead {
  uint32_t client = 0;
  uint64_t id = 0;
  NodeId member;
  Instant invoke;
  Instant complete;
  CommitCounter min_commit_counter;  // Local reads: the least it had to reflect.
  CommitCounter commit_counter;      // The commit point the member read.
  bool historical = false;
  std::vector<ReadResult> results;
};

struct WorkloadCounts {
  uint64_t issued = 0;
  uint64_t ok = 0;
  uint64_t failed = 0;
  uint64_t unknown = 0;
  uint64_t condition_failed = 0;
  uint64_t point_reads = 0;
};

class Workload {
 public:
  // REQUIRES: the cluster outlives the workload's clients (they run in its world).
  explicit Workload(SimCluster& cluster);

  // Adds the spec's clients; they issue operations until `stop_at`.
  void start(Instant stop_at);
  // Adds a client that puts one key until a put commits, then sets `*committed`; its operations
  // join the history like any other (the liveness probe).
  void start_probe(bool* committed);
  // Completes operations still in flight as unknown (the run ended before their answer).
  void finish();

  const History& history() const { return history_; }
  const std::vector<PointRead>& point_reads() const { return point_reads_; }
  const WorkloadCounts& counts() const { return counts_; }
  // The operation of `trace_id` (the operation's id), or null.
  const Operation* operation(uint64_t trace_id) const;

 private:
  void run_client(io::Runtime& runtime, uint32_t client, Instant stop_at);
  // The members `client_node` reaches now, and the world's count of reach changes.
  struct ReachWitness {
    uint64_t changes = 0;
    std::vector<NodeId> members;
  };
  ReachWitness witness_reach(size_t client_node) const;
  // Fills recorded.reachable_throughout if nothing that cuts nodes off changed since `witness`.
  void settle_reach(Operation& recorded, const ReachWitness& witness) const;

  SimCluster& cluster_;
  History history_;
  std::vector<size_t> in_flight_;  // Indexes into history_ of operations awaiting an answer.
  std::vector<PointRead> point_reads_;
  WorkloadCounts counts_;
  uint64_t next_id_ = 1;
};

}  // namespace quire::harness
