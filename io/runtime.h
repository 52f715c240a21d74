// Runtime: everything a node sees of the world. One per node, passed explicitly; nothing in
// store/ or engine/ reaches the OS any other way. Two implementations: io/real (epoll, io_uring,
// TCP) and sim/ (virtual time, seeded faults). See docs/io.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "io/base/ids.h"
#include "io/base/rng.h"
#include "io/disk.h"
#include "io/fiber.h"
#include "io/network.h"

namespace quire::io {

using TimerId = uint64_t;

class Runtime {
 public:
  virtual ~Runtime() = default;

  // The node's name in traces ("n1"); the real runtime uses the daemon's name.
  virtual const std::string& name() const = 0;

  // The node's monotonic clock. In simulation it may drift from the world's time.
  virtual Instant now() const = 0;
  // Nanoseconds since the Unix epoch; may jump. Only for commit times shown to people.
  virtual int64_t wall_clock_ns() const = 0;

  // Calls `callback` on the loop (outside any fiber) once now() >= deadline. Callbacks must not
  // suspend; they ready fibers. Timers with equal deadlines fire in the order they were added.
  virtual TimerId add_timer(Instant deadline, std::function<void()> callback) = 0;
  // No effect if the timer fired or was cancelled.
  virtual void cancel_timer(TimerId timer) = 0;

  virtual Scheduler& scheduler() = 0;
  virtual Disk& disk() = 0;
  virtual Network& network() = 0;
  // This node's stream; in simulation a sub-seed of the run's seed.
  virtual Rng& rng() = 0;

  // Records an event: into the simulation's trace and rolling hash, or the daemon's log.
  virtual void trace(std::string_view event) = 0;

  void spawn(std::string fiber_name, std::function<void()> body) {
    scheduler().spawn(std::move(fiber_name), std::move(body));
  }
  // Suspends until now() >= deadline.
  void sleep_until(Instant deadline);
  void sleep_for(Duration duration) { sleep_until(now() + duration); }
  // Lets every other ready fiber run once before the caller continues. Suspends.
  void yield();
};

// Cancels its timer when it goes out of scope, including when a crash unwinds the fiber.
class TimerGuard {
 public:
  TimerGuard(Runtime& runtime, TimerId timer) : runtime_(runtime), timer_(timer) {}
  ~TimerGuard() { runtime_.cancel_timer(timer_); }
  TimerGuard(const TimerGuard&) = delete;
  TimerGuard& operator=(const TimerGuard&) = delete;

 private:
  Runtime& runtime_;
  TimerId timer_;
};

}  // namespace quire::io
