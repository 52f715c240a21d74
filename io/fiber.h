// Fibers on Boost.Context and the run queue that both runtimes share. A runtime resumes fibers
// from its own source of events (epoll and io_uring completions, or the simulator's virtual-time
// heap); everything that waits (sync.h, disk, network) parks the running fiber here and readies
// it later. One Scheduler per node; it is single-threaded and never touched across threads.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace quire::io {

class Fiber;

class Scheduler {
 public:
  explicit Scheduler(size_t stack_size_bytes = 256 * 1024);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Creates a fiber that is ready at once and runs `body` when first resumed.
  // REQUIRES: !killing(). The name appears in traces and assertion reports.
  void spawn(std::string name, std::function<void()> body);

  // The fiber running on this thread, or nullptr on the loop itself.
  static Fiber* current();
  static const std::string& current_name();  // "loop" outside fibers.

  // Parks the running fiber until ready() is called for it. Suspends.
  // REQUIRES: called from a fiber of this scheduler, and !killing().
  void suspend();
  // Makes a parked fiber runnable. Ignored while killing (the fiber is about to vanish).
  // REQUIRES: `fiber` belongs to this scheduler and is parked, not already ready.
  void ready(Fiber* fiber);

  size_t ready_count() const { return ready_.size(); }
  // Identity of the ready fiber at `ready_index`: ids count up from 1 per scheduler.
  uint64_t ready_id(size_t ready_index) const;
  const std::string& ready_name(size_t ready_index) const;
  size_t fiber_count() const { return fibers_.size(); }
  // Resumes the ready fiber at position `ready_index` of the queue until it parks or ends.
  void run_one(size_t ready_index = 0);
  // Resumes ready fibers in order until none is ready.
  void run_until_idle();

  // Unwinds every fiber, newest first, so that a fiber never outlives what it borrowed from an
  // older one. A crashed or stopped node ends this way; afterwards nothing runs.
  void kill_all();
  bool killing() const { return killing_; }
  // Number of fiber switches so far (benchmarks, traces).
  uint64_t switch_count() const { return switch_count_; }

 private:
  friend class Fiber;
  void finish(Fiber* fiber);

  size_t stack_size_bytes_;
  std::vector<std::unique_ptr<Fiber>> fibers_;  // In creation order.
  std::deque<Fiber*> ready_;
  bool killing_ = false;
  uint64_t switch_count_ = 0;
  uint64_t next_fiber_id_ = 1;
};

}  // namespace quire::io
