#include "io/sync.h"

#include <algorithm>

namespace quire::io {

bool WaitQueue::wait(Instant deadline) {
  Fiber* fiber = Scheduler::current();
  QUIRE_ASSERT_MSG(fiber != nullptr, "wait outside a fiber");
  Waiter waiter{fiber, false};
  waiters_.push_back(&waiter);
  // Removes the waiter if the fiber leaves without being notified: on timeout, and when a
  // crash unwinds the fiber while it waits.
  struct Unlink {
    WaitQueue& queue;
    Waiter& waiter;
    ~Unlink() {
      if (!waiter.notified) queue.remove(&waiter);
    }
  } unlink{*this, waiter};
  if (deadline == Instant::max()) {
    runtime_.scheduler().suspend();
    QUIRE_ASSERT(waiter.notified);
    return true;
  }
  bool timed_out = false;
  TimerGuard timer(runtime_, runtime_.add_timer(deadline, [this, &waiter, &timed_out] {
    if (waiter.notified) return;
    timed_out = true;
    remove(&waiter);
    runtime_.scheduler().ready(waiter.fiber);
  }));
  runtime_.scheduler().suspend();
  QUIRE_ASSERT(waiter.notified != timed_out);
  return waiter.notified;
}

void WaitQueue::remove(Waiter* waiter) {
  auto found = std::find(waiters_.begin(), waiters_.end(), waiter);
  if (found != waiters_.end()) waiters_.erase(found);
}

void WaitQueue::notify_one() {
  if (waiters_.empty()) return;
  Waiter* waiter = waiters_.front();
  waiters_.pop_front();
  waiter->notified = true;
  runtime_.scheduler().ready(waiter->fiber);
}

void WaitQueue::notify_all() {
  while (!waiters_.empty())
    notify_one();
}

bool Event::wait(Instant deadline) {
  while (!set_) {
    if (!waiters_.wait(deadline)) return set_;
  }
  return true;
}

void Mutex::lock() {
  Fiber* self = Scheduler::current();
  QUIRE_ASSERT_MSG(!locked_ || owner_ != self || self == nullptr,
                   "a fiber locks a mutex it holds: deadlock");
  if (!locked_) {
    locked_ = true;
    owner_ = self;
    return;
  }
  waiters_.wait();
  QUIRE_ASSERT(locked_);  // Handed over by unlock().
  owner_ = self;
}

bool Mutex::try_lock() {
  if (locked_) return false;
  locked_ = true;
  owner_ = Scheduler::current();
  return true;
}

void Mutex::unlock() {
  QUIRE_ASSERT(locked_);
  owner_ = nullptr;
  if (waiters_.empty()) {
    locked_ = false;
  } else {
    waiters_.notify_one();  // Ownership passes to the waiter; locked_ stays true.
  }
}

}  // namespace quire::io
