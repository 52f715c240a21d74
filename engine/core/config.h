// ReplicaConfig: what a member of a replication group needs to know to run the protocol. Times
// are in ticks; the driver turns its clock into one Tick input per tick interval.
#pragma once

#include <cstdint>
#include <vector>

#include "io/base/ids.h"

namespace quire::engine::core {

struct ReplicaConfig {
  NodeId self;
  // The electable members, self included, in the order that makes the pipeline.
  std::vector<NodeId> members;
  uint64_t seed = 0;  // For the randomized election timeouts.

  uint64_t heartbeat_interval_ticks = 5;
  uint64_t election_timeout_ticks_min = 30;
  uint64_t election_timeout_ticks_max = 60;
  // A write set not committed this long after it was sent re-forms the pipeline and is re-sent;
  // a follower waiting for missing blocks votes NO after it.
  uint64_t prepare_timeout_ticks = 20;
  // A follower that stops making catch-up progress for this long tries another peer.
  uint64_t catch_up_stall_ticks = 40;
  // Keep at most this many HALogs past the lowest committed counter of all members; older ones
  // go, and a member that needs them rebuilds. 0: no cap.
  uint64_t halog_retention_count_max = 0;

  size_t member_count() const { return members.size(); }
  bool is_member(NodeId node) const;
};

}  // namespace quire::engine::core
