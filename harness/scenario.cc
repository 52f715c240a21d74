#include "harness/scenario.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>

#include "harness/scenario.pb.h"
#include "io/base/text.h"

namespace quire::harness {
namespace {

class ErrorList : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    errors.push_back(concat("line ", line + 1, ":", column + 1, ": ", message));
  }
  std::vector<std::string> errors;
};

bool known_kind(const std::string& kind) {
  sim::FaultKind parsed;
  return kind == "restart_all" || sim::parse_fault_kind(kind, &parsed);
}

Result<ScheduledFault> fault_from(const scenario::Fault& fault, uint32_t members, size_t index) {
  const auto where = [&](const std::string& what) {
    return Error(ErrorCode::invalid_argument, concat("fault ", index + 1, ": ", what));
  };
  if (!known_kind(fault.kind())) return where(concat("unknown kind '", fault.kind(), "'"));
  if (fault.member() > members || fault.other() > members) return where("no such member");
  ScheduledFault scheduled;
  scheduled.at = Duration::milliseconds(fault.at_ms());
  scheduled.trigger = static_cast<ScheduledFault::Trigger>(fault.when());
  scheduled.kind = fault.kind();
  scheduled.length = Duration::milliseconds(fault.for_ms());
  scheduled.member = fault.member();
  scheduled.follower = fault.follower();
  scheduled.other = fault.other();
  for (uint32_t member : fault.group()) {
    if (member == 0 || member > members) return where("partition names no such member");
    scheduled.group.push_back(member);
  }
  if ((fault.kind() == "asymmetric_partition" || fault.kind() == "clog") && fault.other() == 0) {
    return where("needs `other`, the receiving end");
  }
  if (fault.kind() == "partition" && fault.group().empty()) return where("needs a `group`");
  scheduled.probability = fault.probability();
  scheduled.drift_ppm = fault.drift_ppm();
  scheduled.wall_offset = Duration::milliseconds(fault.wall_offset_ms());
  scheduled.path = fault.path();
  scheduled.count = std::max<uint32_t>(fault.count(), 1);
  return scheduled;
}

template <class Value>
void keep_or_set(Value& target, uint64_t given) {
  if (given != 0) target = static_cast<Value>(given);
}

}  // namespace

Result<Scenario> parse_scenario(const std::string& text, const std::string& name) {
  scenario::Scenario parsed;
  google::protobuf::TextFormat::Parser parser;
  ErrorList errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &parsed)) {
    std::string message = concat("scenario ", name, " does not parse");
    for (const std::string& error : errors.errors)
      message += concat("; ", error);
    return Error(ErrorCode::invalid_argument, message);
  }
  Scenario scenario;
  scenario.name = name;
  scenario.description = parsed.description();
  ClusterSpec spec = parsed.swarm() ? ClusterSpec::draw(parsed.seed()) : ClusterSpec{};
  spec.seed = parsed.seed();
  if (!parsed.swarm()) spec.faults = sim::FaultPlan{};  // No random faults unless asked.
  if (parsed.swarm() && parsed.swarm_fault_kinds() != 0) {
    for (size_t index = parsed.swarm_fault_kinds(); index < sim::fault_kind_count; index++) {
      spec.faults.enabled[index] = false;
    }
  }
  const scenario::Cluster& cluster = parsed.cluster();
  keep_or_set(spec.member_count, cluster.members());
  if (spec.member_count % 2 == 0 || spec.member_count > 9) {
    return Error(ErrorCode::invalid_argument,
                 concat("scenario ", name, ": members must be 1, 3, 5, 7 or 9"));
  }
  keep_or_set(spec.client_count, cluster.clients());
  if (cluster.duration_ms() != 0) spec.duration = Duration::milliseconds(cluster.duration_ms());
  if (cluster.liveness_bound_ms() != 0) {
    spec.liveness_bound = Duration::milliseconds(cluster.liveness_bound_ms());
  }
  if (cluster.write_stall_max_ms() != 0) {
    spec.write_stall_max = Duration::milliseconds(cluster.write_stall_max_ms());
  }
  if (cluster.tick_ms() != 0) spec.tick_interval = Duration::milliseconds(cluster.tick_ms());
  keep_or_set(spec.heartbeat_interval_ticks, cluster.heartbeat_ticks());
  keep_or_set(spec.election_timeout_ticks_min, cluster.election_ticks_min());
  keep_or_set(spec.election_timeout_ticks_max, cluster.election_ticks_max());
  keep_or_set(spec.prepare_timeout_ticks, cluster.prepare_timeout_ticks());
  keep_or_set(spec.halog_retention_count_max, cluster.halog_retention_max());
  keep_or_set(spec.block_size_bytes, cluster.block_size_bytes());
  if (cluster.fifo_scheduler()) spec.shuffle_fibers = false;
  if (parsed.has_workload()) {
    const scenario::Workload& workload = parsed.workload();
    WorkloadMix& mix = spec.workload;
    mix.reads = workload.reads();
    mix.writes = workload.writes();
    mix.compare_and_sets = workload.compare_and_sets();
    mix.removes = workload.removes();
    mix.transactions = workload.transactions();
    mix.local_reads = workload.local_reads();
    mix.historical_reads = workload.historical_reads();
    keep_or_set(mix.key_count, workload.key_count());
    mix.large_value_percent = workload.large_value_percent();
    if (workload.think_time_max_ms() != 0) {
      mix.think_time_max = Duration::milliseconds(workload.think_time_max_ms());
    }
    mix.fresh_client_per_operation = workload.fresh_client_per_operation();
    if (workload.read_attempt_timeout_ms() != 0) {
      mix.read_attempt_timeout = Duration::milliseconds(workload.read_attempt_timeout_ms());
    }
  }
  for (int index = 0; index < parsed.faults_size(); index++) {
    auto fault = fault_from(parsed.faults(index), spec.member_count, static_cast<size_t>(index));
    if (!fault.ok()) {
      return Error(ErrorCode::invalid_argument,
                   concat("scenario ", name, ": ", fault.error().message()));
    }
    spec.scheduled_faults.push_back(std::move(*fault));
  }
  if (parsed.has_random_faults()) {
    const scenario::RandomFaults& random = parsed.random_faults();
    spec.faults.enabled = {};  // The kinds listed replace what a swarm seed drew.
    for (const std::string& kind : random.kinds()) {
      sim::FaultKind parsed_kind;
      if (kind == "all") {
        spec.faults.enable_all();
      } else if (sim::parse_fault_kind(kind, &parsed_kind)) {
        spec.faults.set(parsed_kind);
      } else {
        return Error(ErrorCode::invalid_argument,
                     concat("scenario ", name, ": unknown random fault '", kind, "'"));
      }
    }
    if (random.mean_interval_ms() != 0) {
      spec.faults.mean_interval = Duration::milliseconds(random.mean_interval_ms());
    }
    if (random.duration_max_ms() != 0) {
      spec.faults.duration_max = Duration::milliseconds(random.duration_max_ms());
    }
    spec.over_budget = random.over_budget();
  }
  if (!parsed.swarm() || parsed.has_random_faults()) {
    spec.faults.max_faulty_nodes =
        spec.over_budget ? spec.member_count : (spec.member_count - 1) / 2;
  }
  scenario.spec = spec;
  const scenario::Expect& expect = parsed.expect();
  scenario.expect.outcome = static_cast<ScenarioExpectation::Outcome>(expect.outcome());
  scenario.expect.marks.assign(expect.marks().begin(), expect.marks().end());
  scenario.expect.commits_min = expect.commits_min();
  return scenario;
}

std::vector<std::string> judge_scenario(const Scenario& scenario, const SimulationReport& report) {
  std::vector<std::string> differences;
  const ScenarioExpectation& expect = scenario.expect;
  const int expected_code = expect.outcome == ScenarioExpectation::Outcome::pass ? 0
                            : expect.outcome == ScenarioExpectation::Outcome::liveness_failure
                                ? 128
                                : 129;
  if (report.exit_code() != expected_code) {
    differences.push_back(
        concat("expected exit code ", expected_code, ", got ", report.exit_code()));
  }
  for (const std::string& mark : expect.marks) {
    if (!report.marks.contains(mark))
      differences.push_back(concat("mark ", mark, " never reached"));
  }
  // Only when asked: an over-budget scenario may stop before anything checkable commits.
  if (expect.commits_min > 0 && report.oracle.commit_points < expect.commits_min + 1) {
    differences.push_back(
        concat("expected at least ", expect.commits_min, " commit points, got ",
               report.oracle.commit_points > 0 ? report.oracle.commit_points - 1 : 0));
  }
  return differences;
}

}  // namespace quire::harness
