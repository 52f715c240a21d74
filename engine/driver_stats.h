// DriverStats: what the driver counts while it executes the core's effects, for the daemon's
// metrics (docs/operations.md, "HTTP: status, health and metrics"). Counted in the driver, never
// in engine/core: the core stays a pure state machine and these numbers decide nothing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "io/base/assert.h"
#include "io/base/ids.h"

namespace quire::engine {

// A fixed-bucket latency histogram in the shape Prometheus exposes (cumulative buckets with an
// upper bound each, a count and a sum), so that the exposition is a copy, not a computation.
class LatencyBuckets {
 public:
  // Upper bounds in microseconds, from a fast local commit (0.5 ms) to a stalled one (10 s).
  static constexpr std::array<int64_t, 14> upper_bounds_us = {
      500,     1'000,   2'500,   5'000,     10'000,    25'000,    50'000,
      100'000, 250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000};

  void record(Duration latency) {
    const int64_t us = latency.us() < 0 ? 0 : latency.us();
    size_t index = 0;
    while (index < upper_bounds_us.size() && us > upper_bounds_us[index])
      index++;
    counts_[index]++;
    count_++;
    sum_us_ += us;
    QUIRE_ASSERT(count_ >= counts_[index]);
  }
  // Observations at or below upper_bounds_us[index] (index == size: all of them).
  uint64_t cumulative_count(size_t index) const {
    QUIRE_ASSERT(index <= upper_bounds_us.size());
    uint64_t total = 0;
    for (size_t each = 0; each <= index; each++)
      total += counts_[each];
    return total;
  }
  uint64_t count() const { return count_; }
  int64_t sum_us() const { return sum_us_; }

 private:
  std::array<uint64_t, upper_bounds_us.size() + 1> counts_{};  // The last: above every bound.
  uint64_t count_ = 0;
  int64_t sum_us_ = 0;
};

struct DriverStats {
  // Commit points this member made durable, however (commit, HALog replay, rebuild): the sum of
  // the steps its commit counter took.
  uint64_t commit_points = 0;
  // As leader: write sets sealed, and those acknowledged (committed on a quorum).
  uint64_t write_sets_sealed = 0;
  uint64_t write_sets_acknowledged = 0;
  // As leader: from sealing a write set (or re-proposing it) to its acknowledgement.
  LatencyBuckets commit_latency;
  // Bytes of write-cache blocks this member handed to the transport for the next member of the
  // pipeline: the leader's sends and a follower's relays.
  uint64_t bytes_replicated = 0;
  // Catch-up: episodes of resync (HALog replay), HALogs replayed, rebuilds started and finished.
  uint64_t resyncs_started = 0;
  uint64_t halogs_replayed = 0;
  uint64_t rebuilds_started = 0;
  uint64_t rebuilds_completed = 0;
  // HALogs from a peer that failed their checksums or structure on replay.
  uint64_t halog_checksum_failures = 0;
  // Elections this member started (it became a candidate) and won (it became the leader).
  uint64_t elections_started = 0;
  uint64_t elections_won = 0;
  // The rebuild under way (or the last one): bytes of the peer's committed prefix installed so
  // far, of its bytes_total. Reset when a rebuild starts; the daemon logs its progress.
  uint64_t rebuild_bytes_installed = 0;
  uint64_t rebuild_bytes_total = 0;
  // HALog purges this member executed, and the commit counter the last one purged through.
  uint64_t halog_purges = 0;
  uint64_t halogs_purged_through = 0;
  // Journal writes that found the disk full (no_space), fatal or not.
  uint64_t disk_full_errors = 0;
};

}  // namespace quire::engine
