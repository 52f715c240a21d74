// What quired logs about its member (docs/operations.md, "Logs"): the daemon looks at the
// node every 100 ms on its runtime (snapshot_member) and MemberEvents turns what changed since
// the last look into events: role, term and leader changes, elections won and lost, resync and
// rebuild start / progress / end, read repairs, scrub passes and findings, HALog purges, a full
// disk, refused handshakes and rejected frames.
//
// Observing instead of a sink called by the engine keeps the engine and the simulator exactly as
// they were (the engine only counts, in DriverStats): a simulated run cannot change because of
// logging. The cost is that a change shorter than 100 ms and undone before the next look (a
// candidacy that lasted one tick) shows as its counters, not as its states.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/core/replica.h"
#include "engine/driver_stats.h"
#include "engine/node.h"
#include "engine/scrubber.h"
#include "engine/transport.h"
#include "tools/event_log.h"

namespace quire::tools {

// One look at the node's state and counters. Plain values, so that tests can make them.
struct MemberSnapshot {
  bool running = false;  // False while the node recovers or stops: only the rest is empty.
  engine::core::ReplicaStatus status;
  engine::DriverStats driver;
  engine::ScrubStats scrub;
  engine::TransportStats transport;
  uint64_t read_repairs = 0;
  uint64_t journal_end_bytes = 0;  // The committed end offset of the journal.
};

// REQUIRES: on the node's thread. Never suspends.
MemberSnapshot snapshot_member(const engine::Node& node);

class MemberEvents {
 public:
  explicit MemberEvents(EventLog& log) : log_(log) {}
  // Logs what changed since the previous snapshot. `now_ms`: any monotonic milliseconds (the
  // progress lines and rates use it). Never suspends.
  void observe(const MemberSnapshot& snapshot, int64_t now_ms);

 private:
  // A resync or a rebuild under way: where it began, for its progress and end lines.
  struct CatchUp {
    int64_t started_ms = 0;
    int64_t progress_logged_ms = 0;
    uint64_t committed_begin = 0;
    uint64_t halogs_replayed_begin = 0;
    uint64_t bytes_begin = 0;
  };

  void observe_leadership(const MemberSnapshot& now);
  void observe_elections(const MemberSnapshot& now);
  void observe_resync(const MemberSnapshot& now, int64_t now_ms);
  void observe_rebuild(const MemberSnapshot& now, int64_t now_ms);
  void observe_repairs(const MemberSnapshot& now);
  void observe_refusals(const MemberSnapshot& now);
  void observe_disk(const MemberSnapshot& now);

  EventLog& log_;
  std::optional<MemberSnapshot> last_;  // The previous running snapshot.
  uint64_t elections_lost_ = 0;
  std::optional<CatchUp> resync_;
  std::optional<CatchUp> rebuild_;
};

}  // namespace quire::tools
