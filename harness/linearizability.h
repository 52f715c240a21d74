// The linearizability checker: is there an order of the history's operations, consistent with
// real time, in which every answer is what a single register per key would have given?
// See docs/harness.md, "Linearizability checker".
//
// P-compositional: the history is projected onto each key (a multi-key transaction becomes one
// operation per key it touches) and each key is checked alone. That is necessary for a
// linearizable multi-key store, not sufficient: a transaction that is atomic on each key but
// interleaves differently on two keys passes here. The oracle checker covers the rest.
//
// Per key, the model is a register: absent, or a value with a version (the commit counter that
// wrote it, which may be unknown). Reads return the state; puts and removes set it; conditions
// test it. Versions are checked where known: a read's version must equal the writer's commit
// counter, a version condition must match, and known versions grow along the order. A version
// that is not known (an unknown operation, a response without a counter) is bound by the first
// read or condition that reports it.
//
// Failed operations are dropped. Unknown operations may take effect at any point after their
// invocation, or never; their read answers are ignored.
//
// The search is Wing & Gong's with Lowe's just-in-time linearization and a memo of (linearized
// set, model state), as in Knossos and Porcupine. It is bounded per key by a step budget and a
// memo budget; a key whose search exceeds either is "unknown", never "linearizable".
//
// Deterministic: equal histories and budgets give equal reports. Pure: no I/O, no clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/history.h"

namespace quire::harness {

enum class Verdict : uint8_t {
  linearizable,
  violation,  // No order explains the answers.
  unknown,    // The budget ran out before an answer.
};

const char* verdict_name(Verdict verdict);

struct CheckBudget {
  // Search steps (one attempt to place or to take back one operation) per key.
  uint64_t steps_max_per_key = 20'000'000;
  // Bytes of the memo per key (linearized sets and model states already explored), about 80
  // bytes an entry. At most 32 GiB.
  size_t memo_bytes_max_per_key = size_t{256} << 20;
};

struct KeyReport {
  Key key;
  Verdict verdict = Verdict::linearizable;
  size_t operation_count = 0;        // Operations projected onto this key (failed ones excluded).
  size_t dropped_unknown_count = 0;  // Unknown writes dropped: no operation could observe them.
  uint64_t steps = 0;
  size_t memo_entries = 0;
  size_t memo_bytes = 0;

  // Verdict::unknown: which budget ran out.
  std::string unknown_reason;

  // Verdict::violation. The longest order found that explains a prefix of the history (the ids
  // of its operations, in order), the register's state after it, and the operation whose
  // completion came next but which could not be placed after that prefix. `candidates` are the
  // operations that were concurrent with it at that point (each was tried first).
  std::vector<uint64_t> longest_prefix;
  std::string state_after_prefix;
  std::optional<uint64_t> blocked_operation;
  std::vector<uint64_t> candidates;
};

struct LinearizabilityReport {
  // violation if any key has one; else unknown if any key is unknown; else linearizable.
  Verdict verdict = Verdict::linearizable;
  std::vector<KeyReport> keys;  // Sorted by key.

  // The first key with a violation (in key order), or the first unknown one, or nullptr.
  const KeyReport* first_problem() const;
  // A few lines for people: the verdict, and for the first problem key the last operations of
  // the longest explained prefix, the state, the blocked operation and its rivals, described
  // from `history` (the one checked).
  std::string explain(const History& history) const;
};

// REQUIRES: validate_history(history) is ok (asserted).
LinearizabilityReport check_linearizability(const History& history, const CheckBudget& budget = {});

}  // namespace quire::harness
