// check_determinism(): runs a simulation twice and, if the traces differ, runs both again keeping
// the lines around the first event where they part, so that the report names that event.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/trace.h"

namespace quire::sim {

struct DivergenceReport {
  bool diverged = false;
  uint64_t event_index = 0;  // The first event whose rolling hash differs.
  uint64_t left_events = 0;  // Events in each run.
  uint64_t right_events = 0;
  uint64_t left_hash = 0;  // Final hashes.
  uint64_t right_hash = 0;
  std::vector<std::string> left_lines;  // Events [event_index - context, event_index].
  std::vector<std::string> right_lines;
  std::string to_string() const;
};

// A run of the simulation under test with the given trace options; returns its Trace's hashes
// (when options.keep_hashes) and lines (in the window asked for).
using TracedRun = std::function<Trace(const TraceOptions&)>;

// Runs `left` and `right` (usually the same seed twice). `context` events before the divergent
// one are kept in the report.
DivergenceReport check_determinism(const TracedRun& left, const TracedRun& right,
                                   uint64_t context = 8);
// The same, when the first run already happened with TraceOptions::keep_hashes: `left_trace` is
// its trace; `left` runs it again only if a divergence needs its lines.
DivergenceReport check_determinism(const Trace& left_trace, const TracedRun& left,
                                   const TracedRun& right, uint64_t context = 8);

}  // namespace quire::sim
