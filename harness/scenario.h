// Scenario files (harness/scenario.proto): load one into a ClusterSpec plus what it expects, and
// judge a run against it. docs/harness.md, "Scenarios".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/cluster_spec.h"
#include "harness/simulation.h"
#include "io/base/result.h"

namespace quire::harness {

struct ScenarioExpectation {
  enum class Outcome : uint8_t { pass, liveness_failure, correctness_failure };
  Outcome outcome = Outcome::pass;
  std::vector<std::string> marks;
  uint64_t commits_min = 0;
};

struct Scenario {
  std::string name;  // The file's stem.
  std::string description;
  ClusterSpec spec;
  ScenarioExpectation expect;
};

// Parses a scenario's text. Errors: invalid_argument with the line and what is wrong.
Result<Scenario> parse_scenario(const std::string& text, const std::string& name);

// Whether `report` is what `scenario` expects; the lines say what differs (empty: it is).
std::vector<std::string> judge_scenario(const Scenario& scenario, const SimulationReport& report);

}  // namespace quire::harness
