// real_history: the simulator's workload and linearizability checker, pointed at real quired
// processes (tests/tools/nemesis_real_test.sh, docs/operations.md "Fault tests on real
// processes"). Clients on one real runtime put, compare-and-set and read a few keys through
// engine::Client for a while, recording each operation with its invocation and completion time
// and outcome (harness/history.h); then every key is read once more, linearizably, so that a
// write acknowledged and later lost shows as a read that no order explains. The history goes to
// harness::check_linearizability. Exit 0: linearizable, every final read answered and enough
// writes acknowledged; 1: a violation (explained on stderr); 2: bad arguments; 3: anything else
// that stops the judgement (an unknown verdict, a final read unanswered, too few writes).
#include <signal.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "engine/client.h"
#include "harness/history.h"
#include "harness/linearizability.h"
#include "io/base/text.h"
#include "io/real/real_runtime.h"
#include "io/sync.h"

namespace quire {
namespace {

struct Arguments {
  std::vector<io::Address> members;
  engine::GroupIdentity group;
  uint32_t clients = 4;
  uint32_t keys = 16;
  int64_t seconds = 30;
  uint64_t writes_ok_min = 100;
};

Result<Arguments> parse_arguments(int argc, char** argv) {
  Arguments arguments;
  std::map<std::string, std::string> values;
  for (int index = 1; index + 1 < argc; index += 2)
    values[argv[index]] = argv[index + 1];
  if (argc % 2 != 1) return Error(ErrorCode::invalid_argument, "flags come in --name value pairs");
  for (const char* required : {"--members", "--group", "--token"}) {
    if (!values.contains(required)) {
      return Error(ErrorCode::invalid_argument, concat(required, " is required"));
    }
  }
  std::string_view members = values["--members"];
  while (!members.empty()) {
    const size_t comma = members.find(',');
    QUIRE_TRY_ASSIGN(io::Address address, io::Address::parse(members.substr(0, comma)));
    arguments.members.push_back(std::move(address));
    members = comma == std::string_view::npos ? std::string_view() : members.substr(comma + 1);
  }
  arguments.group =
      engine::GroupIdentity{values["--group"], std::stoull(values["--token"], nullptr, 16)};
  if (values.contains("--clients")) arguments.clients = std::stoul(values["--clients"]);
  if (values.contains("--keys")) arguments.keys = std::stoul(values["--keys"]);
  if (values.contains("--seconds")) arguments.seconds = std::stoll(values["--seconds"]);
  if (values.contains("--writes-ok-min")) {
    arguments.writes_ok_min = std::stoull(values["--writes-ok-min"]);
  }
  if (arguments.members.empty() || arguments.clients == 0 || arguments.keys == 0 ||
      arguments.seconds <= 0) {
    return Error(ErrorCode::invalid_argument, "members, clients, keys and seconds must be > 0");
  }
  return arguments;
}

// The clients' shared record: every operation, in the order they were invoked.
class Recorder {
 public:
  explicit Recorder(io::Runtime& runtime) : runtime_(runtime) {}

  size_t invoke(harness::Operation operation) {
    operation.id = history_.size() + 1;
    operation.invoke = runtime_.now();
    history_.push_back(std::move(operation));
    return history_.size() - 1;
  }

  // Fills the outcome of operation `index` from `response`, as the simulator's workload does.
  void settle(size_t index, const Result<wire::ClientResponse>& response) {
    harness::Operation& operation = history_[index];
    operation.complete = runtime_.now();
    if (!response.ok()) {
      operation.outcome = response.code() == ErrorCode::unknown_outcome ? harness::Outcome::unknown
                                                                        : harness::Outcome::failed;
      operation.gave_up = operation.outcome == harness::Outcome::failed;
      return;
    }
    switch (response->outcome()) {
      case wire::OK:
        operation.outcome = harness::Outcome::ok;
        if (!operation.writes.empty()) {
          operation.commit_counter = CommitCounter(response->commit_counter());
          writes_ok_++;
        } else {
          operation.reads = results_of(*response);
        }
        return;
      case wire::CONDITION_FAILED:
        operation.outcome = harness::Outcome::ok;
        operation.condition_failed = true;
        return;
      case wire::UNKNOWN:
        operation.outcome = harness::Outcome::unknown;
        return;
      default:
        operation.outcome = harness::Outcome::failed;
        return;
    }
  }

  harness::History& history() { return history_; }
  const harness::Operation& operation(size_t index) const { return history_[index]; }
  uint64_t writes_ok() const { return writes_ok_; }

 private:
  static std::vector<harness::ReadResult> results_of(const wire::ClientResponse& response) {
    std::vector<harness::ReadResult> results;
    for (const wire::KeyValue& entry : response.results()) {
      results.push_back(entry.found() ? harness::ReadResult::found(entry.key(), entry.value(),
                                                                   CommitCounter(entry.version()))
                                      : harness::ReadResult::missing(entry.key()));
    }
    return results;
  }

  io::Runtime& runtime_;
  harness::History history_;
  uint64_t writes_ok_ = 0;
};

wire::ClientRequest request_for(const harness::Operation& operation) {
  wire::ClientRequest request;
  if (operation.writes.empty()) {
    request.mutable_read()->set_consistency(wire::Read::LINEARIZABLE);
    for (const harness::ReadResult& read : operation.reads)
      request.mutable_read()->add_keys(read.key);
    return request;
  }
  wire::Transaction* transaction = request.mutable_transaction();
  transaction->set_trace_id(operation.id);
  for (const harness::Condition& condition : operation.conditions) {
    wire::Condition* target = transaction->add_conditions();
    target->set_key(condition.key);
    target->set_value_equals(condition.value);
  }
  for (const harness::Write& write : operation.writes) {
    wire::Operation* target = transaction->add_operations();
    target->set_key(write.key);
    target->set_put(*write.value);
  }
  return request;
}

// One client: puts, compare-and-sets on the value it last saw, and linearizable reads, on
// random keys, until `stop_at`.
void run_client(io::Runtime& runtime, const Arguments& arguments, Recorder& recorder,
                uint32_t client, Instant stop_at) {
  engine::Client session(runtime, arguments.group, arguments.members);
  std::map<std::string, std::string> seen;
  Rng& rng = runtime.rng();
  for (uint64_t sequence = 0; runtime.now() < stop_at; sequence++) {
    runtime.sleep_for(Duration::milliseconds(static_cast<int64_t>(rng.uniform(4))));
    harness::Operation operation;
    operation.client = client;
    const std::string key = concat("k", rng.uniform(arguments.keys));
    const std::string value = concat("c", client, "-", sequence);
    const uint64_t pick = rng.uniform(10);
    if (pick < 4) {
      operation.reads.push_back(harness::ReadResult::missing(key));
    } else if (pick < 7 && seen.contains(key)) {
      operation.conditions.push_back(harness::Condition::value_equals(key, seen[key]));
      operation.writes.push_back(harness::Write::put(key, value));
    } else {
      operation.writes.push_back(harness::Write::put(key, value));
    }
    const size_t index = recorder.invoke(std::move(operation));
    const auto response =
        session.call(request_for(recorder.operation(index)), runtime.now() + Duration::seconds(5));
    recorder.settle(index, response);
    const harness::Operation& settled = recorder.operation(index);
    if (settled.outcome != harness::Outcome::ok || settled.condition_failed) continue;
    if (!settled.writes.empty()) seen[key] = *settled.writes[0].value;
    if (!settled.reads.empty() && settled.reads[0].value) seen[key] = *settled.reads[0].value;
  }
}

// Reads every key once, linearizably, retrying until answered or `deadline`. False if a key
// could not be read.
bool read_every_key(io::Runtime& runtime, const Arguments& arguments, Recorder& recorder,
                    Instant deadline) {
  engine::Client session(runtime, arguments.group, arguments.members);
  for (uint32_t key = 0; key < arguments.keys; key++) {
    bool answered = false;
    while (!answered && runtime.now() < deadline) {
      harness::Operation operation;
      operation.client = arguments.clients + 1;
      operation.reads.push_back(harness::ReadResult::missing(concat("k", key)));
      const size_t index = recorder.invoke(std::move(operation));
      recorder.settle(index, session.call(request_for(recorder.operation(index)), deadline));
      answered = recorder.operation(index).outcome == harness::Outcome::ok;
    }
    if (!answered) {
      std::fprintf(stderr, "real_history: k%u was not read before the deadline\n", key);
      return false;
    }
  }
  return true;
}

int judge(const Recorder& recorder, const harness::History& history, bool every_key_read,
          const Arguments& arguments) {
  size_t unknown = 0;
  for (const harness::Operation& operation : history)
    unknown += operation.outcome == harness::Outcome::unknown;
  std::printf("real_history: %zu operations, %llu writes acknowledged, %zu unknown\n",
              history.size(), static_cast<unsigned long long>(recorder.writes_ok()), unknown);
  if (Status valid = harness::validate_history(history); !valid.ok()) {
    std::fprintf(stderr, "real_history: %s\n", valid.error().to_string().c_str());
    return 3;
  }
  const harness::LinearizabilityReport report = harness::check_linearizability(history);
  std::printf("real_history: verdict %s over %zu keys\n", harness::verdict_name(report.verdict),
              report.keys.size());
  if (report.verdict == harness::Verdict::violation) {
    std::fprintf(stderr, "%s\n", report.explain(history).c_str());
    return 1;
  }
  if (report.verdict != harness::Verdict::linearizable) {
    std::fprintf(stderr, "%s\n", report.explain(history).c_str());
    return 3;
  }
  if (!every_key_read) return 3;
  if (recorder.writes_ok() < arguments.writes_ok_min) {
    std::fprintf(stderr, "real_history: only %llu writes acknowledged, fewer than %llu\n",
                 static_cast<unsigned long long>(recorder.writes_ok()),
                 static_cast<unsigned long long>(arguments.writes_ok_min));
    return 3;
  }
  return 0;
}

int run(int argc, char** argv) {
  auto arguments = parse_arguments(argc, argv);
  if (!arguments.ok()) {
    std::fprintf(stderr,
                 "real_history: %s\nusage: real_history --members HOST:PORT,... --group NAME "
                 "--token HEX [--clients N] [--keys N] [--seconds S] [--writes-ok-min N]\n",
                 arguments.error().message().c_str());
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  io::real::RealRuntimeOptions options;
  options.name = "real_history";
  auto runtime = io::real::RealRuntime::create(options);
  if (!runtime.ok()) {
    std::fprintf(stderr, "real_history: %s\n", runtime.error().to_string().c_str());
    return 3;
  }
  io::Runtime& loop = **runtime;
  Recorder recorder(loop);
  bool every_key_read = false;
  const int main_result = (*runtime)->run_main([&] {
    const Instant stop_at = loop.now() + Duration::seconds(arguments->seconds);
    size_t running = arguments->clients;
    io::Event all_done(loop);
    for (uint32_t client = 1; client <= arguments->clients; client++) {
      loop.spawn(concat("c", client), [&, client] {
        run_client(loop, *arguments, recorder, client, stop_at);
        if (--running == 0) all_done.set();
      });
    }
    all_done.wait();
    every_key_read = read_every_key(loop, *arguments, recorder, loop.now() + Duration::seconds(60));
  });
  if (main_result != 0) return 3;
  return judge(recorder, recorder.history(), every_key_read, *arguments);
}

}  // namespace
}  // namespace quire

int main(int argc, char** argv) {
  return quire::run(argc, argv);
}
