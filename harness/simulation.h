// run_simulation(): one simulated run from a ClusterSpec: the cluster under the workload and the
// faults, then the faults heal and the cluster must recover within the liveness bound, then every
// checker judges what happened. Deterministic: equal specs give equal reports and traces.
// See docs/harness.md.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "harness/cluster_spec.h"
#include "harness/finding.h"
#include "harness/history.h"
#include "harness/linearizability.h"
#include "harness/observations.h"
#include "harness/oracle.h"
#include "harness/workload.h"
#include "sim/trace.h"

namespace quire::harness {

// What the liveness bound allows per commit point that the furthest-behind member must resync
// after the heal (a fetch, a replay and a sync of one HALog, with room to spare).
inline constexpr Duration liveness_resync_per_commit_point = Duration::milliseconds(20);
// What the bound allows per block a scrub pass reads: its header and its body, each at the
// simulated disk's slowest read (sim/sim_disk.h, 200 us). Small blocks make a pass slower than
// its byte rate says (seed 812020 at 300 s: 69,000 commit points in 8 KiB blocks).
inline constexpr Duration liveness_scrub_per_block = Duration::microseconds(400);

struct SimulationOptions {
  sim::TraceOptions trace;
  // Keep the history and observations in the report (for the timeline).
  bool keep_records = false;
  CheckBudget linearizability_budget;
  // Run the checkers (a determinism re-run only needs the trace).
  bool check = true;
};

struct SimulationReport {
  ClusterSpec spec;
  Findings findings;  // Failures.
  Findings notes;     // Findings that do not fail this run (over budget).
  WorkloadCounts workload;
  OracleStats oracle;
  Verdict linearizability = Verdict::linearizable;
  std::string linearizability_explanation;
  std::map<std::string, uint64_t> marks;
  std::vector<std::string> fault_log;
  std::vector<std::string> node_exits;
  uint64_t trace_hash = 0;
  uint64_t trace_events = 0;
  sim::Trace trace;  // Its hashes and lines as the trace options asked.
  Instant ended;
  Instant healed;
  std::optional<Instant> recovered;  // When the liveness condition first held.
  // With ClusterSpec::write_stall_max: the longest stretch without an acknowledged write while
  // the clients ran, and when it began.
  Duration longest_write_stall;
  Instant longest_write_stall_from;
  // With SimulationOptions::keep_records.
  History history;
  Observations observations;

  bool failed_correctness() const;
  bool failed_liveness() const;
  // 0 passed, 128 liveness failure, 129 correctness failure (quire-sim's exit codes).
  int exit_code() const;
  std::string summary() const;
};

SimulationReport run_simulation(const ClusterSpec& spec, const SimulationOptions& options = {});

}  // namespace quire::harness
