#include "sim/fault_injector.h"

#include <algorithm>
#include <cmath>

#include "io/base/text.h"

namespace quire::sim {
namespace {

constexpr const char* kind_names[fault_kind_count] = {
    "partition",
    "asymmetric_partition",
    "isolate",
    "slow_network",
    "connection_reset",
    "clog",
    "bit_flip",
    "crash",
    "pause",
    "clock_skew",
    "bit_rot",
    "latent_sector_error",
    "misdirected_write",
    "sync_failure",
    "full_disk",
    "partition_with_clients",
    "halog_rot",
    "crash_after_yes",
};

}  // namespace

const char* fault_kind_name(FaultKind kind) {
  return kind_names[static_cast<size_t>(kind)];
}

bool parse_fault_kind(std::string_view name, FaultKind* kind) {
  for (size_t index = 0; index < fault_kind_count; index++) {
    if (name == kind_names[index]) {
      *kind = static_cast<FaultKind>(index);
      return true;
    }
  }
  return false;
}

FaultPlan FaultPlan::swarm(Rng& rng) {
  FaultPlan plan;
  for (size_t index = 0; index < fault_kind_count_first; index++)
    plan.enabled[index] = rng.one_in(2);
  plan.mean_interval = Duration::milliseconds(static_cast<int64_t>(rng.between(200, 5000)));
  plan.duration_max = Duration::milliseconds(static_cast<int64_t>(rng.between(500, 8000)));
  return plan;
}

std::string FaultPlan::describe() const {
  std::string text;
  for (size_t index = 0; index < fault_kind_count; index++) {
    if (!enabled[index]) continue;
    if (!text.empty()) text += ",";
    text += kind_names[index];
  }
  if (text.empty()) text = "none";
  return concat(text, " every~", mean_interval.ms(), "ms for<=", duration_max.ms(),
                "ms faulty<=", max_faulty_nodes);
}

FaultInjector::FaultInjector(World& world, FaultPlan plan, uint64_t seed, size_t target_count)
    : world_(world),
      target_count_(std::min(target_count, world.node_count())),
      plan_(plan),
      rng_(seed),
      faulty_(target_count_, false) {
  std::vector<size_t> order(target_count_);
  for (size_t node = 0; node < order.size(); node++)
    order[node] = node;
  rng_.shuffle(order);
  order.resize(std::min(order.size(), plan_.max_faulty_nodes));
  std::sort(order.begin(), order.end());
  disk_fault_nodes_ = order;
  for (size_t node = 0; node < target_count_; node++) {
    original_capacity_.push_back(world.disk_image(node).capacity_bytes());
  }
}

void FaultInjector::schedule(Instant begin, Instant heal_at) {
  QUIRE_ASSERT(begin <= heal_at);
  heal_at_ = heal_at;
  world_.at(begin, [this] { inject_next(); });
  world_.at(heal_at, [this] { heal_everything(); });
}

Duration FaultInjector::random_duration() {
  return Duration::nanoseconds(
      static_cast<int64_t>(rng_.between(1, static_cast<uint64_t>(plan_.duration_max.ns()))));
}

void FaultInjector::inject_next() {
  std::vector<FaultKind> kinds;
  for (size_t index = 0; index < fault_kind_count; index++) {
    if (plan_.enabled[index]) kinds.push_back(static_cast<FaultKind>(index));
  }
  if (kinds.empty() || target_count_ == 0) return;
  if (world_.now() < heal_at_) inject(rng_.pick(kinds));
  // Exponential gaps: a Poisson process of faults.
  const double gap_ns =
      -std::log(1.0 - rng_.unit()) * static_cast<double>(plan_.mean_interval.ns());
  const Instant next = world_.now() + Duration::nanoseconds(static_cast<int64_t>(gap_ns) + 1);
  if (next < heal_at_) world_.at(next, [this] { inject_next(); });
}

bool FaultInjector::take_budget(size_t node) {
  if (faulty_[node]) return false;
  const size_t faulty = static_cast<size_t>(std::count(faulty_.begin(), faulty_.end(), true));
  if (faulty >= plan_.max_faulty_nodes) return false;
  faulty_[node] = true;
  return true;
}

void FaultInjector::release_budget(size_t node) {
  faulty_[node] = false;
}

void FaultInjector::note(FaultKind kind, std::string text) {
  counts_[static_cast<size_t>(kind)]++;
  world_.trace_event(World::world_node, concat("fault ", text));
  log_.push_back(concat(format_time(world_.now()), " ", text));
}

std::vector<size_t> FaultInjector::shuffled_targets() {
  std::vector<size_t> order(target_count_);
  for (size_t node = 0; node < order.size(); node++)
    order[node] = node;
  rng_.shuffle(order);
  return order;
}

bool FaultInjector::take_budget_of_all(const std::vector<size_t>& nodes) {
  for (size_t node : nodes) {
    if (!take_budget(node)) {
      for (size_t taken : nodes) {
        if (taken == node) break;
        release_budget(taken);
      }
      return false;
    }
  }
  return true;
}

void FaultInjector::heal_partition_at(Instant until, std::vector<size_t> minority,
                                      std::vector<size_t> majority, size_t budgeted_count) {
  QUIRE_ASSERT(budgeted_count <= minority.size());
  world_.at(until,
            [this, minority = std::move(minority), majority = std::move(majority), budgeted_count] {
              for (size_t from : minority) {
                for (size_t to : majority) {
                  world_.unblock_link(from, to);
                  world_.unblock_link(to, from);
                }
              }
              for (size_t index = 0; index < budgeted_count; index++)
                release_budget(minority[index]);
            });
}

void FaultInjector::inject(FaultKind kind) {
  const Instant until = std::min(heal_at_, world_.now() + random_duration());
  const Duration length = until - world_.now();
  switch (kind) {
    case FaultKind::partition: {
      // A random split into two non-empty groups; the smaller side counts against the budget.
      std::vector<size_t> order = shuffled_targets();
      if (order.size() < 2) return;
      const size_t cut =
          static_cast<size_t>(rng_.between(1, std::min(order.size() - 1, plan_.max_faulty_nodes)));
      std::vector<size_t> minority(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(cut));
      std::vector<size_t> majority(order.begin() + static_cast<std::ptrdiff_t>(cut), order.end());
      if (!take_budget_of_all(minority)) return;
      world_.partition({minority, majority});
      note(kind, concat("partition for ", length.ms(), "ms"));
      heal_partition_at(until, minority, majority, minority.size());
      return;
    }
    case FaultKind::partition_with_clients: {
      // A partition as above, with each client node (every world node past the targets) put on
      // one side at random, at least one of them with the minority: a leader cut off from the
      // majority, which still believes it leads until its check-quorum, is reachable by clients
      // that the new leader's clients write behind.
      std::vector<size_t> order = shuffled_targets();
      if (order.size() < 2 || world_.node_count() == target_count_) return;
      // The leader with the minority: the side it can still reach when it should not lead.
      const std::optional<size_t> leader = leader_probe_ ? leader_probe_() : std::nullopt;
      if (leader && *leader < target_count_) {
        std::iter_swap(order.begin(), std::find(order.begin(), order.end(), *leader));
      }
      const size_t cut =
          static_cast<size_t>(rng_.between(1, std::min(order.size() - 1, plan_.max_faulty_nodes)));
      std::vector<size_t> minority(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(cut));
      std::vector<size_t> majority(order.begin() + static_cast<std::ptrdiff_t>(cut), order.end());
      if (!take_budget_of_all(minority)) return;
      const size_t members_in_minority = minority.size();
      for (size_t client = target_count_; client < world_.node_count(); client++) {
        const bool with_minority = client == target_count_ || rng_.one_in(2);
        (with_minority ? minority : majority).push_back(client);
      }
      world_.partition({minority, majority});
      // The majority's clients lose their connections to the minority at once (as a reset
      // would), so they look for the new leader instead of waiting out an answer.
      for (size_t client = target_count_; client < world_.node_count(); client++) {
        if (std::find(majority.begin(), majority.end(), client) != majority.end()) {
          world_.reset_connections(client);
        }
      }
      note(kind, concat("partition with clients for ", length.ms(), "ms",
                        leader ? concat(", leader ", world_.node_name(*leader), " in the minority")
                               : std::string()));
      heal_partition_at(until, minority, majority, members_in_minority);
      return;
    }
    case FaultKind::halog_rot: {
      // Rot of a file that resync serves to peers: caught by the HALog's checksums and its
      // closing root block, never replayed.
      if (disk_fault_nodes_.empty()) return;
      const size_t node = rng_.pick(disk_fault_nodes_);
      const std::optional<FaultSite> site = world_.disk_image(node).rot(rng_, "halog/");
      if (site) {
        note(kind,
             concat("halog_rot ", world_.node_name(node), " ", site->path, " at ", site->offset));
      }
      return;
    }
    case FaultKind::crash_after_yes:
      if (yes_crash_armed_) return;
      yes_crash_armed_ = true;
      yes_voters_.clear();
      note(kind, "crash after YES armed");
      return;
    case FaultKind::asymmetric_partition: {
      const size_t from = random_node();
      const size_t to = random_node();
      if (from == to || !take_budget(from)) return;
      world_.block_link(from, to);
      note(kind, concat("block ", world_.node_name(from), "->", world_.node_name(to), " for ",
                        length.ms(), "ms"));
      world_.at(until, [this, from, to] {
        world_.unblock_link(from, to);
        release_budget(from);
      });
      return;
    }
    case FaultKind::isolate: {
      const size_t node = random_node();
      if (!take_budget(node)) return;
      world_.isolate(node);
      note(kind, concat("isolate ", world_.node_name(node), " for ", length.ms(), "ms"));
      world_.at(until, [this, node] {
        for (size_t other = 0; other < world_.node_count(); other++) {
          world_.unblock_link(node, other);
          world_.unblock_link(other, node);
        }
        release_budget(node);
      });
      return;
    }
    case FaultKind::slow_network: {
      NetworkModel& model = world_.network_model();
      const double before = model.slow_probability;
      model.slow_probability = std::max(before, rng_.unit() * 0.3);
      note(kind, concat("slow network for ", length.ms(), "ms"));
      world_.at(until, [this, before] {
        // At the heal, heal_everything() has reset it (and runs first): an overlapping window's
        // `before` would otherwise outlive the heal (fuzz seed 350, bit flips).
        if (world_.now() < heal_at_) world_.network_model().slow_probability = before;
      });
      return;
    }
    case FaultKind::connection_reset:
      if (world_.reset_random_connection()) note(kind, "connection reset");
      return;
    case FaultKind::clog: {
      const size_t from = random_node();
      const size_t to = random_node();
      if (from == to) return;
      world_.clog_link(from, to, length);
      note(kind, concat("clog ", world_.node_name(from), "->", world_.node_name(to), " for ",
                        length.ms(), "ms"));
      return;
    }
    case FaultKind::bit_flip: {
      NetworkModel& model = world_.network_model();
      const double before = model.bit_flip_probability;
      model.bit_flip_probability = std::max(before, rng_.unit() * 0.05);
      note(kind, concat("bit flips in flight for ", length.ms(), "ms"));
      world_.at(until, [this, before] {
        // As for slow_network: a window that ends at the heal restores nothing.
        if (world_.now() < heal_at_) world_.network_model().bit_flip_probability = before;
      });
      return;
    }
    case FaultKind::crash: {
      const size_t node = random_node();
      if (!world_.is_up(node) || !take_budget(node)) return;
      world_.crash(node);
      note(kind, concat("crash ", world_.node_name(node), " down for ", length.ms(), "ms"));
      world_.at(until, [this, node] {
        if (!world_.is_up(node)) world_.start(node);
        release_budget(node);
      });
      return;
    }
    case FaultKind::pause: {
      const size_t node = random_node();
      if (!world_.is_up(node) || !take_budget(node)) return;
      world_.pause(node, length);
      note(kind, concat("pause ", world_.node_name(node), " for ", length.ms(), "ms"));
      world_.at(until, [this, node] { release_budget(node); });
      return;
    }
    case FaultKind::clock_skew: {
      const size_t node = random_node();
      const int64_t span = plan_.drift_ppm_max;
      const int64_t drift =
          static_cast<int64_t>(rng_.uniform(static_cast<uint64_t>(2 * span + 1))) - span;
      const int64_t jump_span = plan_.wall_clock_jump_max.ns();
      const int64_t jump =
          static_cast<int64_t>(rng_.uniform(static_cast<uint64_t>(2 * jump_span + 1))) - jump_span;
      world_.set_clock_drift_ppm(node, drift);
      world_.set_wall_clock_offset(node, Duration::nanoseconds(jump));
      note(kind, concat("clock ", world_.node_name(node), " drift ", drift, "ppm wall ",
                        jump / 1'000'000, "ms"));
      return;
    }
    case FaultKind::bit_rot:
    case FaultKind::latent_sector_error: {
      if (disk_fault_nodes_.empty()) return;
      const size_t node = rng_.pick(disk_fault_nodes_);
      DiskImage& image = world_.disk_image(node);
      const std::optional<FaultSite> site =
          kind == FaultKind::bit_rot ? image.rot(rng_) : image.add_latent_error(rng_);
      if (site) {
        note(kind, concat(fault_kind_name(kind), " ", world_.node_name(node), " ", site->path,
                          " at ", site->offset));
      }
      return;
    }
    case FaultKind::misdirected_write:
    case FaultKind::sync_failure: {
      if (disk_fault_nodes_.empty()) return;
      const size_t node = rng_.pick(disk_fault_nodes_);
      DiskFaults& faults = world_.disk_model(node).faults;
      double& probability = kind == FaultKind::misdirected_write
                                ? faults.misdirected_write_probability
                                : faults.sync_failure_probability;
      probability = rng_.unit() * 0.2;
      note(kind, concat(fault_kind_name(kind), " ", world_.node_name(node), " p=",
                        static_cast<int64_t>(probability * 1000), "/1000 for ", length.ms(), "ms"));
      world_.at(until, [this, node, kind] {
        DiskFaults& window = world_.disk_model(node).faults;
        (kind == FaultKind::misdirected_write ? window.misdirected_write_probability
                                              : window.sync_failure_probability) = 0.0;
      });
      return;
    }
    case FaultKind::full_disk: {
      const size_t node = random_node();
      if (!take_budget(node)) return;
      DiskImage& image = world_.disk_image(node);
      image.set_capacity_bytes(image.used_bytes() + rng_.uniform(64 * 1024));
      note(kind, concat("disk full ", world_.node_name(node), " for ", length.ms(), "ms"));
      world_.at(until, [this, node] {
        world_.disk_image(node).set_capacity_bytes(original_capacity_[node]);
        release_budget(node);
      });
      return;
    }
  }
}

void FaultInjector::on_yes_sent(size_t node, uint64_t counter) {
  if (!yes_crash_armed_ || node >= target_count_) return;
  if (counter != yes_counter_) {
    yes_counter_ = counter;
    yes_voters_.clear();
  }
  if (std::find(yes_voters_.begin(), yes_voters_.end(), node) == yes_voters_.end()) {
    yes_voters_.push_back(node);
  }
}

void FaultInjector::on_commit(size_t node, uint64_t counter) {
  if (!yes_crash_armed_ || node >= target_count_ || counter != yes_counter_) return;
  if (yes_voters_.empty() ||
      std::find(yes_voters_.begin(), yes_voters_.end(), node) != yes_voters_.end()) {
    return;  // A voter's own commit, not the leader's.
  }
  yes_crash_armed_ = false;
  // The leader made the write set durable and counted its voters' YES: every voter loses power
  // before the COMMIT reaches it (a YES means the write set is durable there, so nothing it
  // voted for may be lost), and the leader crashes before anyone else learns the commit. Both
  // from the world's loop: the node's own fibers are running now. The voters restart at once,
  // so at most the leader counts against the budget.
  world_.at(world_.now(), [this, leader = node, voters = yes_voters_] {
    if (world_.now() >= heal_at_ || !world_.is_up(leader) || !take_budget(leader)) return;
    const Instant until = std::min(heal_at_, world_.now() + random_duration());
    std::string names;
    for (size_t voter : voters) {
      if (!world_.is_up(voter)) continue;
      world_.lose_power(voter);
      world_.start(voter);
      names += concat(" ", world_.node_name(voter));
    }
    world_.crash(leader);
    note(FaultKind::crash_after_yes,
         concat("crash after YES: power lost on", names, ", leader ", world_.node_name(leader),
                " down for ", (until - world_.now()).ms(), "ms"));
    world_.at(until, [this, leader] {
      if (!world_.is_up(leader)) world_.start(leader);
      release_budget(leader);
    });
  });
}

void FaultInjector::heal_everything() {
  world_.heal_network();
  for (size_t node = 0; node < target_count_; node++) {
    if (!world_.is_up(node)) world_.start(node);
    world_.disk_image(node).set_capacity_bytes(original_capacity_[node]);
    DiskFaults& faults = world_.disk_model(node).faults;
    faults.misdirected_write_probability = 0.0;
    faults.sync_failure_probability = 0.0;
    faults.fail_sync_countdown = 0;
    faulty_[node] = false;
  }
  world_.network_model().bit_flip_probability = 0.0;
  world_.network_model().slow_probability = 0.0;
  yes_crash_armed_ = false;
  world_.trace_event(World::world_node, "fault heal everything");
}

}  // namespace quire::sim
