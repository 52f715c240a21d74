// Costs of the runtime's fibers and loop: a scheduler round trip (ready + suspend + resume),
// spawning a fiber, and on the real loop: timers, yield, sleep and a channel ping-pong.
// Run: build/bench/bench_fiber (add --benchmark_filter=Timer to pick).
#include <benchmark/benchmark.h>

#include "io/fiber.h"
#include "io/real/real_runtime.h"
#include "io/sync.h"

namespace quire {
namespace {

std::unique_ptr<io::real::RealRuntime> make_runtime() {
  io::real::RealRuntimeOptions options;
  options.name = "bench";
  options.rng_seed = 1;
  auto runtime = io::real::RealRuntime::create(options);
  QUIRE_ASSERT_MSG(runtime.ok(), runtime.error().to_string());
  return std::move(runtime).value();
}

// One iteration: the loop resumes a fiber, which readies itself and parks (two switches).
void BM_SchedulerRoundTrip(benchmark::State& state) {
  io::Scheduler scheduler;
  bool done = false;
  scheduler.spawn("ping", [&] {
    while (!done) {
      scheduler.ready(io::Scheduler::current());
      scheduler.suspend();
    }
  });
  for (auto _ : state)
    scheduler.run_one(0);
  done = true;
  scheduler.run_until_idle();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SchedulerRoundTrip);

// One iteration: spawn a fiber (stack allocation with its guard page) and run it to its end.
void BM_SpawnAndFinish(benchmark::State& state) {
  io::Scheduler scheduler;
  int ran_count = 0;
  for (auto _ : state) {
    scheduler.spawn("short", [&] { ran_count++; });
    scheduler.run_one(0);
  }
  benchmark::DoNotOptimize(ran_count);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SpawnAndFinish);

// One iteration: add state.range(0) timers due now and run the loop until they have all fired.
void BM_RealLoopTimers(benchmark::State& state) {
  auto runtime = make_runtime();
  const int64_t timer_count = state.range(0);
  int64_t fired_count = 0;
  for (auto _ : state) {
    const Instant now = runtime->now();
    for (int64_t index = 0; index < timer_count; index++) {
      runtime->add_timer(now + Duration::nanoseconds(index % 7), [&fired_count] { fired_count++; });
    }
    const io::real::RunEnd end = runtime->run();
    QUIRE_ASSERT(end == io::real::RunEnd::idle);
  }
  QUIRE_ASSERT(fired_count == timer_count * static_cast<int64_t>(state.iterations()));
  state.SetItemsProcessed(fired_count);
}
BENCHMARK(BM_RealLoopTimers)->Arg(1)->Arg(1000)->Arg(100000);

// One iteration: a fiber on the real loop yields once (the loop polls epoll every 64 batches).
void BM_RealLoopYield(benchmark::State& state) {
  auto runtime = make_runtime();
  const int status = runtime->run_main([&] {
    for (auto _ : state)
      runtime->yield();
  });
  QUIRE_ASSERT(status == 0);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RealLoopYield);

// One iteration: sleep_for(0) on the real loop: a timer added, fired and cancelled, two switches.
void BM_RealLoopSleepZero(benchmark::State& state) {
  auto runtime = make_runtime();
  const int status = runtime->run_main([&] {
    for (auto _ : state)
      runtime->sleep_for(Duration::nanoseconds(0));
  });
  QUIRE_ASSERT(status == 0);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RealLoopSleepZero);

// One iteration: a value goes to another fiber and back through two channels of capacity 1.
void BM_RealLoopChannelPingPong(benchmark::State& state) {
  auto runtime = make_runtime();
  io::Channel<int> requests(*runtime, 1);
  io::Channel<int> replies(*runtime, 1);
  runtime->spawn("echo", [&] {
    for (;;) {
      Result<int> request = requests.receive();
      if (!request.ok()) return;
      QUIRE_ASSERT(replies.send(*request).ok());
    }
  });
  const int status = runtime->run_main([&] {
    int value = 0;
    for (auto _ : state) {
      QUIRE_ASSERT(requests.send(value).ok());
      value = replies.receive().value() + 1;
    }
    requests.close();
  });
  QUIRE_ASSERT(status == 0);
  // Lets the echo fiber see the close and end before the channels go away.
  QUIRE_ASSERT(runtime->run() == io::real::RunEnd::idle);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RealLoopChannelPingPong);

}  // namespace
}  // namespace quire
