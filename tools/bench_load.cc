#include "tools/bench_load.h"

#include <cctype>
#include <cstdio>
#include <memory>
#include <optional>

#include "engine/client.h"
#include "io/base/rng.h"
#include "io/base/text.h"
#include "io/sync.h"

namespace quire::tools {
namespace {

// One engine::Client: one request at a time (the server answers a connection's requests in
// order, one by one), so the clients that share it take turns through a FIFO mutex.
struct SharedConnection {
  SharedConnection(io::Runtime& runtime, const BenchTarget& target)
      : client(runtime, target.group, target.members,
               engine::ClientOptions{.attempt_timeout =
                                         std::min(target.operation_timeout, Duration::seconds(5))}),
        turn(runtime) {}
  engine::Client client;
  io::Mutex turn;
};

// "" for success; otherwise the error kind reported: an ErrorCode's name, or the outcome's.
using ErrorKind = std::string;

ErrorKind outcome_kind(wire::Outcome outcome) {
  if (outcome == wire::OK) return "";
  if (outcome == wire::UNKNOWN) return "unknown_outcome";  // As the client's own error says.
  std::string name = wire::Outcome_Name(outcome);
  for (char& letter : name)
    letter = static_cast<char>(std::tolower(static_cast<unsigned char>(letter)));
  return name;
}

ErrorKind error_kind(const Result<wire::ClientResponse>& response) {
  if (!response.ok()) return error_code_name(response.error().code());
  return outcome_kind(response->outcome());
}

// What every client fiber shares: the connections, the budget of operations, the tallies.
struct LoadState {
  io::Runtime& runtime;
  const BenchTarget& target;
  const BenchOptions& options;
  std::vector<std::unique_ptr<SharedConnection>> connections;
  BenchResult result;
  uint64_t issued = 0;
  Instant end = Instant::max();  // With --seconds: no operation is issued at or after it.
  size_t clients_ready = 0;
  size_t clients_done = 0;
  io::Event all_ready{runtime};
  io::Event start{runtime};
  io::Event all_done{runtime};
  io::Event progress_done{runtime};  // The progress fiber is gone: the state may go.

  // Takes one operation from the budget; false once the run is over.
  bool claim() {
    if (options.seconds > 0) return runtime.now() < end;
    if (issued >= options.operation_count) return false;
    issued++;
    return true;
  }
  Instant deadline() const { return runtime.now() + target.operation_timeout; }
};

std::string key_name(uint64_t number, uint64_t key_count) {
  const std::string digits = concat(number);
  const size_t width = concat(key_count - 1).size();
  return concat("bench-", std::string(width - digits.size(), '0'), digits);
}

wire::ClientRequest read_request(std::string key, wire::Read::Consistency consistency) {
  wire::ClientRequest request;
  request.mutable_read()->add_keys(std::move(key));
  request.mutable_read()->set_consistency(consistency);
  return request;
}

// One closed-loop client: draws an operation, waits for its connection's turn, waits for the
// answer, records it, and draws the next. Suspends.
class BenchClient {
 public:
  BenchClient(LoadState& state, size_t index)
      : state_(state),
        index_(index),
        connection_(*state.connections[index % state.connections.size()]),
        rng_(state.runtime.rng().next_u64()),
        value_(random_text(state.options.value_size_bytes)),
        guard_key_(concat("bench-txn-", index)) {}

  void run() {
    if (state_.options.mix.txn_percent > 0) (void)read_guard();
    if (++state_.clients_ready == state_.options.clients) state_.all_ready.set();
    state_.start.wait();
    while (state_.claim()) {
      const Instant issued = state_.runtime.now();
      const ErrorKind kind = operate();
      const Duration latency = state_.runtime.now() - issued;
      BenchResult& result = state_.result;
      result.operations++;
      if (kind.empty()) {
        result.latency.record(static_cast<uint64_t>(latency.ns()));
      } else {
        result.errors[kind]++;
        result.error_count++;
      }
    }
  }

 private:
  std::string random_text(uint64_t size_bytes) {
    std::string text(size_bytes, 'a');
    for (char& letter : text)
      letter = static_cast<char>('a' + rng_.uniform(26));
    return text;
  }

  std::string random_key() {
    return key_name(rng_.uniform(state_.options.key_count), state_.options.key_count);
  }

  ErrorKind operate() {
    const BenchMix& mix = state_.options.mix;
    const uint64_t draw = rng_.uniform(100);
    if (draw < mix.put_percent) return put();
    if (draw < mix.put_percent + mix.get_percent) return get();
    return transact();
  }

  Result<wire::ClientResponse> call(wire::ClientRequest request) {
    io::MutexLock turn(connection_.turn);
    return connection_.client.call(std::move(request), state_.deadline());
  }

  ErrorKind put() {
    wire::ClientRequest request;
    wire::Operation* operation = request.mutable_transaction()->add_operations();
    operation->set_key(random_key());
    operation->set_put(value_);
    return error_kind(call(std::move(request)));
  }

  ErrorKind get() {
    if (state_.options.consistency == BenchConsistency::linearizable) {
      return count_found(call(read_request(random_key(), wire::Read::LINEARIZABLE)));
    }
    // wait_ms 0 and no min_commit_counter: the member answers at its last commit point at once.
    const std::vector<io::Address>& members = state_.target.members;
    io::MutexLock turn(connection_.turn);
    return count_found(connection_.client.call_member(members[index_ % members.size()],
                                                      read_request(random_key(), wire::Read::LOCAL),
                                                      state_.deadline()));
  }

  ErrorKind count_found(const Result<wire::ClientResponse>& response) {
    ErrorKind kind = error_kind(response);
    if (kind.empty() && (response->results_size() != 1 || !response->results(0).found())) {
      state_.result.gets_not_found++;
    }
    return kind;
  }

  // Learns what the guard holds now. "" when known.
  ErrorKind read_guard() {
    auto response = call(read_request(guard_key_, wire::Read::LINEARIZABLE));
    ErrorKind kind = error_kind(response);
    if (!kind.empty()) return kind;
    QUIRE_ASSERT(response->results_size() == 1);
    guard_value_ = response->results(0).found()
                       ? std::optional<std::string>(response->results(0).value())
                       : std::nullopt;
    guard_known_ = true;
    return "";
  }

  ErrorKind transact() {
    if (!guard_known_) {
      if (ErrorKind kind = read_guard(); !kind.empty()) return kind;
    }
    // A value no earlier txn wrote, so the condition tells this txn's predecessor apart.
    const std::string next_guard = concat(rng_.next_u64(), "-", transactions_++);
    wire::ClientRequest request;
    wire::Transaction* transaction = request.mutable_transaction();
    wire::Condition* condition = transaction->add_conditions();
    condition->set_key(guard_key_);
    if (guard_value_) {
      condition->set_value_equals(*guard_value_);
    } else {
      condition->set_absent(true);
    }
    wire::Operation* guard = transaction->add_operations();
    guard->set_key(guard_key_);
    guard->set_put(next_guard);
    wire::Operation* record = transaction->add_operations();
    record->set_key(random_key());
    record->set_put(value_);
    ErrorKind kind = error_kind(call(std::move(request)));
    guard_known_ = kind.empty();
    if (guard_known_) guard_value_ = next_guard;
    return kind;
  }

  LoadState& state_;
  size_t index_;
  SharedConnection& connection_;
  Rng rng_;
  const std::string value_;
  const std::string guard_key_;
  std::optional<std::string> guard_value_;  // Nullopt: absent.
  bool guard_known_ = false;
  uint64_t transactions_ = 0;
};

// One unmeasured linearizable get per connection: it finds the leader and opens the connection,
// so the first measured operation does not pay for either. An error when no leader answered.
Status warm_up(LoadState& state) {
  for (auto& connection : state.connections) {
    auto response = connection->client.call(
        read_request(key_name(0, state.options.key_count), wire::Read::LINEARIZABLE),
        state.deadline());
    if (!response.ok()) return std::move(response).error();
    if (response->outcome() != wire::OK) {
      return Error(ErrorCode::unavailable,
                   concat("the warm-up get was answered ", wire::Outcome_Name(response->outcome()),
                          ": ", response->message()));
    }
  }
  return ok_status();
}

// A line on stderr once a second: operations finished, and the rate over that second.
void report_progress(LoadState& state) {
  uint64_t operations_before = 0;
  Instant before = state.runtime.now();
  while (!state.all_done.wait(before + Duration::seconds(1))) {
    const Instant now = state.runtime.now();
    const uint64_t operations = state.result.operations;
    const double rate =
        static_cast<double>(operations - operations_before) / (now - before).seconds_double();
    std::fprintf(stderr, "bench: %llu operations, %.0f ops/s\n",
                 static_cast<unsigned long long>(operations), rate);
    operations_before = operations;
    before = now;
  }
  state.progress_done.set();
}

}  // namespace

double BenchResult::rate() const {
  if (seconds <= 0) return 0;
  return static_cast<double>(operations - error_count) / seconds;
}

BenchResult run_bench_load(io::Runtime& runtime, const BenchTarget& target,
                           const BenchOptions& options) {
  QUIRE_ASSERT(!target.members.empty());
  QUIRE_ASSERT(options.connections >= 1 && options.connections <= options.clients);
  QUIRE_ASSERT((options.seconds > 0) != (options.operation_count > 0));
  LoadState state{.runtime = runtime, .target = target, .options = options};
  for (uint32_t index = 0; index < options.connections; index++) {
    state.connections.push_back(std::make_unique<SharedConnection>(runtime, target));
  }
  if (Status warm = warm_up(state); !warm.ok()) {
    state.result.unreachable_reason = warm.error().to_string();
    return std::move(state.result);
  }
  state.result.leader_reached = true;
  for (size_t index = 0; index < options.clients; index++) {
    runtime.spawn(concat("bench-client-", index), [&state, index] {
      BenchClient(state, index).run();
      if (++state.clients_done == state.options.clients) state.all_done.set();
    });
  }
  state.all_ready.wait();
  const Instant begin = runtime.now();
  if (options.seconds > 0) {
    state.end = begin + Duration::seconds(static_cast<int64_t>(options.seconds));
  }
  if (options.progress) runtime.spawn("bench-progress", [&state] { report_progress(state); });
  state.start.set();
  state.all_done.wait();
  state.result.seconds = (runtime.now() - begin).seconds_double();
  if (options.progress) state.progress_done.wait();
  QUIRE_ASSERT(options.seconds > 0 || state.result.operations == options.operation_count);
  return std::move(state.result);
}

}  // namespace quire::tools
