// NodeConfig: everything one member of a replication group is configured with. The daemon reads
// it from flags (docs/operations.md); the simulator builds it per node.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/core/config.h"
#include "engine/node_observer.h"
#include "engine/transport.h"
#include "engine/wire/wire.pb.h"
#include "store/journal.h"

namespace quire::engine {

struct NodeConfig {
  NodeId self;
  GroupIdentity group;
  std::vector<MemberAddress> members;  // Sorted by id; includes self.

  // One Tick input to the core per interval; the core's timeouts are counted in ticks.
  Duration tick_interval = Duration::milliseconds(10);
  core::ReplicaConfig protocol;  // self, members and seed are filled in by the node.
  store::JournalOptions journal;
  TransportOptions transport;

  // Bounds: under load the leader answers busy instead of queueing more.
  size_t inbox_capacity = 4096;
  size_t pending_transactions_max = 10'000;
  uint64_t pending_bytes_max = 64u << 20;
  size_t waiting_reads_max = 10'000;
  // The scrubber reads and verifies every committed byte once per pass: it paces a pass to last
  // about `scrub_pass_target`, never reading faster than `scrub_bytes_per_second` (0: off).
  Duration scrub_pass_target = Duration::seconds(600);
  uint64_t scrub_bytes_per_second = 8u << 20;
  // Bulk transfers.
  Duration fetch_timeout = Duration::seconds(5);
  uint64_t prefix_chunk_bytes = 1u << 20;

  // Told of commits, status changes and sealed write sets; may be null. Not owned.
  NodeObserver* observer = nullptr;
  // Fills in the disk figures of the member's status (MemberStatus.halog_files, halog_bytes,
  // disk_free_bytes); may be empty (the simulator: none reported). Called on the node's thread;
  // must not suspend. The daemon reads its data directory (tools/member_report.h): the engine
  // itself reaches the disk only through io::Disk, which has no free-space figure.
  std::function<void(wire::MemberStatus&)> describe_disk;

  // REQUIRES-style checks with clear messages. Errors: invalid_argument.
  Status validate() const;
  const MemberAddress* member(NodeId id) const;
  // The path of the file `name` in this member's data directory (journal.directory).
  std::string data_path(std::string_view name) const;
};

}  // namespace quire::engine
