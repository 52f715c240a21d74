#include "sim/world.h"

#include <algorithm>

#include "io/base/text.h"
#include "sim/fabric.h"
#include "sim/sim_runtime.h"

namespace quire::sim {

struct World::Node {
  std::string name;
  NodeMain main;
  DiskImage disk_image;
  DiskModel disk_model;
  std::unique_ptr<SimRuntime> process;
  uint64_t generation = 0;
  Instant paused_until;
  // The local monotonic clock is anchor_local + (world - anchor_world) * (1e6 + drift) / 1e6.
  Instant anchor_world;
  Instant anchor_local;
  int64_t drift_ppm = 0;
  Duration wall_offset;
};

World::World(WorldOptions options)
    : options_(options),
      scheduler_rng_(split_seed(options.seed, "scheduler")),
      fault_rng_(split_seed(options.seed, "faults")),
      trace_(options.trace),
      fabric_(std::make_unique<Fabric>(*this, split_seed(options.seed, "network"))),
      running_node_(world_node) {
  install_assertion_context();
}

World::~World() {
  // Processes first (their fibers may still hold connections into the fabric), then the events
  // that captured them.
  for (size_t node = 0; node < nodes_.size(); node++) {
    if (nodes_[node]->process != nullptr) {
      nodes_[node]->process->scheduler().kill_all();
      nodes_[node]->process.reset();
    }
  }
  pending_.clear();
  set_assertion_context(nullptr);
}

void World::install_assertion_context() {
  set_assertion_context([this] {
    std::string where =
        concat("simulation seed=", options_.seed, " time=", format_time(now_), " step=", steps_);
    if (running_node_ < nodes_.size()) {
      where +=
          concat(" node=", nodes_[running_node_]->name, " fiber=", io::Scheduler::current_name());
    }
    return where;
  });
}

size_t World::add_node(std::string name, NodeMain main, DiskModel disk_model) {
  QUIRE_ASSERT(find_node(name) == nodes_.size());
  auto node = std::make_unique<Node>();
  node->name = std::move(name);
  node->main = std::move(main);
  node->disk_model = disk_model;
  node->anchor_world = now_;
  node->anchor_local = now_;
  nodes_.push_back(std::move(node));
  return nodes_.size() - 1;
}

const std::string& World::node_name(size_t node) const {
  static const std::string world_name = "world";
  return node < nodes_.size() ? nodes_[node]->name : world_name;
}

size_t World::find_node(std::string_view name) const {
  for (size_t node = 0; node < nodes_.size(); node++) {
    if (nodes_[node]->name == name) return node;
  }
  return nodes_.size();
}

void World::start(size_t node) {
  QUIRE_ASSERT(node < nodes_.size());
  Node& target = *nodes_[node];
  QUIRE_ASSERT(target.process == nullptr);
  target.generation++;
  reach_changes_++;
  target.process = std::make_unique<SimRuntime>(*this, node, target.generation, target.disk_image,
                                                target.disk_model);
  trace_event(node, concat("process start generation ", target.generation));
  SimRuntime* runtime = target.process.get();
  NodeMain& main = target.main;
  runtime->spawn("main", [&main, runtime] { main(*runtime); });
}

void World::crash(size_t node) {
  crash_with(node, options_.crash_fates);
}

void World::lose_power(size_t node) {
  crash_with(node, CrashFates{.keep = 0.0, .lose = 1.0, .tear = 0.0});
}

void World::crash_with(size_t node, const CrashFates& fates) {
  QUIRE_ASSERT(node < nodes_.size());
  QUIRE_ASSERT(running_node_ == world_node);  // Never from inside the node's own fibers.
  Node& target = *nodes_[node];
  if (target.process == nullptr) return;
  reach_changes_++;
  running_node_ = node;
  target.process->scheduler().kill_all();
  target.process.reset();
  running_node_ = world_node;
  fabric_->reset_node(node);
  const uint64_t damaged = target.disk_image.crash(fault_rng_, fates);
  target.paused_until = Instant();
  trace_event(node, concat("process crash; unsynced writes lost or torn: ", damaged));
}

void World::restart(size_t node) {
  crash(node);
  start(node);
}

void World::pause(size_t node, Duration duration) {
  QUIRE_ASSERT(node < nodes_.size());
  QUIRE_ASSERT(duration >= Duration());
  Node& target = *nodes_[node];
  target.paused_until = std::max(target.paused_until, now_ + duration);
  reach_changes_++;
  // Makes time reach the end of the pause even if nothing else is scheduled.
  schedule(
      target.paused_until, [] {}, world_node, 0);
  trace_event(node, concat("pause for ", duration.ms(), "ms"));
}

void World::set_clock_drift_ppm(size_t node, int64_t drift_ppm) {
  QUIRE_ASSERT(node < nodes_.size());
  QUIRE_ASSERT(drift_ppm > -1'000'000);
  Node& target = *nodes_[node];
  target.anchor_local = local_time(node, now_);
  target.anchor_world = now_;
  target.drift_ppm = drift_ppm;
  trace_event(node, concat("clock drift ", drift_ppm, "ppm"));
}

void World::set_wall_clock_offset(size_t node, Duration offset) {
  QUIRE_ASSERT(node < nodes_.size());
  nodes_[node]->wall_offset = offset;
  trace_event(node, concat("wall clock offset ", offset.ms(), "ms"));
}

bool World::is_up(size_t node) const {
  return nodes_.at(node)->process != nullptr;
}

bool World::reaches(size_t from, size_t to) const {
  return is_up(from) && is_up(to) && !is_paused(from) && !is_paused(to) &&
         !fabric_->blocked(from, to) && !fabric_->blocked(to, from);
}

bool World::is_paused(size_t node) const {
  return nodes_.at(node)->paused_until > now_;
}

uint64_t World::generation(size_t node) const {
  return nodes_.at(node)->generation;
}

io::Runtime* World::runtime(size_t node) {
  return nodes_.at(node)->process.get();
}

DiskImage& World::disk_image(size_t node) {
  return nodes_.at(node)->disk_image;
}

DiskModel& World::disk_model(size_t node) {
  return nodes_.at(node)->disk_model;
}

Instant World::local_time(size_t node, Instant time) const {
  const Node& target = *nodes_.at(node);
  const __int128 elapsed = time.ns() - target.anchor_world.ns();
  const __int128 scaled = elapsed * (1'000'000 + target.drift_ppm) / 1'000'000;
  return Instant::from_ns(target.anchor_local.ns() + static_cast<int64_t>(scaled));
}

Instant World::world_time(size_t node, Instant local) const {
  const Node& target = *nodes_.at(node);
  const __int128 elapsed = local.ns() - target.anchor_local.ns();
  const __int128 rate = 1'000'000 + target.drift_ppm;
  __int128 scaled = elapsed * 1'000'000 / rate;
  if (scaled * rate < elapsed * 1'000'000) scaled++;  // Round up: never fire early.
  const __int128 result = target.anchor_world.ns() + scaled;
  return Instant::from_ns(result > INT64_MAX ? INT64_MAX : static_cast<int64_t>(result));
}

int64_t World::wall_clock_ns(size_t node) const {
  return options_.wall_clock_origin_ns + local_time(node, now_).ns() +
         nodes_.at(node)->wall_offset.ns();
}

void World::block_link(size_t from, size_t to) {
  reach_changes_++;
  fabric_->set_blocked(from, to, true);
  trace_event(world_node, concat("net block ", node_name(from), "->", node_name(to)));
}

void World::unblock_link(size_t from, size_t to) {
  reach_changes_++;
  fabric_->set_blocked(from, to, false);
  trace_event(world_node, concat("net unblock ", node_name(from), "->", node_name(to)));
}

void World::partition(const std::vector<std::vector<size_t>>& groups) {
  reach_changes_++;
  std::vector<size_t> group_of(nodes_.size(), SIZE_MAX);
  for (size_t group = 0; group < groups.size(); group++) {
    for (size_t node : groups[group])
      group_of.at(node) = group;
  }
  for (size_t from = 0; from < nodes_.size(); from++) {
    for (size_t to = 0; to < nodes_.size(); to++) {
      if (from != to && group_of[from] != group_of[to]) fabric_->set_blocked(from, to, true);
    }
  }
  std::string text = "net partition";
  for (const auto& group : groups) {
    text += " {";
    for (size_t node : group)
      text += concat(" ", node_name(node));
    text += " }";
  }
  trace_event(world_node, text);
}

void World::isolate(size_t node) {
  reach_changes_++;
  for (size_t other = 0; other < nodes_.size(); other++) {
    if (other == node) continue;
    fabric_->set_blocked(node, other, true);
    fabric_->set_blocked(other, node, true);
  }
  trace_event(world_node, concat("net isolate ", node_name(node)));
}

void World::heal_network() {
  reach_changes_++;
  fabric_->heal();
  trace_event(world_node, "net heal");
}

void World::clog_link(size_t from, size_t to, Duration duration) {
  reach_changes_++;
  fabric_->clog(from, to, now_ + duration);
  trace_event(world_node, concat("net clog ", node_name(from), "->", node_name(to), " for ",
                                 duration.ms(), "ms"));
}

size_t World::reset_connections(size_t node) {
  reach_changes_++;
  return fabric_->reset_node(node);
}

bool World::reset_random_connection() {
  reach_changes_++;
  return fabric_->reset_random();
}

void World::at(Instant time, std::function<void()> action) {
  QUIRE_ASSERT(time >= now_);
  schedule(time, std::move(action), world_node, 0);
}

World::EventId World::schedule(Instant time, std::function<void()> action, size_t node,
                               uint64_t generation) {
  QUIRE_ASSERT(time >= now_);
  const EventId event = next_sequence_++;
  heap_.push(HeapEntry{time, event, event});
  pending_.emplace(event, PendingEvent{std::move(action), node, generation});
  return event;
}

void World::cancel(EventId event) {
  pending_.erase(event);
}

bool World::runnable(const Node& node) const {
  return node.process != nullptr && node.paused_until <= now_ &&
         node.process->scheduler().ready_count() > 0;
}

bool World::run_one_fiber() {
  // Each node's ready count, read once: this runs at every step of the simulation.
  ready_counts_.resize(nodes_.size());
  uint64_t total = 0;
  for (size_t index = 0; index < nodes_.size(); index++) {
    const Node& node = *nodes_[index];
    ready_counts_[index] = runnable(node) ? node.process->scheduler().ready_count() : 0;
    total += ready_counts_[index];
  }
  if (total == 0) return false;
  if (!divergence_planted_ && options_.plant_divergence_at_event != 0 &&
      trace_.event_count() >= options_.plant_divergence_at_event) {
    divergence_planted_ = true;
    // A hidden extra draw, as a nondeterministic bug would make: it shifts every later latency.
    fabric_->rng().next_u64();
  }
  uint64_t pick = options_.shuffle_fibers ? scheduler_rng_.uniform(total) : 0;
  for (size_t index = 0; index < nodes_.size(); index++) {
    if (pick >= ready_counts_[index]) {
      pick -= ready_counts_[index];
      continue;
    }
    Node& node = *nodes_[index];
    io::Scheduler& scheduler = node.process->scheduler();
    const size_t ready_index = static_cast<size_t>(pick);
    trace_.record_switch(now_, node.name, scheduler.ready_id(ready_index),
                         scheduler.ready_name(ready_index));
    running_node_ = index;
    scheduler.run_one(ready_index);
    running_node_ = world_node;
    return true;
  }
  QUIRE_UNREACHABLE();
}

bool World::step() {
  steps_++;
  if (run_one_fiber()) return true;
  while (!heap_.empty()) {
    const HeapEntry top = heap_.top();
    heap_.pop();
    auto found = pending_.find(top.event);
    if (found == pending_.end()) continue;  // Cancelled.
    PendingEvent event = std::move(found->second);
    pending_.erase(found);
    if (event.node != world_node) {
      const Node& node = *nodes_[event.node];
      if (node.process == nullptr || node.generation != event.generation) continue;  // Stale.
    }
    QUIRE_ASSERT(top.time >= now_);
    now_ = top.time;
    running_node_ = event.node;
    event.action();
    running_node_ = world_node;
    return true;
  }
  return false;
}

void World::run_until(Instant deadline) {
  for (;;) {
    bool fiber_ready = false;
    for (const auto& node : nodes_)
      fiber_ready = fiber_ready || runnable(*node);
    if (!fiber_ready) {
      // Skip cancelled entries so that the next real event decides whether to stop.
      while (!heap_.empty() && !pending_.contains(heap_.top().event))
        heap_.pop();
      if (heap_.empty() || heap_.top().time > deadline) break;
    }
    step();
  }
  if (now_ < deadline) now_ = deadline;
}

bool World::run_until(const std::function<bool()>& done, Instant deadline) {
  while (!done()) {
    bool fiber_ready = false;
    for (const auto& node : nodes_)
      fiber_ready = fiber_ready || runnable(*node);
    if (!fiber_ready) {
      while (!heap_.empty() && !pending_.contains(heap_.top().event))
        heap_.pop();
      if (heap_.empty() || heap_.top().time > deadline) {
        if (now_ < deadline) now_ = deadline;
        return done();
      }
    }
    step();
  }
  return true;
}

void World::trace_event(size_t node, std::string_view event) {
  trace_.record(now_, node_name(node), io::Scheduler::current_name(), event);
}

}  // namespace quire::sim
