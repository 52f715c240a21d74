// ClusterSpec: everything that defines one simulated run: the cluster, the engine's timing, the
// workload and the faults. A seed draws one (swarm testing: each seed turns some fault kinds and
// workload mixes on and others off); a scenario file states one; both replay exactly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/base/ids.h"
#include "sim/fault_injector.h"

namespace quire::harness {

struct WorkloadMix {
  // Relative weights of the operations clients issue.
  uint32_t reads = 3;             // Linearizable reads at the leader.
  uint32_t writes = 3;            // Blind puts.
  uint32_t compare_and_sets = 2;  // Conditional puts on value or version.
  uint32_t removes = 1;
  uint32_t transactions = 1;      // Multi-key, with conditions.
  uint32_t local_reads = 2;       // Any member, with a minimum commit counter (read-your-writes).
  uint32_t historical_reads = 1;  // A retained commit point.
  uint32_t key_count = 8;         // Small, so that operations contend.
  uint32_t large_value_percent = 2;  // Values of 20..200 KiB.
  Duration think_time_max = Duration::milliseconds(20);
  // Each operation from a new engine::Client, as the CLI does (one process per command): its own
  // first guess of the leader and fresh connections. Off: one long-lived client per session,
  // which learns the leader once and keeps its connection.
  bool fresh_client_per_operation = false;
  // How long a client's reads wait at one member before they are asked again, fixed
  // (engine::ClientOptions::read_attempt_timeout and its limit both set to it). The simulated
  // clients keep the 1 s that engine::Client had before its reads started at 300 ms and doubled:
  // a patient client still waits when a paused leader wakes up not knowing it was deposed, the
  // moment a read without its confirming round answers stale, and with the new default
  // PlantedBug::linearizable_read_without_quorum went uncaught in seeds 1 to 100 (it is caught
  // about once in 100 to 200 seeds either way: docs/harness.md).
  Duration read_attempt_timeout = Duration::seconds(1);
};

// A fault at a virtual time, from a scenario file (harness/scenario.proto, Fault).
struct ScheduledFault {
  enum class Trigger : uint8_t { now, leader_streaming, leader_preparing, leader_known };
  Duration at;
  Trigger trigger = Trigger::now;
  std::string kind;
  Duration length;
  uint32_t member = 0;  // 0: the leader when it strikes (or, with `follower`, a non-leader).
  bool follower = false;
  uint32_t other = 0;
  std::vector<uint32_t> group;
  double probability = 0.0;
  int64_t drift_ppm = 0;
  Duration wall_offset;
  std::string path;
  uint32_t count = 1;
};

struct ClusterSpec {
  uint64_t seed = 1;
  uint32_t member_count = 3;
  uint32_t client_count = 3;
  // Clients and faults run for `duration`; then faults heal and the liveness bound starts.
  Duration duration = Duration::seconds(60);
  Duration liveness_bound = Duration::seconds(30);
  // While the clients run (from the first acknowledged write to the heal), no stretch without an
  // acknowledged write may last longer than this: a liveness failure otherwise. Zero: unchecked.
  Duration write_stall_max;

  // Engine timing.
  Duration tick_interval = Duration::milliseconds(10);
  uint64_t heartbeat_interval_ticks = 5;
  uint64_t election_timeout_ticks_min = 30;
  uint64_t election_timeout_ticks_max = 60;
  uint64_t prepare_timeout_ticks = 20;
  uint64_t halog_retention_count_max = 0;
  uint32_t block_size_bytes = 64 * 1024;

  WorkloadMix workload;
  sim::FaultPlan faults;  // Random faults (none enabled: none).
  std::vector<ScheduledFault> scheduled_faults;
  // Breaks the fault budget on purpose: the cluster may stop, but must never answer wrongly.
  bool over_budget = false;
  // The simulator picks a random ready fiber at each step; false runs them in FIFO order (one
  // interleaving: what quire-sim shrink tries, to take scheduler choices out of a failure).
  bool shuffle_fibers = true;

  // Draws every parameter from `seed` (docs/harness.md, "Swarm and budget").
  static ClusterSpec draw(uint64_t seed);
  // One line per parameter, for the head of a report.
  std::string describe() const;
};

}  // namespace quire::harness
