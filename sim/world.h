// World: one simulated universe in one thread. It owns virtual time, the event heap, the seeded
// random streams, every node (its disk image, clock and current process) and the network fabric.
// step() either resumes one ready fiber of a running node (chosen by the seeded scheduler RNG) or,
// when no fiber is ready, advances time to the next event. Equal seed and equal calls give equal
// traces, byte for byte. See docs/io.md, "Simulator".
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "io/base/rng.h"
#include "io/runtime.h"
#include "sim/disk_image.h"
#include "sim/sim_disk.h"
#include "sim/trace.h"

namespace quire::sim {

class SimRuntime;
class Fabric;

struct NetworkModel {
  Duration latency_min = Duration::microseconds(50);
  Duration latency_max = Duration::microseconds(500);
  // A slow tail: with this probability a frame takes up to `slow_max` more.
  double slow_probability = 0.0;
  Duration slow_max = Duration::milliseconds(50);
  // Per delivered frame: one random bit of it flips.
  double bit_flip_probability = 0.0;
  // A frame held by a blocked link for this long breaks its connection (TCP gives up).
  Duration retransmit_timeout = Duration::seconds(2);
  // How often a held frame or an unanswered connect tries again.
  Duration retransmit_interval = Duration::milliseconds(200);
  // Bytes a sender may have in flight or unread on one connection before send() waits.
  uint64_t send_buffer_bytes = 4 * 1024 * 1024;
};

struct WorldOptions {
  uint64_t seed = 0;
  NetworkModel network;
  CrashFates crash_fates;
  // Pick a random ready fiber at each step (explores interleavings) instead of FIFO order.
  bool shuffle_fibers = true;
  TraceOptions trace;
  // Wall clocks start here (2026-01-01), plus each node's offset.
  int64_t wall_clock_origin_ns = 1'767'225'600'000'000'000;
  // For the determinism test: one hidden extra draw of the network's stream once the trace
  // reaches this event index (0: never).
  uint64_t plant_divergence_at_event = 0;
};

class World {
 public:
  using NodeMain = std::function<void(io::Runtime&)>;
  // Stands for the world itself where a node index is expected (world events, trace lines).
  // Not node_count(): nodes may be added while events wait.
  static constexpr size_t world_node = SIZE_MAX;

  explicit World(WorldOptions options);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // Adds a node that is down until start(). Its host name is `name`; its disk is empty.
  size_t add_node(std::string name, NodeMain main, DiskModel disk_model = {});
  size_t node_count() const { return nodes_.size(); }
  const std::string& node_name(size_t node) const;
  // Returns the index of the node whose host name is `name`, or node_count().
  size_t find_node(std::string_view name) const;

  // Starts a fresh process that runs `main` as fiber "main". REQUIRES: the node is down.
  void start(size_t node);
  // Every fiber of the node vanishes, its connections close, its timers are dropped, and its
  // disk decides the fate of every unsynced write. No effect on a node that is down.
  void crash(size_t node);
  // crash() then start().
  void restart(size_t node);
  // A power loss: crash() with every unsynced write lost, whatever the world's crash fates say
  // (what a member promised durable and did not sync is gone).
  void lose_power(size_t node);
  // A GC pause: the node's fibers do not run until now() + duration; time and the network go on.
  void pause(size_t node, Duration duration);
  // The node's monotonic clock runs fast (positive) or slow by this many parts per million.
  void set_clock_drift_ppm(size_t node, int64_t drift_ppm);
  // The node's wall clock differs from the world's by `offset` (it may jump).
  void set_wall_clock_offset(size_t node, Duration offset);
  bool is_up(size_t node) const;
  bool is_paused(size_t node) const;
  uint64_t generation(size_t node) const;  // Starts so far.
  // Whether `from` and `to` can talk now: both up and running, no link between them blocked.
  bool reaches(size_t from, size_t to) const;
  // Counts every change that may cut one node off from another (a crash, start or pause, a link
  // blocked, clogged or unblocked, connections reset). Equal at two instants: what reaches()
  // said at the first held all along (the availability checker's witness, docs/harness.md).
  uint64_t reach_changes() const { return reach_changes_; }
  io::Runtime* runtime(size_t node);  // Null while down.
  DiskImage& disk_image(size_t node);
  DiskModel& disk_model(size_t node);

  // Network faults. Links are directed: block_link(a, b) stops frames from a to b.
  Fabric& fabric() { return *fabric_; }
  NetworkModel& network_model() { return options_.network; }
  void block_link(size_t from, size_t to);
  void unblock_link(size_t from, size_t to);
  // Splits the nodes into groups that cannot reach each other (symmetric).
  void partition(const std::vector<std::vector<size_t>>& groups);
  void isolate(size_t node);
  void heal_network();
  // Frames from `from` to `to` are held (not lost) until now() + duration.
  void clog_link(size_t from, size_t to, Duration duration);
  // Resets every connection of `node` (both ends see closed). Returns how many.
  size_t reset_connections(size_t node);
  // Resets one random live connection; false if there is none.
  bool reset_random_connection();

  // Virtual time and the loop.
  Instant now() const { return now_; }
  // Runs `action` on the loop at `time` (a scheduled fault, a workload step). REQUIRES: time >=
  // now().
  void at(Instant time, std::function<void()> action);
  // One fiber resume or one event. False when nothing is left to do.
  bool step();
  // Steps until now() reaches `deadline` (time then stands at `deadline`).
  void run_until(Instant deadline);
  // Steps until `done()` or `deadline`; returns done().
  bool run_until(const std::function<bool()>& done, Instant deadline);
  void run_for(Duration duration) { run_until(now_ + duration); }

  Trace& trace() { return trace_; }
  void trace_event(size_t node, std::string_view event);  // world_node: the world.
  uint64_t seed() const { return options_.seed; }
  const WorldOptions& options() const { return options_; }
  // A stream for faults and workloads that the scheduler's draws do not disturb.
  Rng& fault_rng() { return fault_rng_; }
  uint64_t steps() const { return steps_; }

  // Used by SimRuntime and the fabric.
  using EventId = uint64_t;
  EventId schedule(Instant time, std::function<void()> action, size_t node, uint64_t generation);
  void cancel(EventId event);
  // Local clock of `node` at world time `time`, and the inverse (rounded up).
  Instant local_time(size_t node, Instant time) const;
  Instant world_time(size_t node, Instant local) const;
  int64_t wall_clock_ns(size_t node) const;

 private:
  struct Node;
  void crash_with(size_t node, const CrashFates& fates);
  struct HeapEntry {
    Instant time;
    uint64_t sequence;
    EventId event;
    bool operator>(const HeapEntry& other) const {
      return time != other.time ? time > other.time : sequence > other.sequence;
    }
  };
  struct PendingEvent {
    std::function<void()> action;
    size_t node;  // world_node for world events.
    uint64_t generation;
  };

  bool run_one_fiber();
  bool runnable(const Node& node) const;
  void install_assertion_context();

  WorldOptions options_;
  Instant now_;
  Rng scheduler_rng_;
  Rng fault_rng_;
  Trace trace_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::unique_ptr<Fabric> fabric_;
  std::priority_queue<HeapEntry, std::vector<HeapEntry>, std::greater<>> heap_;
  std::unordered_map<EventId, PendingEvent> pending_;  // Looked up by id only: deterministic.
  uint64_t next_sequence_ = 1;
  uint64_t steps_ = 0;
  uint64_t reach_changes_ = 0;
  bool divergence_planted_ = false;
  std::vector<uint64_t> ready_counts_;  // run_one_fiber's scratch, by node index.
  size_t running_node_;                 // The node whose fiber runs now, or world_node.
};

}  // namespace quire::sim
