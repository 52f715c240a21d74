#include "harness/workload.h"

#include <algorithm>
#include <memory>

#include "engine/client.h"
#include "io/base/text.h"

namespace quire::harness {
namespace {

constexpr Duration operation_timeout = Duration::seconds(10);

enum class Kind : uint8_t {
  read,
  write,
  compare_and_set,
  remove,
  transaction,
  local_read,
  historical_read
};

Kind draw_kind(Rng& rng, const WorkloadMix& mix) {
  const uint32_t weights[] = {mix.reads,        mix.writes,      mix.compare_and_sets, mix.removes,
                              mix.transactions, mix.local_reads, mix.historical_reads};
  uint64_t total = 0;
  for (uint32_t weight : weights)
    total += weight;
  if (total == 0) return Kind::write;
  uint64_t pick = rng.uniform(total);
  for (size_t index = 0; index < std::size(weights); index++) {
    if (pick < weights[index]) return static_cast<Kind>(index);
    pick -= weights[index];
  }
  QUIRE_UNREACHABLE();
}

// A simulated client's options: reads wait `read_attempt_timeout` at one member, every time.
engine::ClientOptions client_options(Duration read_attempt_timeout) {
  return engine::ClientOptions{.read_attempt_timeout = read_attempt_timeout,
                               .read_attempt_timeout_limit = read_attempt_timeout};
}

// What one client remembers of each key, to aim its conditions at plausible states.
struct KeyMemory {
  std::optional<Value> value;
  std::optional<CommitCounter> version;
};

class ClientSession {
 public:
  ClientSession(io::Runtime& runtime, SimCluster& cluster, uint32_t client)
      : runtime_(runtime),
        cluster_(cluster),
        client_id_(client),
        mix_(cluster.spec().workload),
        client_(new_client()) {}

  // A new client in place of the old one: a new first guess of the leader, no connections.
  void renew_client() { client_ = new_client(); }

  std::unique_ptr<engine::Client> new_client() {
    return std::make_unique<engine::Client>(runtime_, cluster_.group(), cluster_.member_addresses(),
                                            client_options(mix_.read_attempt_timeout));
  }

  Key random_key() { return concat("k", runtime_.rng().uniform(mix_.key_count)); }

  Value fresh_value(uint64_t id) {
    Value value = concat("c", client_id_, "-", id);
    if (runtime_.rng().uniform(100) < mix_.large_value_percent) {
      const uint64_t largest =
          std::min<uint64_t>(200 * 1024, value_size_bytes_max(cluster_.spec()));
      const size_t size = static_cast<size_t>(runtime_.rng().between(largest / 10, largest));
      value.reserve(size);
      while (value.size() < size)
        value.push_back(static_cast<char>('a' + value.size() % 26));
    }
    return value;
  }

  Condition condition_on(const Key& key) {
    const KeyMemory& memory = memory_[key];
    Rng& rng = runtime_.rng();
    if (memory.version && rng.one_in(3)) return Condition::version_equals(key, *memory.version);
    if (memory.value && !rng.one_in(4)) return Condition::value_equals(key, *memory.value);
    return Condition::absent(key);
  }

  wire::ClientRequest request_for(const Operation& operation, wire::Read::Consistency consistency) {
    wire::ClientRequest request;
    if (!operation.writes.empty() || !operation.conditions.empty()) {
      wire::Transaction* transaction = request.mutable_transaction();
      transaction->set_trace_id(operation.id);
      for (const Condition& condition : operation.conditions) {
        wire::Condition* target = transaction->add_conditions();
        target->set_key(condition.key);
        switch (condition.kind) {
          case Condition::Kind::value_equals:
            target->set_value_equals(condition.value);
            break;
          case Condition::Kind::version_equals:
            target->set_version_equals(condition.version.value());
            break;
          case Condition::Kind::absent:
            target->set_absent(true);
            break;
        }
      }
      for (const Write& write : operation.writes) {
        wire::Operation* target = transaction->add_operations();
        target->set_key(write.key);
        if (write.value) {
          target->set_put(*write.value);
        } else {
          target->set_remove(true);
        }
      }
      return request;
    }
    wire::Read* read = request.mutable_read();
    read->set_consistency(consistency);
    for (const ReadResult& result : operation.reads)
      read->add_keys(result.key);
    return request;
  }

  // Fills `operation`'s outcome from the answer.
  void settle(Operation& operation, const Result<wire::ClientResponse>& response) {
    operation.complete = runtime_.now();
    if (!response.ok()) {
      operation.outcome =
          response.code() == ErrorCode::unknown_outcome ? Outcome::unknown : Outcome::failed;
      operation.gave_up = operation.outcome == Outcome::failed;
      return;
    }
    switch (response->outcome()) {
      case wire::OK:
        operation.outcome = Outcome::ok;
        if (!operation.writes.empty()) {
          operation.commit_counter = CommitCounter(response->commit_counter());
          last_seen_ = std::max(last_seen_, *operation.commit_counter);
          for (const Write& write : operation.writes) {
            memory_[write.key] =
                KeyMemory{write.value, write.value ? operation.commit_counter : std::nullopt};
          }
        }
        if (operation.writes.empty() && operation.conditions.empty()) {
          operation.reads = results_of(*response);
          last_seen_ = std::max(last_seen_, CommitCounter(response->commit_counter()));
        }
        return;
      case wire::CONDITION_FAILED:
        operation.outcome = Outcome::ok;
        operation.condition_failed = true;
        return;
      case wire::UNKNOWN:
        operation.outcome = Outcome::unknown;
        return;
      default:
        operation.outcome = Outcome::failed;
        return;
    }
  }

  std::vector<ReadResult> results_of(const wire::ClientResponse& response) {
    std::vector<ReadResult> results;
    for (const wire::KeyValue& entry : response.results()) {
      if (entry.found()) {
        results.push_back(
            ReadResult::found(entry.key(), entry.value(), CommitCounter(entry.version())));
        memory_[entry.key()] = KeyMemory{entry.value(), CommitCounter(entry.version())};
      } else {
        results.push_back(ReadResult::missing(entry.key()));
        memory_[entry.key()] = KeyMemory{};
      }
    }
    return results;
  }

  engine::Client& client() { return *client_; }
  CommitCounter last_seen() const { return last_seen_; }
  uint32_t id() const { return client_id_; }

 private:
  io::Runtime& runtime_;
  SimCluster& cluster_;
  uint32_t client_id_;
  const WorkloadMix& mix_;
  std::unique_ptr<engine::Client> client_;
  std::map<Key, KeyMemory> memory_;
  CommitCounter last_seen_;
};

}  // namespace

Workload::Workload(SimCluster& cluster) : cluster_(cluster) {}

void Workload::start(Instant stop_at) {
  for (uint32_t client = 1; client <= cluster_.spec().client_count; client++) {
    cluster_.add_client(concat("c", client), [this, client, stop_at](io::Runtime& runtime) {
      run_client(runtime, client, stop_at);
    });
  }
}

void Workload::start_probe(bool* committed) {
  const uint32_t client = cluster_.spec().client_count + 1;
  cluster_.add_client("probe", [this, client, committed](io::Runtime& runtime) {
    engine::Client session(runtime, cluster_.group(), cluster_.member_addresses(),
                           client_options(cluster_.spec().workload.read_attempt_timeout));
    while (!*committed) {
      Operation operation;
      operation.client = client;
      operation.id = next_id_++;
      operation.writes.push_back(Write::put("quire-probe", concat("probe-", operation.id)));
      operation.invoke = runtime.now();
      const size_t index = history_.size();
      history_.push_back(operation);
      in_flight_.push_back(index);
      wire::ClientRequest request;
      request.mutable_transaction()->set_trace_id(operation.id);
      wire::Operation* put = request.mutable_transaction()->add_operations();
      put->set_key(operation.writes[0].key);
      put->set_put(*operation.writes[0].value);
      auto response = session.call(request, runtime.now() + Duration::seconds(5));
      std::erase(in_flight_, index);
      Operation& recorded = history_[index];
      recorded.complete = runtime.now();
      if (!response.ok()) {
        recorded.outcome =
            response.code() == ErrorCode::unknown_outcome ? Outcome::unknown : Outcome::failed;
      } else if (response->outcome() == wire::OK) {
        recorded.outcome = Outcome::ok;
        recorded.commit_counter = CommitCounter(response->commit_counter());
        *committed = true;
      } else {
        recorded.outcome =
            response->outcome() == wire::UNKNOWN ? Outcome::unknown : Outcome::failed;
      }
    }
  });
}

void Workload::finish() {
  for (size_t index : in_flight_) {
    history_[index].outcome = Outcome::unknown;
    history_[index].complete.reset();
  }
  in_flight_.clear();
}

const Operation* Workload::operation(uint64_t trace_id) const {
  // Ids are handed out in order and operations appended in that order.
  auto found = std::lower_bound(history_.begin(), history_.end(), trace_id,
                                [](const Operation& each, uint64_t id) { return each.id < id; });
  return found != history_.end() && found->id == trace_id ? &*found : nullptr;
}

Workload::ReachWitness Workload::witness_reach(size_t client_node) const {
  const sim::World& world = cluster_.world();
  ReachWitness witness{world.reach_changes(), {}};
  for (NodeId member : cluster_.member_ids()) {
    if (world.reaches(client_node, cluster_.world_index(member))) witness.members.push_back(member);
  }
  return witness;
}

void Workload::settle_reach(Operation& recorded, const ReachWitness& witness) const {
  if (cluster_.world().reach_changes() == witness.changes) {
    recorded.reachable_throughout = witness.members;
  }
}

void Workload::run_client(io::Runtime& runtime, uint32_t client, Instant stop_at) {
  ClientSession session(runtime, cluster_, client);
  const size_t client_node = cluster_.world().find_node(concat("c", client));
  QUIRE_ASSERT(client_node < cluster_.world().node_count());
  const WorkloadMix& mix = cluster_.spec().workload;
  Rng& rng = runtime.rng();
  const std::vector<io::Address> members = cluster_.member_addresses();
  while (runtime.now() < stop_at) {
    runtime.sleep_for(Duration::nanoseconds(
        static_cast<int64_t>(rng.uniform(static_cast<uint64_t>(mix.think_time_max.ns()) + 1))));
    const Kind kind = draw_kind(rng, mix);
    if (mix.fresh_client_per_operation) session.renew_client();
    Operation operation;
    operation.client = client;
    operation.id = next_id_++;
    const Key key = session.random_key();
    if (kind == Kind::local_read || kind == Kind::historical_read) {
      PointRead read{client, operation.id,
                     NodeId(static_cast<uint32_t>(rng.between(1, members.size()))), runtime.now()};
      wire::ClientRequest request;
      wire::Read* body = request.mutable_read();
      body->add_keys(key);
      if (rng.one_in(2)) body->add_keys(session.random_key());
      if (kind == Kind::local_read) {
        body->set_consistency(wire::Read::LOCAL);
        read.min_commit_counter = session.last_seen();
        body->set_min_commit_counter(read.min_commit_counter.value());
        body->set_wait_ms(2000);
      } else {
        if (session.last_seen().value() == 0) continue;
        body->set_consistency(wire::Read::HISTORICAL);
        read.historical = true;
        body->set_at_commit_counter(rng.between(1, session.last_seen().value()));
      }
      auto response = session.client().call_member(members[read.member.value() - 1], request,
                                                   runtime.now() + operation_timeout);
      read.complete = runtime.now();
      counts_.issued++;
      if (response.ok() && response->outcome() == wire::OK) {
        read.commit_counter = CommitCounter(response->commit_counter());
        read.results = session.results_of(*response);
        point_reads_.push_back(std::move(read));
        counts_.point_reads++;
      }
      continue;
    }
    switch (kind) {
      case Kind::read:
        operation.reads.push_back(ReadResult::missing(key));
        if (rng.one_in(3)) operation.reads.push_back(ReadResult::missing(session.random_key()));
        break;
      case Kind::write:
        operation.writes.push_back(Write::put(key, session.fresh_value(operation.id)));
        break;
      case Kind::compare_and_set:
        operation.conditions.push_back(session.condition_on(key));
        operation.writes.push_back(Write::put(key, session.fresh_value(operation.id)));
        break;
      case Kind::remove:
        operation.writes.push_back(Write::remove(key));
        break;
      case Kind::transaction: {
        const Key other = session.random_key();
        if (rng.one_in(2)) operation.conditions.push_back(session.condition_on(key));
        operation.writes.push_back(Write::put(key, session.fresh_value(operation.id)));
        if (other != key)
          operation.writes.push_back(Write::put(other, session.fresh_value(operation.id)));
        break;
      }
      default:
        QUIRE_UNREACHABLE();
    }
    operation.invoke = runtime.now();
    const size_t index = history_.size();
    history_.push_back(operation);
    in_flight_.push_back(index);
    counts_.issued++;
    const ReachWitness witness = witness_reach(client_node);
    auto response = session.client().call(session.request_for(operation, wire::Read::LINEARIZABLE),
                                          runtime.now() + operation_timeout);
    std::erase(in_flight_, index);
    Operation& recorded = history_[index];
    session.settle(recorded, response);
    settle_reach(recorded, witness);
    switch (recorded.outcome) {
      case Outcome::ok:
        counts_.ok++;
        if (recorded.condition_failed) counts_.condition_failed++;
        break;
      case Outcome::failed:
        counts_.failed++;
        break;
      case Outcome::unknown:
        counts_.unknown++;
        break;
    }
  }
}

}  // namespace quire::harness
