#include "harness/simulation.h"

#include "harness/cluster.h"
#include "harness/commit_safety.h"
#include "harness/convergence.h"
#include "harness/journal_copy.h"
#include "harness/snapshot_check.h"
#include "io/base/text.h"
#include "sim/fault_injector.h"

namespace quire::harness {
namespace {

// Every member runs; one leads the highest term; every other follows it at its commit point.
bool recovered(SimCluster& cluster, std::string* why) {
  std::optional<engine::core::ReplicaStatus> leader;
  std::vector<engine::core::ReplicaStatus> statuses;
  for (NodeId member : cluster.member_ids()) {
    engine::Node* node = cluster.node(member);
    if (node == nullptr || node->driver() == nullptr) {
      *why = concat("n", member, " is down");
      return false;
    }
    const engine::core::ReplicaStatus status = node->driver()->replica().status();
    statuses.push_back(status);
    if (status.role == engine::core::Role::leader && (!leader || status.term > leader->term)) {
      leader = status;
    }
  }
  if (!leader) {
    *why = "no leader";
    return false;
  }
  for (size_t index = 0; index < statuses.size(); index++) {
    const engine::core::ReplicaStatus& status = statuses[index];
    if (status.role == engine::core::Role::leader) {
      if (status.term != leader->term) {
        *why = concat("n", index + 1, " still leads term ", status.term);
        return false;
      }
      continue;
    }
    if (status.term != leader->term || status.catching_up ||
        status.committed != leader->committed) {
      *why = concat("n", index + 1, " is ", engine::core::role_name(status.role), " in term ",
                    status.term, " at ", status.committed, status.catching_up ? " catching up" : "",
                    "; the leader is at ", leader->committed, " in term ", leader->term);
      return false;
    }
  }
  return true;
}

void add(Findings& target, Findings found) {
  for (Finding& finding : found)
    target.push_back(std::move(finding));
}

}  // namespace

bool SimulationReport::failed_correctness() const {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& each) { return each.kind == FindingKind::correctness; });
}

bool SimulationReport::failed_liveness() const {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& each) { return each.kind == FindingKind::liveness; });
}

int SimulationReport::exit_code() const {
  if (failed_correctness()) return 129;
  if (failed_liveness()) return 128;
  return 0;
}

std::string SimulationReport::summary() const {
  std::string text =
      concat("  workload: ", workload.issued, " issued, ", workload.ok, " ok (",
             workload.condition_failed, " condition failed), ", workload.failed, " failed, ",
             workload.unknown, " unknown, ", workload.point_reads, " point reads\n");
  text += concat("  oracle: ", oracle.commit_points, " commit points, ",
                 oracle.commit_points_compared, " compared, ", oracle.transactions_applied,
                 " transactions, ", oracle.point_reads_checked, " point reads\n");
  text += concat("  linearizability: ", verdict_name(linearizability), "\n");
  text += concat("  healed at ", sim::format_time(healed), ", ",
                 recovered ? concat("recovered at ", sim::format_time(*recovered))
                           : std::string("did not recover"),
                 "; ended at ", sim::format_time(ended), "\n");
  text += concat("  trace: ", trace_events, " events, hash ", hex64(trace_hash), "\n");
  for (const Finding& finding : findings) {
    text += concat("  FAIL ", finding.checker, ": ", finding.message, "\n");
  }
  for (const Finding& note : notes)
    text += concat("  note ", note.checker, ": ", note.message, "\n");
  return text;
}

SimulationReport run_simulation(const ClusterSpec& spec, const SimulationOptions& options) {
  SimulationReport report;
  report.spec = spec;
  SimCluster cluster(spec, options.trace);
  sim::World& world = cluster.world();
  cluster.start();
  sim::FaultInjector injector(world, spec.faults, split_seed(spec.seed, "injector"));
  const Instant heal_at = Instant() + spec.duration;
  injector.schedule(Instant() + Duration::seconds(1), heal_at);
  Workload workload(cluster);
  workload.start(heal_at);
  world.run_until(heal_at);
  report.healed = world.now();

  // Liveness: after the faults heal, a quorum meets, every member rejoins, and a write commits.
  bool probe_committed = false;
  workload.start_probe(&probe_committed);
  std::string why;
  const bool live = world.run_until([&] { return probe_committed && recovered(cluster, &why); },
                                    heal_at + spec.liveness_bound);
  if (live) {
    report.recovered = world.now();
  } else {
    recovered(cluster, &why);
    Finding finding{
        "liveness", FindingKind::liveness,
        concat("not recovered ", spec.liveness_bound.ms() / 1000,
               "s after the faults healed: ", probe_committed ? "" : "no write commits; ", why)};
    (spec.over_budget ? report.notes : report.findings).push_back(std::move(finding));
  }
  world.run_for(Duration::milliseconds(200));
  report.ended = world.now();
  workload.finish();

  // The checkers.
  Findings strict = check_commit_safety(cluster.observations());
  Findings relaxed;  // Only notes when over budget.
  const LinearizabilityReport linearizability =
      check_linearizability(workload.history(), options.linearizability_budget);
  report.linearizability = linearizability.verdict;
  if (linearizability.verdict != Verdict::linearizable) {
    report.linearizability_explanation = linearizability.explain(workload.history());
    Finding finding{"linearizability", FindingKind::correctness,
                    report.linearizability_explanation};
    (linearizability.verdict == Verdict::violation ? strict : report.notes).push_back(finding);
  }
  std::map<NodeId, std::unique_ptr<JournalCopy>> journals;
  const store::JournalOptions journal_options = cluster.member_config(NodeId(1)).journal;
  for (NodeId member : cluster.member_ids()) {
    auto copy = JournalCopy::open(world.disk_image(cluster.world_index(member)), journal_options);
    if (copy.ok()) {
      journals.emplace(member, std::move(*copy));
    } else {
      relaxed.push_back(
          Finding{"convergence", FindingKind::correctness,
                  concat("n", member, "'s journal does not open: ", copy.error().to_string())});
    }
  }
  if (!journals.empty()) {
    JournalCopy* furthest = nullptr;
    for (auto& [member, copy] : journals) {
      if (furthest == nullptr ||
          copy->journal().commit_counter() > furthest->journal().commit_counter()) {
        furthest = copy.get();
      }
    }
    if (live) add(relaxed, check_convergence(journals));
    add(relaxed, check_durability(furthest->journal(), cluster.observations(), workload));
    add(strict, check_against_oracle(furthest->journal(), cluster.observations(), workload,
                                     &report.oracle));
    add(relaxed, check_snapshot_roll_forward(furthest->journal(), journal_options));
  }
  add(report.findings, std::move(strict));
  add(spec.over_budget ? report.notes : report.findings, std::move(relaxed));
  report.workload = workload.counts();
  report.marks = cluster.observations().marks;
  report.fault_log = injector.log();
  report.node_exits = cluster.observations().node_exits;
  report.trace_hash = world.trace().hash();
  report.trace_events = world.trace().event_count();
  report.trace = world.trace();
  if (options.keep_records) {
    report.history = workload.history();
    report.observations = cluster.observations();
  }
  return report;
}

}  // namespace quire::harness
