#include "harness/simulation.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "harness/availability.h"
#include "harness/cluster.h"
#include "harness/commit_safety.h"
#include "harness/convergence.h"
#include "harness/journal_copy.h"
#include "harness/scheduled_faults.h"
#include "harness/snapshot_check.h"
#include "io/base/text.h"
#include "sim/fault_injector.h"

namespace quire::harness {
namespace {

// Every member runs; one leads the highest term; every other follows it at its commit point; and
// every member scrubbed all its committed bytes since the faults healed.
bool recovered(SimCluster& cluster, Instant healed, std::string* why) {
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
    const engine::Scrubber* scrubber = node->scrubber();
    // Scrub times are on the member's own clock.
    const Instant healed_there = cluster.world().local_time(cluster.world_index(member), healed);
    if (scrubber == nullptr || scrubber->stats().passes_completed == 0 ||
        scrubber->stats().last_complete_pass_started < healed_there) {
      *why = concat("n", member, " has not scrubbed its journal since the faults healed");
      return false;
    }
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
      const NodeId member(static_cast<uint32_t>(index + 1));
      *why = concat("n", member, " is ", cluster.node(member)->driver()->replica().describe(),
                    "; the leader is at ", leader->committed, " in term ", leader->term);
      return false;
    }
  }
  return true;
}

// The liveness bound after the heal: the spec's base (for a leader, every member joined and a
// probe write) plus what the members must still do, which grows with the run (docs/harness.md,
// "Checkers"): two scrub passes over the largest journal (one may be under way at the heal; a
// whole one must begin after it), and a resync of the commit points the furthest-behind member
// lacks.
Duration liveness_bound_after_heal(SimCluster& cluster, const ClusterSpec& spec) {
  const engine::NodeConfig config = cluster.member_config(NodeId(1));
  uint64_t journal_bytes_max = 0;
  CommitCounter newest;
  CommitCounter oldest = CommitCounter(UINT64_MAX);
  for (NodeId member : cluster.member_ids()) {
    const engine::Node* node = cluster.node(member);
    if (node == nullptr || node->journal() == nullptr) continue;
    const store::RootBlock& root = node->journal()->root();
    journal_bytes_max = std::max(journal_bytes_max, root.end_offset);
    newest = std::max(newest, root.commit_counter);
    oldest = std::min(oldest, root.commit_counter);
  }
  Duration bound = spec.liveness_bound;
  if (config.scrub_bytes_per_second > 0) {
    const uint64_t blocks = journal_bytes_max / config.journal.write_cache_block_size_bytes + 1;
    const Duration reading = Duration::milliseconds(static_cast<int64_t>(
                                 journal_bytes_max * 1000 / config.scrub_bytes_per_second)) +
                             liveness_scrub_per_block * static_cast<int64_t>(blocks);
    const Duration pass = std::max(config.scrub_pass_target, reading);
    bound = bound + pass * 2;
  }
  if (oldest < newest) {
    bound = bound + liveness_resync_per_commit_point *
                        static_cast<int64_t>(newest.value() - oldest.value());
  }
  return bound;
}

// Keeps at most a few findings per checker and kind, and says how many more there were.
Findings capped(Findings found) {
  constexpr size_t kept_max = 8;
  std::map<std::pair<std::string, FindingKind>, size_t> counts;
  Findings kept;
  for (Finding& finding : found) {
    const size_t count = ++counts[{finding.checker, finding.kind}];
    if (count <= kept_max) kept.push_back(std::move(finding));
  }
  for (const auto& [key, count] : counts) {
    if (count > kept_max) {
      kept.push_back(Finding{key.first, key.second, concat("... and ", count - kept_max, " more")});
    }
  }
  return kept;
}

// The longest stretch between consecutive acknowledged writes (a condition that failed is
// acknowledged too: its write set committed) from the first acknowledgement to `until`, and when
// it began. A stall with writes pending past `until` counts up to `until`.
std::pair<Duration, Instant> longest_write_stall(const History& history, Instant until) {
  std::vector<Instant> acknowledged;
  bool pending_at_end = false;
  for (const Operation& operation : history) {
    if (operation.writes.empty() && operation.conditions.empty()) continue;
    if (operation.outcome == Outcome::ok && operation.complete && *operation.complete <= until) {
      acknowledged.push_back(*operation.complete);
    } else if (operation.invoke < until) {
      pending_at_end = pending_at_end || !operation.complete || *operation.complete > until;
    }
  }
  std::sort(acknowledged.begin(), acknowledged.end());
  if (acknowledged.empty()) return {Duration(), Instant()};
  std::pair<Duration, Instant> longest{Duration(), acknowledged.front()};
  for (size_t index = 1; index < acknowledged.size(); index++) {
    const Duration gap = acknowledged[index] - acknowledged[index - 1];
    if (gap > longest.first) longest = {gap, acknowledged[index - 1]};
  }
  if (pending_at_end && until - acknowledged.back() > longest.first) {
    longest = {until - acknowledged.back(), acknowledged.back()};
  }
  return longest;
}

}  // namespace

bool SimulationReport::failed_correctness() const {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& each) { return each.kind != FindingKind::liveness; });
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
  if (spec.write_stall_max > Duration()) {
    text += concat("  longest stretch without an acknowledged write: ", longest_write_stall.ms(),
                   "ms from ", sim::format_time(longest_write_stall_from), " (bound ",
                   spec.write_stall_max.ms(), "ms)\n");
  }
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
  cluster.yes_sent_hook = [&injector](size_t node, uint64_t counter) {
    injector.on_yes_sent(node, counter);
  };
  injector.set_leader_probe([&cluster] { return cluster.leader_index(); });
  cluster.commit_hook = [&injector](size_t node, uint64_t counter) {
    injector.on_commit(node, counter);
  };
  // The injector goes before the cluster: nothing may call it after.
  struct Unhook {
    SimCluster& cluster;
    ~Unhook() {
      cluster.yes_sent_hook = nullptr;
      cluster.commit_hook = nullptr;
    }
  } unhook{cluster};
  ScheduledFaults scheduled(cluster, spec.scheduled_faults, split_seed(spec.seed, "scheduled"),
                            &injector);
  scheduled.schedule(heal_at);
  Workload workload(cluster);
  workload.start(heal_at);
  world.run_until(heal_at);
  report.healed = world.now();

  // Liveness: after the faults heal, a quorum meets, every member rejoins, and a write commits.
  bool probe_committed = false;
  workload.start_probe(&probe_committed);
  std::string why;
  const Duration bound = liveness_bound_after_heal(cluster, spec);
  const bool live = world.run_until(
      [&] { return probe_committed && recovered(cluster, heal_at, &why); }, heal_at + bound);
  if (live) {
    report.recovered = world.now();
  } else {
    recovered(cluster, heal_at, &why);
    Finding finding{"liveness", FindingKind::liveness,
                    concat("not recovered ", bound.ms() / 1000, "s after the faults healed: ",
                           probe_committed ? "" : "no write commits; ", why)};
    (spec.over_budget ? report.notes : report.findings).push_back(std::move(finding));
  }
  world.run_for(Duration::milliseconds(200));
  report.ended = world.now();
  workload.finish();
  if (!options.check) {
    report.trace_hash = world.trace().hash();
    report.trace_events = world.trace().event_count();
    report.trace = world.trace();
    return report;
  }

  // The checkers.
  if (spec.write_stall_max > Duration()) {
    std::tie(report.longest_write_stall, report.longest_write_stall_from) =
        longest_write_stall(workload.history(), heal_at);
    if (report.longest_write_stall > spec.write_stall_max) {
      Finding finding{"stall", FindingKind::liveness,
                      concat("no write acknowledged for ", report.longest_write_stall.ms(),
                             "ms from ", sim::format_time(report.longest_write_stall_from),
                             " while the clients ran (bound ", spec.write_stall_max.ms(), "ms)")};
      (spec.over_budget ? report.notes : report.findings).push_back(std::move(finding));
    }
  }
  Findings strict = check_commit_safety(cluster.observations());
  Findings relaxed;  // Only notes when over budget.
  for (Finding& finding : check_availability(workload.history(), cluster.observations())) {
    relaxed.push_back(std::move(finding));
  }
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
    auto add = [](Findings& target, Findings found) {
      for (Finding& finding : found)
        target.push_back(std::move(finding));
    };
    if (live) add(relaxed, check_convergence(journals));
    add(relaxed, check_durability(furthest->journal(), cluster.observations(), workload));
    add(strict, check_against_oracle(furthest->journal(), cluster.observations(), workload,
                                     &report.oracle));
    add(relaxed, check_snapshot_roll_forward(furthest->journal(), journal_options));
  }
  // Beyond the budget only wrong answers fail a run: lost or unreadable data, divergence and
  // slowness are what breaking the budget may cost.
  for (Finding& finding : capped(std::move(strict))) {
    const bool tolerated = spec.over_budget && finding.kind == FindingKind::unreadable;
    (tolerated ? report.notes : report.findings).push_back(std::move(finding));
  }
  for (Finding& finding : capped(std::move(relaxed))) {
    (spec.over_budget ? report.notes : report.findings).push_back(std::move(finding));
  }
  report.workload = workload.counts();
  report.marks = cluster.observations().marks;
  report.fault_log = injector.log();
  report.fault_log.insert(report.fault_log.end(), scheduled.log().begin(), scheduled.log().end());
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
