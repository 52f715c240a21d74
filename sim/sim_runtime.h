// SimRuntime: one process of a simulated node. It lives from World::start() to World::crash();
// the node's disk image, clock and identity belong to the World and outlive it.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "io/runtime.h"
#include "sim/sim_disk.h"

namespace quire::sim {

class World;

class SimRuntime : public io::Runtime {
 public:
  SimRuntime(World& world, size_t node, uint64_t generation, DiskImage& disk_image,
             DiskModel& disk_model);
  ~SimRuntime() override;

  const std::string& name() const override;
  Instant now() const override;
  int64_t wall_clock_ns() const override;
  io::TimerId add_timer(Instant deadline, std::function<void()> callback) override;
  void cancel_timer(io::TimerId timer) override;
  io::Scheduler& scheduler() override { return scheduler_; }
  io::Disk& disk() override { return disk_; }
  io::Network& network() override { return *network_; }
  Rng& rng() override { return rng_; }
  void trace(std::string_view event) override;

  size_t node() const { return node_; }
  uint64_t generation() const { return generation_; }
  World& world() { return world_; }
  SimDisk& sim_disk() { return disk_; }

 private:
  void arm(io::TimerId timer, Instant deadline);

  World& world_;
  size_t node_;
  uint64_t generation_;
  io::Scheduler scheduler_;
  Rng rng_;
  Rng disk_rng_;
  SimDisk disk_;
  std::unique_ptr<io::Network> network_;
  struct Timer {
    uint64_t event;
    Instant deadline;
    std::function<void()> callback;
  };
  std::unordered_map<io::TimerId, Timer> timers_;  // Looked up by id only.
  io::TimerId next_timer_ = 1;
};

}  // namespace quire::sim
