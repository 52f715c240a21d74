// Finding: one thing a checker found wrong, named by the checker so that failures group by
// signature (quire-sim fuzz).
#pragma once

#include <string>
#include <vector>

namespace quire::harness {

enum class FindingKind : uint8_t {
  correctness,  // A wrong answer, a lost write, divergent replicas.
  liveness,     // No recovery in time.
  unreadable,   // Data could not be read back to check it (lost, not wrong): a failure within the
                // fault budget, a note beyond it.
};

struct Finding {
  std::string checker;  // "linearizability", "durability", ...
  FindingKind kind = FindingKind::correctness;
  std::string message;
};

using Findings = std::vector<Finding>;

}  // namespace quire::harness
