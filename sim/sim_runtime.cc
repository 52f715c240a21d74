#include "sim/sim_runtime.h"

#include "sim/fabric.h"
#include "sim/world.h"

namespace quire::sim {

SimRuntime::SimRuntime(World& world, size_t node, uint64_t generation, DiskImage& disk_image,
                       DiskModel& disk_model)
    : world_(world),
      node_(node),
      generation_(generation),
      rng_(split_seed(world.seed(), "node", node * 1'000'003 + generation)),
      disk_rng_(split_seed(world.seed(), "disk", node * 1'000'003 + generation)),
      disk_(disk_image, disk_model, disk_rng_, this),
      network_(world.fabric().endpoint(*this, node)) {}

SimRuntime::~SimRuntime() {
  QUIRE_ASSERT(scheduler_.fiber_count() == 0);
  for (auto& [id, timer] : timers_)
    world_.cancel(timer.event);
}

const std::string& SimRuntime::name() const {
  return world_.node_name(node_);
}

Instant SimRuntime::now() const {
  return world_.local_time(node_, world_.now());
}

int64_t SimRuntime::wall_clock_ns() const {
  return world_.wall_clock_ns(node_);
}

io::TimerId SimRuntime::add_timer(Instant deadline, std::function<void()> callback) {
  const io::TimerId timer = next_timer_++;
  timers_.emplace(timer, Timer{0, deadline, std::move(callback)});
  arm(timer, deadline);
  return timer;
}

void SimRuntime::arm(io::TimerId timer, Instant deadline) {
  const Instant when = std::max(world_.now(), world_.world_time(node_, deadline));
  timers_.at(timer).event = world_.schedule(
      when,
      [this, timer] {
        auto found = timers_.find(timer);
        QUIRE_ASSERT(found != timers_.end());
        // The drift may have changed since the timer was armed: fire only once the node's own
        // clock has reached the deadline, as the contract says.
        if (now() < found->second.deadline) {
          arm(timer, found->second.deadline);
          return;
        }
        std::function<void()> callback = std::move(found->second.callback);
        timers_.erase(found);
        callback();
      },
      node_, generation_);
}

void SimRuntime::cancel_timer(io::TimerId timer) {
  auto found = timers_.find(timer);
  if (found == timers_.end()) return;
  world_.cancel(found->second.event);
  timers_.erase(found);
}

void SimRuntime::trace(std::string_view event) {
  world_.trace_event(node_, event);
}

}  // namespace quire::sim
