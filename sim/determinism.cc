#include "sim/determinism.h"

#include "io/base/assert.h"
#include "io/base/text.h"

namespace quire::sim {

DivergenceReport check_determinism(const TracedRun& left, const TracedRun& right,
                                   uint64_t context) {
  TraceOptions hashes_only;
  hashes_only.keep_hashes = true;
  return check_determinism(left(hashes_only), left, right, context);
}

DivergenceReport check_determinism(const Trace& left_trace, const TracedRun& left,
                                   const TracedRun& right, uint64_t context) {
  QUIRE_ASSERT(left_trace.options().keep_hashes);
  TraceOptions hashes_only;
  hashes_only.keep_hashes = true;
  const Trace right_trace = right(hashes_only);
  DivergenceReport report;
  report.left_events = left_trace.event_count();
  report.right_events = right_trace.event_count();
  report.left_hash = left_trace.hash();
  report.right_hash = right_trace.hash();
  const std::optional<uint64_t> index = first_divergence(left_trace.hashes(), right_trace.hashes());
  if (!index) return report;
  report.diverged = true;
  report.event_index = *index;
  TraceOptions window;
  window.lines_begin = *index >= context ? *index - context : 0;
  window.lines_end = *index + 1;
  report.left_lines = left(window).lines();
  report.right_lines = right(window).lines();
  return report;
}

std::string DivergenceReport::to_string() const {
  if (!diverged) {
    return concat("deterministic: ", left_events, " events, trace hash ", hex64(left_hash));
  }
  std::string text = concat("NOT deterministic: the runs part at event ", event_index, " (",
                            left_events, " and ", right_events, " events)\nfirst run:\n");
  for (const std::string& line : left_lines)
    text += concat("  ", line, "\n");
  text += "second run:\n";
  for (const std::string& line : right_lines)
    text += concat("  ", line, "\n");
  return text;
}

}  // namespace quire::sim
