// Goal: the simulator passes every runtime conformance check (tests/io/conformance), the same
// bodies the real runtime passes, so that the simulator cannot drift from reality.
// Method: each check runs as the main fiber of node "n0" in a fresh world (fresh disk image),
// under several seeds, with the default latencies; the world runs until main returns.
#include <gtest/gtest.h>

#include "sim/world.h"
#include "tests/io/conformance/conformance.h"

namespace quire::test {
namespace {

struct SimCase {
  ConformanceCheck check;
  uint64_t seed;
};

std::vector<SimCase> sim_cases() {
  std::vector<SimCase> cases;
  for (const ConformanceCheck& check : conformance_checks()) {
    for (uint64_t seed : {1, 2, 3})
      cases.push_back({check, seed});
  }
  return cases;
}

// Names the case in ctest's listing instead of dumping its bytes.
void PrintTo(const SimCase& test_case, std::ostream* out) {
  *out << test_case.check.name << " seed " << test_case.seed;
}

class SimConformance : public testing::TestWithParam<SimCase> {};

TEST_P(SimConformance, Check) {
  const SimCase& test_case = GetParam();
  sim::World world(sim::WorldOptions{.seed = test_case.seed});
  bool finished = false;
  const NetworkSetup setup{io::Address{"n0", 9000}, [](io::Listener&) {
                             return io::Address{"n0", 9000};
                           }};
  world.add_node("n0", [&](io::Runtime& runtime) {
    test_case.check.body(runtime, setup);
    finished = true;
  });
  world.start(0);
  const bool done = world.run_until([&] { return finished; }, Instant() + Duration::seconds(600));
  EXPECT_TRUE(done) << test_case.check.name << " did not finish within 600 simulated seconds";
}

INSTANTIATE_TEST_SUITE_P(Every, SimConformance, testing::ValuesIn(sim_cases()),
                         [](const testing::TestParamInfo<SimCase>& info) {
                           return info.param.check.name + "_seed" + std::to_string(info.param.seed);
                         });

}  // namespace
}  // namespace quire::test
