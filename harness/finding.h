// Finding: one thing a checker found wrong, named by the checker so that failures group by
// signature (quire-sim fuzz).
#pragma once

#include <string>
#include <vector>

namespace quire::harness {

enum class FindingKind : uint8_t { correctness, liveness };

struct Finding {
  std::string checker;  // "linearizability", "durability", ...
  FindingKind kind = FindingKind::correctness;
  std::string message;
};

using Findings = std::vector<Finding>;

}  // namespace quire::harness
