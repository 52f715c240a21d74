// The simulator's speed: timer throughput of its scheduler, events per second of the io-level
// chatter workload, and simulated seconds per wall second of a whole quire cluster (3 and 5
// members, the default workload) without faults and with every fault kind on. The fault-free
// cluster is the baseline the faulty one is read against; the goal for 3 members is 1,000
// simulated seconds per wall second (docs/harness.md).
#include <benchmark/benchmark.h>

#include <chrono>

#include "harness/simulation.h"
#include "sim/chatter.h"
#include "sim/world.h"

namespace quire {
namespace {

// Timers: one node whose fiber sleeps `state.range(0)` times per iteration.
void BM_SimTimers(benchmark::State& state) {
  const int64_t sleeps = state.range(0);
  for (auto _ : state) {
    sim::World world(sim::WorldOptions{.seed = 1});
    world.add_node("n1", [sleeps](io::Runtime& runtime) {
      for (int64_t index = 0; index < sleeps; index++)
        runtime.sleep_for(Duration::microseconds(10));
    });
    world.start(0);
    world.run_for(Duration::seconds(3600));
  }
  state.SetItemsProcessed(state.iterations() * sleeps);
}
BENCHMARK(BM_SimTimers)->Arg(100'000)->Unit(benchmark::kMillisecond);

// Chatter: three nodes echoing frames and writing files for 10 simulated seconds.
void BM_SimChatterEvents(benchmark::State& state) {
  uint64_t events = 0;
  for (auto _ : state) {
    sim::World world(sim::WorldOptions{.seed = 2});
    sim::ChatterCounts counts;
    const std::vector<std::string> names = {"n1", "n2", "n3"};
    for (const std::string& name : names)
      world.add_node(name, sim::chatter_main(counts, names));
    for (size_t node = 0; node < names.size(); node++)
      world.start(node);
    world.run_for(Duration::seconds(10));
    events += world.steps();
  }
  state.counters["events_per_second"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SimChatterEvents)->Unit(benchmark::kMillisecond)->UseRealTime();

// A quire cluster: `range(0)` members, 60 simulated seconds of the default workload, faults off
// (range(1) == 0) or every kind on (1), then the heal and the checkers.
void BM_SimulatedCluster(benchmark::State& state) {
  double simulated_seconds = 0;
  uint64_t events = 0;
  uint64_t seed = 1;
  for (auto _ : state) {
    harness::ClusterSpec spec = harness::ClusterSpec::draw(seed++);
    spec.member_count = static_cast<uint32_t>(state.range(0));
    spec.workload = harness::WorkloadMix{};
    spec.over_budget = false;
    spec.duration = Duration::seconds(60);
    if (state.range(1) == 0) {
      spec.faults = sim::FaultPlan{};
    } else {
      spec.faults.enabled.fill(true);
    }
    const harness::SimulationReport report = harness::run_simulation(spec);
    simulated_seconds += static_cast<double>(report.ended.ns()) / 1e9;
    events += report.trace_events;
  }
  state.counters["sim_seconds_per_second"] =
      benchmark::Counter(simulated_seconds, benchmark::Counter::kIsRate);
  state.counters["events_per_second"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SimulatedCluster)
    ->ArgsProduct({{3, 5}, {0, 1}})
    ->ArgNames({"members", "faults"})
    ->Iterations(4)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace quire
