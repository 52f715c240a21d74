// FaultInjector: draws faults at random times for one run, within a budget, each kind on its own
// switch (swarm testing: a seed turns some kinds on and others off). Every fault it injects is
// undone by `heal_at`, so that a liveness check can demand recovery afterwards; clock drift and
// damage at rest (rot, bad sectors) stay, for the cluster to live with and mend. Scheduled
// faults (scenarios) call the World directly instead. See docs/io.md, "Faults".
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/base/rng.h"
#include "sim/world.h"

namespace quire::sim {

enum class FaultKind : uint8_t {
  partition,             // Symmetric: the nodes split into two groups.
  asymmetric_partition,  // One direction of one link.
  isolate,               // One node cut off from all.
  slow_network,          // The latency tail grows for a while.
  connection_reset,      // One live connection breaks.
  clog,                  // One link holds its frames, then delivers them.
  bit_flip,              // Frames flip bits in flight for a while.
  crash,                 // A node crashes and restarts later.
  pause,                 // A GC pause.
  clock_skew,            // Clock drift and a wall-clock jump.
  bit_rot,               // A durable bit flips at rest.
  latent_sector_error,   // A sector becomes unreadable.
  misdirected_write,     // Writes land elsewhere for a while.
  sync_failure,          // Syncs fail (dropping dirty data) for a while.
  full_disk,             // The disk fills up for a while.
  // Drawn per seed from a stream of their own (ClusterSpec::draw), so that the kinds above draw
  // as they did before these existed.
  partition_with_clients,  // A partition with each client on one side, some with the minority.
  halog_rot,               // A durable bit of an HALog file flips at rest.
  crash_after_yes,         // Buggify: once a leader commits, its YES voters lose power.
};
inline constexpr size_t fault_kind_count = 18;
// The kinds FaultPlan::swarm draws; the rest are drawn by ClusterSpec::draw.
inline constexpr size_t fault_kind_count_first = 15;

const char* fault_kind_name(FaultKind kind);
// Parses a name of fault_kind_name(); false if unknown.
bool parse_fault_kind(std::string_view name, FaultKind* kind);

struct FaultPlan {
  std::array<bool, fault_kind_count> enabled{};
  // Mean time between two faults (exponential).
  Duration mean_interval = Duration::seconds(2);
  // How long a transient fault (partition, pause, clog, window of disk faults) lasts at most.
  Duration duration_max = Duration::seconds(4);
  // Budget: at most this many nodes are faulty at once (down, paused, cut off). Disk corruption
  // strikes only the first `max_faulty_nodes` nodes of a drawn order, so that a majority of
  // copies of every block stays intact.
  size_t max_faulty_nodes = 1;
  // Inclusive bounds of clock drift drawn by clock_skew.
  int64_t drift_ppm_max = 200;
  Duration wall_clock_jump_max = Duration::seconds(10);

  bool on(FaultKind kind) const { return enabled[static_cast<size_t>(kind)]; }
  void set(FaultKind kind, bool value = true) { enabled[static_cast<size_t>(kind)] = value; }
  void enable_all() { enabled.fill(true); }
  // A random subset of kinds (each on with probability one half) and rates.
  static FaultPlan swarm(Rng& rng);
  std::string describe() const;
};

class FaultInjector {
 public:
  // Faults strike the world's first `target_count` nodes (those there now by default): nodes added
  // later (clients, say) are left alone. REQUIRES: the world outlives the injector.
  FaultInjector(World& world, FaultPlan plan, uint64_t seed, size_t target_count = SIZE_MAX);

  // Schedules faults from `begin` until `heal_at`, when everything heals and every crashed node
  // restarts.
  void schedule(Instant begin, Instant heal_at);
  // Strikes one fault of `kind` now, within the budget (a scenario's scheduled fault of a kind
  // that only this class knows how to strike). REQUIRES: schedule() was called.
  void strike(FaultKind kind) { inject(kind); }

  // Who leads now (a world index), for the faults that aim at the leader; unset: nobody known.
  void set_leader_probe(std::function<std::optional<size_t>()> probe) {
    leader_probe_ = std::move(probe);
  }

  // Targeted crash points (FoundationDB's buggify), fed by the harness from the nodes' observer.
  // `node` sent a YES vote for write set `counter`.
  void on_yes_sent(size_t node, uint64_t counter);
  // `node` made commit point `counter` durable.
  void on_commit(size_t node, uint64_t counter);
  const FaultPlan& plan() const { return plan_; }
  // One line per injected fault, in order (also in the world's trace).
  const std::vector<std::string>& log() const { return log_; }
  uint64_t injected(FaultKind kind) const { return counts_[static_cast<size_t>(kind)]; }
  // The nodes whose disks may be corrupted.
  const std::vector<size_t>& disk_fault_nodes() const { return disk_fault_nodes_; }

 private:
  void inject_next();
  void inject(FaultKind kind);
  bool take_budget(size_t node);  // False if the node is already faulty or the budget is spent.
  void release_budget(size_t node);
  // The target nodes in a random order.
  std::vector<size_t> shuffled_targets();
  // Takes the budget of every node, or of none (false).
  bool take_budget_of_all(const std::vector<size_t>& nodes);
  // At `until`, unblocks every link between the sides and releases the budget of the first
  // `budgeted_count` nodes of `minority` (the members; client nodes take none).
  void heal_partition_at(Instant until, std::vector<size_t> minority, std::vector<size_t> majority,
                         size_t budgeted_count);
  size_t random_node() { return static_cast<size_t>(rng_.uniform(target_count_)); }
  Duration random_duration();
  void note(FaultKind kind, std::string text);
  void heal_everything();

  World& world_;
  size_t target_count_;
  FaultPlan plan_;
  Rng rng_;
  Instant heal_at_;
  std::vector<bool> faulty_;
  std::vector<size_t> disk_fault_nodes_;
  std::vector<std::string> log_;
  std::array<uint64_t, fault_kind_count> counts_{};
  std::vector<uint64_t> original_capacity_;
  // crash_after_yes: armed by the Poisson process, struck by the next commit that had YES votes.
  std::function<std::optional<size_t>()> leader_probe_;
  bool yes_crash_armed_ = false;
  uint64_t yes_counter_ = 0;
  std::vector<size_t> yes_voters_;
};

}  // namespace quire::sim
