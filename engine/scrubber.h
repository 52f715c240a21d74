// Scrubber: finds rot in this member's committed bytes before anything reads them, and repairs it
// from a peer. It walks the committed data region block by block, at a bounded rate
// (NodeConfig::scrub_bytes_per_second), verifying each block's header and checksum; a block that
// fails, or whose header no longer says how long it is, is fetched whole from a peer whose copy
// verifies and rewritten in place (Journal::repair). A pass covers the committed region as it
// stood when the pass began; then the next pass starts over. Without it, rot and misdirected
// writes in bytes nobody reads would stay until a snapshot or a rebuild tripped on them. A block no
// peer holds a good copy of is reported to the driver (core::DataDamaged): the member leaves the
// quorum and rebuilds.
//
// One fiber ("scrub"), started by the node. Suspends.
#pragma once

#include <cstdint>
#include <optional>

#include "engine/node_config.h"
#include "engine/replica_driver.h"
#include "engine/transport.h"
#include "io/runtime.h"
#include "io/sync.h"
#include "store/journal.h"

namespace quire::engine {

struct ScrubStats {
  uint64_t passes_completed = 0;
  Instant last_pass_started;
  Instant last_pass_completed;
  // When the last completed pass began: every committed byte older than this was verified.
  Instant last_complete_pass_started;
  uint64_t blocks_verified = 0;
  uint64_t blocks_failed = 0;  // Found bad here (checksum, header or unreadable), before repair.
  uint64_t blocks_repaired = 0;
  uint64_t blocks_unrepairable = 0;
};

class Scrubber {
 public:
  Scrubber(io::Runtime& runtime, const NodeConfig& config, store::Journal& journal,
           ReplicaDriver& driver, Transport& transport);

  // Scrubs until stop(). Suspends.
  void run();
  // Ends run() soon, waking it from its pacing sleep.
  void stop();
  const ScrubStats& stats() const { return stats_; }

 private:
  // Verifies the block at `offset`; returns its length, or repairs it and returns the length of
  // the repaired span. Errors: the block is bad here and no peer holds a good copy.
  Result<uint64_t> check_block(uint64_t offset, uint64_t end);
  // The length of the block at `offset` if it verifies here and ends by `end`.
  std::optional<uint64_t> verifies_here(uint64_t offset, uint64_t end);
  // `installs_before_read`: Journal::installs_finished() before the read that failed.
  Result<uint64_t> repair_block(uint64_t offset, uint64_t installs_before_read);
  // The verified block at `offset` as `member` holds it.
  Result<Bytes> fetch_block_from(NodeId member, uint64_t offset, Instant deadline);
  // Whether a repair span that ends at `end` should take the block there too.
  bool span_goes_on(uint64_t end);
  // The good block at `offset` as `member` holds it, and the blocks after it that this member
  // needs too (span_goes_on), up to about 1 MiB more, fetched as one byte range.
  Result<Bytes> fetch_span_from(NodeId member, uint64_t offset, Instant deadline);
  // Sleeps so that `bytes` more scrubbed bytes keep the rate, or until stop(). Suspends.
  void pace(uint64_t bytes);
  // Sleeps for `length`, or until stop(). Suspends.
  void rest(Duration length);

  io::Runtime& runtime_;
  const NodeConfig& config_;
  store::Journal& journal_;
  ReplicaDriver& driver_;
  io::Mutex& journal_mutex_;
  Transport& transport_;
  ScrubStats stats_;
  io::Event stopping_;
};

}  // namespace quire::engine
