// ScheduledFaults: strikes the faults a scenario names at their virtual times, optionally waiting
// for a trigger (the leader streaming or preparing a write set), and undoes each after its length.
// Everything is healed at the heal time, as the random injector does.
#pragma once

#include <string>
#include <vector>

#include "harness/cluster.h"
#include "sim/fault_injector.h"

namespace quire::harness {

class ScheduledFaults {
 public:
  // `injector` strikes the kinds that only it knows (partition_with_clients, halog_rot,
  // crash_after_yes), within its plan's budget. REQUIRES: the cluster and the injector outlive
  // this object.
  ScheduledFaults(SimCluster& cluster, std::vector<ScheduledFault> faults, uint64_t seed,
                  sim::FaultInjector* injector = nullptr);

  void schedule(Instant heal_at);
  const std::vector<std::string>& log() const { return log_; }

 private:
  void wait_then_strike(size_t index, Instant give_up_at);
  bool triggered(const ScheduledFault& fault) const;
  void strike(const ScheduledFault& fault);
  // The member a fault names (its index in the world), or nullopt when it names the leader and
  // there is none.
  std::optional<size_t> target(uint32_t member, bool follower = false) const;
  void note(std::string text);
  void heal_everything();

  SimCluster& cluster_;
  std::vector<ScheduledFault> faults_;
  sim::FaultInjector* injector_;
  Rng rng_;
  Instant heal_at_;
  std::vector<std::string> log_;
  std::vector<uint64_t> capacities_;
};

}  // namespace quire::harness
