#include "harness/cluster.h"

#include "engine/coverage_marks.h"
#include "io/base/text.h"

namespace quire::harness {

uint64_t value_size_bytes_max(const ClusterSpec& spec) {
  // Small blocks list fewer out-of-line chunks per value: halve until the store agrees.
  store::JournalOptions options;
  options.write_cache_block_size_bytes = spec.block_size_bytes;
  options.value_size_bytes_max = 1u << 20;
  while (!options.validate().ok() && options.value_size_bytes_max > 4096) {
    options.value_size_bytes_max /= 2;
  }
  return options.value_size_bytes_max;
}

SimCluster::SimCluster(const ClusterSpec& spec, sim::TraceOptions trace)
    : spec_(spec), group_{concat("sim-", spec.seed), split_seed(spec.seed, "token")} {
  sim::WorldOptions options;
  options.seed = spec.seed;
  options.trace = trace;
  options.shuffle_fibers = spec.shuffle_fibers;
  world_ = std::make_unique<sim::World>(options);
  for (uint32_t id = 1; id <= spec_.member_count; id++) {
    const NodeId member(id);
    world_->add_node(concat("n", id),
                     [this, member](io::Runtime& runtime) { run_member(runtime, member); });
  }
}

SimCluster::~SimCluster() {
  // The nodes' fibers reference this object: unwind them while it is whole.
  world_.reset();
}

void SimCluster::start() {
  for (uint32_t id = 1; id <= spec_.member_count; id++)
    world_->start(id - 1);
}

size_t SimCluster::add_client(const std::string& name, std::function<void(io::Runtime&)> body) {
  const size_t index = world_->add_node(name, std::move(body));
  world_->start(index);
  return index;
}

std::vector<io::Address> SimCluster::member_addresses() const {
  std::vector<io::Address> addresses;
  for (uint32_t id = 1; id <= spec_.member_count; id++) {
    addresses.push_back(io::Address{concat("n", id), member_port});
  }
  return addresses;
}

std::vector<NodeId> SimCluster::member_ids() const {
  std::vector<NodeId> ids;
  for (uint32_t id = 1; id <= spec_.member_count; id++)
    ids.emplace_back(id);
  return ids;
}

engine::Node* SimCluster::node(NodeId member) const {
  auto found = running_.find(member);
  return found == running_.end() ? nullptr : found->second;
}

std::optional<size_t> SimCluster::leader_index() const {
  std::optional<std::pair<Term, size_t>> best;
  for (NodeId id : member_ids()) {
    const engine::Node* member = node(id);
    if (member == nullptr || member->driver() == nullptr) continue;
    const auto status = member->driver()->replica().status();
    if (status.role != engine::core::Role::leader) continue;
    if (!best || status.term > best->first) best = {status.term, world_index(id)};
  }
  if (!best) return std::nullopt;
  return best->second;
}

engine::NodeConfig SimCluster::member_config(NodeId member) {
  engine::NodeConfig config;
  config.self = member;
  config.group = group_;
  const std::vector<io::Address> addresses = member_addresses();
  for (uint32_t id = 1; id <= spec_.member_count; id++) {
    config.members.push_back(engine::MemberAddress{NodeId(id), addresses[id - 1]});
  }
  config.tick_interval = spec_.tick_interval;
  config.protocol.heartbeat_interval_ticks = spec_.heartbeat_interval_ticks;
  config.protocol.election_timeout_ticks_min = spec_.election_timeout_ticks_min;
  config.protocol.election_timeout_ticks_max = spec_.election_timeout_ticks_max;
  config.protocol.prepare_timeout_ticks = spec_.prepare_timeout_ticks;
  config.protocol.catch_up_stall_ticks = spec_.election_timeout_ticks_max;
  config.protocol.halog_retention_count_max = spec_.halog_retention_count_max;
  config.journal.write_cache_block_size_bytes = spec_.block_size_bytes;
  config.journal.node_cache_bytes_max = 4u << 20;
  config.journal.value_size_bytes_max = value_size_bytes_max(spec_);
  // A small step: growth then happens often enough to be exercised under every fault, and the
  // zeros ahead stay a small share of the bytes that rot and latent sector errors strike.
  config.journal.allocation_step_bytes = 64u << 10;
  // A pass every few seconds of virtual time, so that rot is found within a run.
  config.scrub_pass_target = Duration::seconds(8);
  config.scrub_bytes_per_second = 64u << 20;
  config.observer = this;
  return config;
}

void SimCluster::run_member(io::Runtime& runtime, NodeId member) {
  // The supervisor: a node whose run() fails (a failed sync leaves its journal refusing writes)
  // is started again from its disk after a pause.
  for (;;) {
    engine::Node node(runtime, member_config(member));
    running_[member] = &node;
    struct Forget {
      std::map<NodeId, engine::Node*>& running;
      NodeId member;
      ~Forget() { running.erase(member); }
    } forget{running_, member};
    const Status outcome = node.run();
    if (outcome.ok()) return;
    observations_.node_exits.push_back(concat("n", member, " at ", sim::format_time(world_->now()),
                                              ": ", outcome.error().to_string()));
    runtime.sleep_for(Duration::milliseconds(500));
  }
}

void SimCluster::on_commit(NodeId node, const store::RootBlock& root) {
  observations_.commits[node].push_back(CommitObservation{world_->now(), root});
  if (commit_hook) commit_hook(world_index(node), root.commit_counter.value());
}

void SimCluster::on_vote_sent(NodeId node, CommitCounter counter, bool yes) {
  if (yes && yes_sent_hook) yes_sent_hook(world_index(node), counter.value());
}

void SimCluster::on_history_lost(NodeId node) {
  observations_.commits[node].push_back(CommitObservation{world_->now(), {}, true});
}

void SimCluster::on_status(NodeId node, const engine::core::ReplicaStatus& status) {
  observations_.statuses[node].push_back(StatusObservation{world_->now(), status});
}

void SimCluster::on_sealed(NodeId node, const store::RootBlock& root,
                           const std::vector<engine::SealedTransaction>& transactions) {
  observations_.sealed[{root.commit_counter.value(), root.write_set_hash}] =
      SealedWriteSet{node, world_->now(), root, transactions};
}

void SimCluster::on_mark(NodeId, std::string_view mark) {
  QUIRE_ASSERT_MSG(engine::find_coverage_mark(mark) != nullptr,
                   concat("coverage mark '", mark, "' is not in engine/coverage_marks.h"));
  observations_.marks[std::string(mark)]++;
}

}  // namespace quire::harness
