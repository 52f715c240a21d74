// Goal: one seed gives one trace, byte for byte, under every fault kind; and when two runs part,
// the report names the first event where they do.
// Method: run the chatter workload on three nodes with the fault injector twice per seed and
// compare trace hashes; plant an extra scheduler draw in one run and check the report.
#include <gtest/gtest.h>

#include <cstdio>

#include "sim/chatter.h"
#include "sim/determinism.h"
#include "sim/fault_injector.h"
#include "sim/world.h"

namespace quire::sim {
namespace {

struct ChatterRun {
  uint64_t seed = 1;
  FaultPlan plan;
  uint64_t plant_divergence_at_event = 0;
  Duration length = Duration::seconds(12);
};

struct ChatterOutcome {
  Trace trace;
  ChatterCounts counts;
  std::array<uint64_t, fault_kind_count> injected{};
};

ChatterOutcome run_chatter(const ChatterRun& run, const TraceOptions& trace_options = {}) {
  WorldOptions options;
  options.seed = run.seed;
  options.trace = trace_options;
  options.plant_divergence_at_event = run.plant_divergence_at_event;
  ChatterOutcome outcome;
  {
    World world(options);
    const std::vector<std::string> names = {"n0", "n1", "n2"};
    for (const std::string& name : names) {
      std::vector<std::string> peers;
      for (const std::string& peer : names) {
        if (peer != name) peers.push_back(peer);
      }
      world.add_node(name, chatter_main(outcome.counts, peers));
    }
    for (size_t node = 0; node < world.node_count(); node++)
      world.start(node);
    FaultInjector injector(world, run.plan, split_seed(run.seed, "injector"));
    injector.schedule(Instant() + Duration::milliseconds(100),
                      Instant() + run.length - Duration::seconds(2));
    world.run_until(Instant() + run.length);
    for (size_t kind = 0; kind < fault_kind_count; kind++) {
      outcome.injected[kind] = injector.injected(static_cast<FaultKind>(kind));
    }
    outcome.trace = world.trace();
  }
  return outcome;
}

FaultPlan only(FaultKind kind) {
  FaultPlan plan;
  plan.set(kind);
  plan.mean_interval = Duration::milliseconds(300);
  plan.duration_max = Duration::seconds(2);
  return plan;
}

class DeterminismPerFault : public ::testing::TestWithParam<size_t> {};

TEST_P(DeterminismPerFault, SameSeedSameTrace) {
  const auto kind = static_cast<FaultKind>(GetParam());
  ChatterRun run{.seed = 1000 + GetParam(), .plan = only(kind)};
  const ChatterOutcome first = run_chatter(run);
  const ChatterOutcome second = run_chatter(run);
  EXPECT_GT(first.injected[GetParam()], 0u) << fault_kind_name(kind) << " never struck";
  EXPECT_GT(first.counts.round_trips, 0u);
  EXPECT_GT(first.trace.event_count(), 1000u);
  EXPECT_EQ(first.trace.event_count(), second.trace.event_count());
  EXPECT_EQ(first.trace.hash(), second.trace.hash()) << fault_kind_name(kind);
}

// The kinds past the first strike what only a quire cluster has (HALog files, YES votes, client
// nodes): `quire-sim fuzz --check-determinism` covers them.
INSTANTIATE_TEST_SUITE_P(EveryFaultKind, DeterminismPerFault,
                         ::testing::Range<size_t>(0, fault_kind_count_first),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return std::string(fault_kind_name(static_cast<FaultKind>(info.param)));
                         });

TEST(Determinism, AllFaultsAtOnceSameTraceAndReportSaysSo) {
  ChatterRun run{.seed = 77};
  run.plan.enable_all();
  run.plan.mean_interval = Duration::milliseconds(200);
  run.plan.max_faulty_nodes = 1;
  const DivergenceReport report = check_determinism(
      [&](const TraceOptions& options) { return run_chatter(run, options).trace; },
      [&](const TraceOptions& options) { return run_chatter(run, options).trace; });
  EXPECT_FALSE(report.diverged) << report.to_string();
  EXPECT_EQ(report.left_hash, report.right_hash);
  EXPECT_NE(report.to_string().find("deterministic"), std::string::npos);
}

TEST(Determinism, DifferentSeedsGiveDifferentTraces) {
  const ChatterOutcome first = run_chatter(ChatterRun{.seed = 5});
  const ChatterOutcome second = run_chatter(ChatterRun{.seed = 6});
  EXPECT_NE(first.trace.hash(), second.trace.hash());
}

TEST(Determinism, PlantedDivergenceIsReportedAtItsEvent) {
  constexpr uint64_t planted = 20'000;
  ChatterRun left{.seed = 9};
  ChatterRun right{.seed = 9, .plant_divergence_at_event = planted};
  const DivergenceReport report = check_determinism(
      [&](const TraceOptions& options) { return run_chatter(left, options).trace; },
      [&](const TraceOptions& options) { return run_chatter(right, options).trace; });
  ASSERT_TRUE(report.diverged);
  std::printf("%s", report.to_string().c_str());
  // The extra draw shifts the network's stream; the first event it changes is the next frame
  // delivery after the planted event.
  EXPECT_GE(report.event_index, planted);
  EXPECT_LT(report.event_index, planted + 2'000);
  ASSERT_FALSE(report.left_lines.empty());
  ASSERT_FALSE(report.right_lines.empty());
  EXPECT_NE(report.left_lines.back(), report.right_lines.back());
  // The lines before the divergent one agree.
  ASSERT_EQ(report.left_lines.size(), report.right_lines.size());
  for (size_t index = 0; index + 1 < report.left_lines.size(); index++) {
    EXPECT_EQ(report.left_lines[index], report.right_lines[index]);
  }
  EXPECT_NE(report.to_string().find("NOT deterministic"), std::string::npos);
}

}  // namespace
}  // namespace quire::sim
