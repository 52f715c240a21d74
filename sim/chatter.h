// Chatter: a workload of the io layer alone, for the simulator's own tests and benchmarks. Every
// node listens, echoes what it receives, and keeps a client fiber that talks to random peers and a
// writer fiber that appends, syncs and re-reads a log file. Every error any fault can cause is
// tolerated (counted, then retried), so the workload runs under every fault kind.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/world.h"

namespace quire::sim {

struct ChatterCounts {
  uint64_t frames_echoed = 0;
  uint64_t round_trips = 0;
  uint64_t network_errors = 0;
  uint64_t disk_writes = 0;
  uint64_t disk_errors = 0;
  uint64_t starts = 0;
};

inline constexpr uint16_t chatter_port = 7000;

// The node main for World::add_node(); `peers` are the host names it talks to. `counts` must
// outlive the world's run.
World::NodeMain chatter_main(ChatterCounts& counts, std::vector<std::string> peers);

}  // namespace quire::sim
