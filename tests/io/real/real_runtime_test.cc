// Goal: the real runtime's loop keeps the promises the conformance checks cannot see from
// inside a fiber: how run() ends, timer order under load, fairness, tracing, seeding.
// Method: small RealRuntimes without a data directory, driven with run() and run_main().
#include "io/real/real_runtime.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>

#include "io/sync.h"

namespace quire::test {
namespace {

using io::real::RealRuntime;
using io::real::RealRuntimeOptions;
using io::real::RunEnd;

std::unique_ptr<RealRuntime> make_runtime(RealRuntimeOptions options = {}) {
  if (!options.rng_seed.has_value()) options.rng_seed = 7;
  auto runtime = RealRuntime::create(std::move(options));
  QUIRE_ASSERT_MSG(runtime.ok(), runtime.error().to_string());
  return std::move(runtime).value();
}

TEST(RealRuntime, RunMainReturnsZeroOnceMainReturns) {
  auto runtime = make_runtime();
  int steps = 0;
  EXPECT_EQ(runtime->run_main([&] {
    steps++;
    runtime->sleep_for(Duration::milliseconds(1));
    steps++;
  }),
            0);
  EXPECT_EQ(steps, 2);
  // The runtime can run again.
  EXPECT_EQ(runtime->run_main([&] { steps++; }), 0);
  EXPECT_EQ(steps, 3);
}

TEST(RealRuntime, RunEndsIdleWhenMainWaitsForNothing) {
  auto runtime = make_runtime();
  io::Event never(*runtime);
  // No timer, no I/O, nobody to set the event: the loop must notice instead of hanging.
  EXPECT_EQ(runtime->run_main([&] { never.wait(); }), 1);
  EXPECT_EQ(runtime->scheduler().fiber_count(), 1u);
  runtime.reset();  // Unwinds the parked main; the event outlives it.
}

TEST(RealRuntime, StopFromATimerEndsRun) {
  auto runtime = make_runtime();
  runtime->spawn("sleeper", [&] { runtime->sleep_for(Duration::seconds(30)); });
  const Instant start = io::real::EventLoop::now();
  runtime->add_timer(start + Duration::milliseconds(5), [&] { runtime->stop(); });
  EXPECT_EQ(runtime->run(), RunEnd::stopped);
  EXPECT_LT(io::real::EventLoop::now() - start, Duration::seconds(5));
  EXPECT_EQ(runtime->scheduler().fiber_count(), 1u);  // The sleeper is left parked.
}

TEST(RealRuntime, StopFromAFiberEndsRun) {
  auto runtime = make_runtime();
  runtime->spawn("stopper", [&] { runtime->stop(); });
  runtime->spawn("sleeper", [&] { runtime->sleep_for(Duration::seconds(30)); });
  EXPECT_EQ(runtime->run(), RunEnd::stopped);
}

TEST(RealRuntime, ManyTimersFireInDeadlineThenAdditionOrder) {
  auto runtime = make_runtime();
  Rng rng(42);
  const Instant base = runtime->now() + Duration::milliseconds(5);
  struct Fired {
    Instant deadline;
    int added_index;
  };
  std::vector<Fired> fired;
  std::vector<io::TimerId> cancelled;
  constexpr int timer_count = 5000;
  for (int index = 0; index < timer_count; index++) {
    // Few distinct deadlines, so that ties are common.
    const Instant deadline =
        base + Duration::microseconds(static_cast<int64_t>(rng.uniform(50)) * 100);
    const io::TimerId id = runtime->add_timer(deadline, [&fired, deadline, index] {
      fired.push_back({deadline, index});
    });
    if (index % 5 == 0) cancelled.push_back(id);
  }
  for (io::TimerId id : cancelled)
    runtime->cancel_timer(id);
  EXPECT_EQ(runtime->run(), RunEnd::idle);
  ASSERT_EQ(fired.size(), static_cast<size_t>(timer_count - timer_count / 5));
  for (size_t index = 1; index < fired.size(); index++) {
    const Fired& before = fired[index - 1];
    const Fired& now = fired[index];
    ASSERT_TRUE(before.deadline < now.deadline ||
                (before.deadline == now.deadline && before.added_index < now.added_index))
        << "timer " << now.added_index << " fired after " << before.added_index;
  }
  for (const Fired& each : fired)
    EXPECT_NE(each.added_index % 5, 0);
}

TEST(RealRuntime, CancelledFarTimersDoNotPileUp) {
  auto runtime = make_runtime();
  // Receive deadlines are mostly cancelled long before they are due.
  for (int index = 0; index < 100'000; index++) {
    runtime->cancel_timer(runtime->add_timer(runtime->now() + Duration::seconds(3600), [] {}));
  }
  EXPECT_EQ(runtime->loop().timer_count(), 0u);
  EXPECT_EQ(runtime->run(), RunEnd::idle);  // Nothing live: returns at once.
}

TEST(RealRuntime, YieldingFiberDoesNotStarveTimers) {
  auto runtime = make_runtime();
  bool fired = false;
  uint64_t spins = 0;
  EXPECT_EQ(runtime->run_main([&] {
    runtime->add_timer(runtime->now() + Duration::milliseconds(2), [&] { fired = true; });
    while (!fired) {
      spins++;
      runtime->yield();
    }
  }),
            0);
  EXPECT_GT(spins, 0u);
}

TEST(RealRuntime, TraceWritesLinesOnlyWhenEnabled) {
  RealRuntimeOptions quiet;
  auto silent = make_runtime(quiet);
  testing::internal::CaptureStderr();
  silent->trace("nothing to see");
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");

  RealRuntimeOptions loud;
  loud.name = "n7";
  loud.trace = true;
  auto tracing = make_runtime(loud);
  testing::internal::CaptureStderr();
  EXPECT_EQ(tracing->run_main([&] { tracing->trace("elected"); }), 0);
  const std::string output = testing::internal::GetCapturedStderr();
  EXPECT_NE(output.find(" n7 main: elected\n"), std::string::npos) << output;
}

TEST(RealRuntime, SeededRngRepeats) {
  RealRuntimeOptions options;
  options.rng_seed = 1234;
  auto first = make_runtime(options);
  auto second = make_runtime(options);
  for (int index = 0; index < 10; index++)
    EXPECT_EQ(first->rng().next_u64(), second->rng().next_u64());
}

TEST(RealRuntime, ClocksAreTheSystemClocks) {
  auto runtime = make_runtime();
  const Instant before = runtime->now();
  const Instant after = runtime->now();
  EXPECT_LE(before, after);
  const int64_t wall_seconds = runtime->wall_clock_ns() / 1'000'000'000;
  EXPECT_LE(std::abs(wall_seconds - static_cast<int64_t>(std::time(nullptr))), 2);
}

TEST(RealRuntime, WithoutDataDirectoryHasNoDisk) {
  auto runtime = make_runtime();
  EXPECT_STREQ(runtime->disk_backend_name(), "none");
  EXPECT_DEATH(runtime->disk(), "without a data directory");
}

}  // namespace
}  // namespace quire::test
