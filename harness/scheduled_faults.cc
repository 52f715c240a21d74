#include "harness/scheduled_faults.h"

#include "io/base/text.h"
#include "sim/fabric.h"

namespace quire::harness {
namespace {

constexpr Duration trigger_poll = Duration::microseconds(200);
constexpr Duration trigger_patience = Duration::seconds(10);

}  // namespace

ScheduledFaults::ScheduledFaults(SimCluster& cluster, std::vector<ScheduledFault> faults,
                                 uint64_t seed, sim::FaultInjector* injector)
    : cluster_(cluster), faults_(std::move(faults)), injector_(injector), rng_(seed) {
  for (NodeId member : cluster_.member_ids()) {
    capacities_.push_back(
        cluster_.world().disk_image(cluster_.world_index(member)).capacity_bytes());
  }
}

void ScheduledFaults::schedule(Instant heal_at) {
  heal_at_ = heal_at;
  sim::World& world = cluster_.world();
  for (size_t index = 0; index < faults_.size(); index++) {
    const Instant at = Instant() + faults_[index].at;
    if (at >= heal_at) continue;
    world.at(at, [this, index, at] { wait_then_strike(index, at + trigger_patience); });
  }
  world.at(heal_at, [this] { heal_everything(); });
}

void ScheduledFaults::wait_then_strike(size_t index, Instant give_up_at) {
  sim::World& world = cluster_.world();
  const ScheduledFault& fault = faults_[index];
  if (world.now() >= heal_at_) return;
  if (!triggered(fault)) {
    if (world.now() + trigger_poll < std::min(give_up_at, heal_at_)) {
      world.at(world.now() + trigger_poll,
               [this, index, give_up_at] { wait_then_strike(index, give_up_at); });
    } else {
      note(concat(fault.kind, ": its trigger never came"));
    }
    return;
  }
  strike(fault);
}

std::optional<size_t> ScheduledFaults::target(uint32_t member, bool follower) const {
  if (member != 0) return cluster_.world_index(NodeId(member));
  const std::optional<size_t> leader = cluster_.leader_index();
  if (!leader || !follower) return leader;
  for (NodeId id : cluster_.member_ids()) {
    if (cluster_.world_index(id) != *leader) return cluster_.world_index(id);
  }
  return std::nullopt;
}

bool ScheduledFaults::triggered(const ScheduledFault& fault) const {
  if (fault.trigger == ScheduledFault::Trigger::now) return true;
  const std::optional<size_t> leader = target(0);
  if (!leader) return false;
  if (fault.trigger == ScheduledFault::Trigger::leader_known) return true;
  const engine::Node* node = cluster_.node(NodeId(static_cast<uint32_t>(*leader + 1)));
  const auto status = node->driver()->replica().status();
  if (!status.in_flight) return false;
  return fault.trigger == ScheduledFault::Trigger::leader_streaming
             ? !status.in_flight_prepared_here
             : status.in_flight_prepared_here;
}

void ScheduledFaults::note(std::string text) {
  sim::World& world = cluster_.world();
  world.trace_event(sim::World::world_node, concat("fault ", text));
  log_.push_back(concat(sim::format_time(world.now()), " ", text));
}

void ScheduledFaults::strike(const ScheduledFault& fault) {
  sim::World& world = cluster_.world();
  const Instant until = std::min(heal_at_, world.now() + fault.length);
  sim::FaultKind targeted;
  if (sim::parse_fault_kind(fault.kind, &targeted) &&
      static_cast<size_t>(targeted) >= sim::fault_kind_count_first) {
    // One implementation of each, the random injector's (its log names what it struck).
    QUIRE_ASSERT_MSG(injector_ != nullptr,
                     concat("fault kind '", fault.kind, "' needs the injector"));
    injector_->strike(targeted);
    note(concat(fault.kind, " struck by the injector"));
    return;
  }
  const std::optional<size_t> node = target(fault.member, fault.follower);
  if (!node) {
    note(concat(fault.kind, ": no leader to strike"));
    return;
  }
  const std::string name = world.node_name(*node);
  const std::string& kind = fault.kind;
  if (kind == "crash") {
    world.crash(*node);
    world.at(until, [&world, index = *node] {
      if (!world.is_up(index)) world.start(index);
    });
  } else if (kind == "restart_all") {
    for (NodeId member : cluster_.member_ids())
      world.crash(cluster_.world_index(member));
    world.at(until, [this] {
      for (NodeId member : cluster_.member_ids()) {
        const size_t index = cluster_.world_index(member);
        if (!cluster_.world().is_up(index)) cluster_.world().start(index);
      }
    });
  } else if (kind == "pause") {
    world.pause(*node, until - world.now());
  } else if (kind == "isolate") {
    world.isolate(*node);
    world.at(until, [&world, index = *node] {
      for (size_t other = 0; other < world.node_count(); other++) {
        world.unblock_link(index, other);
        world.unblock_link(other, index);
      }
    });
  } else if (kind == "partition") {
    std::vector<size_t> cut;
    std::vector<size_t> rest;
    for (NodeId member : cluster_.member_ids()) {
      const size_t index = cluster_.world_index(member);
      const bool in_group =
          std::find(fault.group.begin(), fault.group.end(), member.value()) != fault.group.end();
      (in_group ? cut : rest).push_back(index);
    }
    world.partition({cut, rest});
    world.at(until, [&world, cut, rest] {
      for (size_t from : cut) {
        for (size_t to : rest) {
          world.unblock_link(from, to);
          world.unblock_link(to, from);
        }
      }
    });
  } else if (kind == "asymmetric_partition" || kind == "clog") {
    const size_t other = cluster_.world_index(NodeId(fault.other));
    if (kind == "clog") {
      world.clog_link(*node, other, until - world.now());
    } else {
      world.block_link(*node, other);
      world.at(until, [&world, from = *node, other] { world.unblock_link(from, other); });
    }
  } else if (kind == "connection_reset") {
    world.reset_connections(*node);
  } else if (kind == "bit_flip" || kind == "slow_network") {
    sim::NetworkModel& model = world.network_model();
    double& probability = kind == "bit_flip" ? model.bit_flip_probability : model.slow_probability;
    probability = fault.probability;
    world.at(until, [&world, flips = kind == "bit_flip"] {
      (flips ? world.network_model().bit_flip_probability
             : world.network_model().slow_probability) = 0.0;
    });
  } else if (kind == "clock_skew") {
    world.set_clock_drift_ppm(*node, fault.drift_ppm);
    world.set_wall_clock_offset(*node, fault.wall_offset);
  } else if (kind == "bit_rot" || kind == "latent_sector_error") {
    sim::DiskImage& image = world.disk_image(*node);
    for (uint32_t count = 0; count < std::max<uint32_t>(fault.count, 1); count++) {
      const auto site = kind == "bit_rot" ? image.rot(rng_, fault.path)
                                          : image.add_latent_error(rng_, fault.path);
      if (site) note(concat(kind, " ", name, " ", site->path, " at ", site->offset));
    }
    return;
  } else if (kind == "misdirected_write" || kind == "sync_failure") {
    sim::DiskFaults& faults = world.disk_model(*node).faults;
    (kind == "misdirected_write" ? faults.misdirected_write_probability
                                 : faults.sync_failure_probability) = fault.probability;
    world.at(until, [&world, index = *node, misdirect = kind == "misdirected_write"] {
      sim::DiskFaults& window = world.disk_model(index).faults;
      (misdirect ? window.misdirected_write_probability : window.sync_failure_probability) = 0.0;
    });
  } else if (kind == "full_disk") {
    sim::DiskImage& image = world.disk_image(*node);
    const uint64_t capacity = image.capacity_bytes();
    image.set_capacity_bytes(image.used_bytes());
    world.at(until, [&world, index = *node, capacity] {
      world.disk_image(index).set_capacity_bytes(capacity);
    });
  } else {
    QUIRE_ASSERT_MSG(false, concat("unknown fault kind '", kind, "'"));
  }
  note(concat(kind, " ", name, " for ", (until - world.now()).ms(), "ms"));
}

void ScheduledFaults::heal_everything() {
  sim::World& world = cluster_.world();
  world.heal_network();
  world.network_model().bit_flip_probability = 0.0;
  world.network_model().slow_probability = 0.0;
  size_t position = 0;
  for (NodeId member : cluster_.member_ids()) {
    const size_t index = cluster_.world_index(member);
    if (!world.is_up(index)) world.start(index);
    world.disk_image(index).set_capacity_bytes(capacities_[position++]);
    world.disk_model(index).faults = sim::DiskFaults{};
  }
}

}  // namespace quire::harness
