// EventLoop: the real runtime's single thread of control. It owns the node's fiber scheduler,
// the timer heap and the epoll set. run() repeats: resume the fibers that are ready, fire the
// timers that are due, then wait in epoll until the next timer's deadline; readiness events and
// io_uring completions (through an eventfd in the epoll set) ready the fibers parked on them.
// Everything here runs on one thread; nothing is thread-safe. See docs/io.md, "Real runtime".
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "io/base/ids.h"
#include "io/base/result.h"
#include "io/fiber.h"
#include "io/real/unique_fd.h"
#include "io/runtime.h"

namespace quire::io::real {

// Something registered in the epoll set. The loop calls on_events() outside any fiber with the
// epoll event mask (EPOLLIN, ...). It must not suspend; it readies the fibers that waited.
class EventSource {
 public:
  virtual void on_events(uint32_t events) = 0;

 protected:
  ~EventSource() = default;
};

// Why run() returned.
enum class RunEnd : uint8_t {
  stopped,  // stop() was called.
  idle,     // No fiber is ready, no timer is pending and no fiber waits for I/O: nothing can
            // ever happen again (every fiber finished, or the rest wait on each other).
};

class EventLoop {
 public:
  static Result<std::unique_ptr<EventLoop>> create(size_t fiber_stack_size_bytes);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  Scheduler& scheduler() { return scheduler_; }
  // CLOCK_MONOTONIC.
  static Instant now();
  // CLOCK_REALTIME, nanoseconds since the Unix epoch.
  static int64_t wall_clock_ns();

  // Timers fire in (deadline, sequence) order: equal deadlines fire in the order of adding.
  TimerId add_timer(Instant deadline, std::function<void()> callback);
  void cancel_timer(TimerId timer);
  size_t timer_count() const { return timer_callbacks_.size(); }

  // Adds `fd` to the epoll set with `events` (EPOLLIN | EPOLLET, ...); `source` gets its events
  // until unwatch(). REQUIRES: `source` outlives the registration. Errors: io_error.
  Status watch(int fd, uint32_t events, EventSource* source);
  void unwatch(int fd);

  // Runs until stop() or until nothing can happen anymore. REQUIRES: called outside any fiber,
  // and not from inside run().
  RunEnd run();
  // Makes run() return once the running fiber or timer callback yields control to the loop.
  void stop() { stop_requested_ = true; }

  // A fiber that waits for readiness or an io_uring completion without a timer holds one of
  // these, so that run() can tell "waiting for the kernel" from "deadlocked".
  class IoWaitScope {
   public:
    explicit IoWaitScope(EventLoop& loop) : loop_(loop) { loop_.io_wait_count_++; }
    ~IoWaitScope() { loop_.io_wait_count_--; }
    IoWaitScope(const IoWaitScope&) = delete;
    IoWaitScope& operator=(const IoWaitScope&) = delete;

   private:
    EventLoop& loop_;
  };

 private:
  struct TimerEntry {
    Instant deadline;
    TimerId id;  // Doubles as the sequence: ids only grow.
    bool operator>(const TimerEntry& other) const {
      return deadline != other.deadline ? deadline > other.deadline : id > other.id;
    }
  };

  EventLoop(UniqueFd epoll_fd, size_t fiber_stack_size_bytes);
  void run_ready_batch();
  void fire_due_timers();
  void drop_cancelled_timer_tops();
  void compact_timer_heap();
  // Waits in epoll for at most `timeout` (negative: no limit) and dispatches the events.
  void poll(Duration timeout);
  Duration time_to_next_timer();

  UniqueFd epoll_fd_;
  Scheduler scheduler_;
  // A min-heap by (deadline, id). Cancelled timers stay in the heap until they reach the top or
  // a compaction; the callback map says which are live. The map is only looked up, never
  // iterated, so its order cannot leak into behaviour.
  std::vector<TimerEntry> timer_heap_;
  std::unordered_map<TimerId, std::function<void()>> timer_callbacks_;
  TimerId next_timer_id_ = 1;
  size_t io_wait_count_ = 0;
  size_t watch_count_ = 0;
  bool stop_requested_ = false;
  bool running_ = false;
  // epoll_pwait2 (nanosecond timeouts) is new in Linux 5.11 and may be filtered by seccomp;
  // then the loop falls back to epoll_wait with the timeout rounded up to a millisecond.
  bool precise_wait_ = true;
};

}  // namespace quire::io::real
