// Fiber-aware waiting: WaitQueue (the primitive), Event, Mutex and a bounded Channel. Waiters
// are woken in FIFO order, so the order of wake-ups never depends on addresses. Single-threaded:
// every method is called from the node's loop or one of its fibers. Waiting methods suspend.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <utility>

#include "io/base/result.h"
#include "io/base/text.h"
#include "io/runtime.h"

namespace quire::io {

class WaitQueue {
 public:
  explicit WaitQueue(Runtime& runtime) : runtime_(runtime) {}
  WaitQueue(const WaitQueue&) = delete;
  WaitQueue& operator=(const WaitQueue&) = delete;
  ~WaitQueue() { QUIRE_ASSERT_MSG(waiters_.empty(), "WaitQueue destroyed with waiters"); }

  // Parks the calling fiber until notified (true) or until `deadline` (false). Suspends.
  bool wait(Instant deadline = Instant::max());
  void notify_one();
  void notify_all();
  bool empty() const { return waiters_.empty(); }
  Runtime& runtime() const { return runtime_; }

 private:
  struct Waiter {
    Fiber* fiber;
    bool notified;
  };
  void remove(Waiter* waiter);

  Runtime& runtime_;
  std::deque<Waiter*> waiters_;
};

// Manual-reset event.
class Event {
 public:
  explicit Event(Runtime& runtime) : waiters_(runtime) {}

  void set() {
    set_ = true;
    waiters_.notify_all();
  }
  void reset() { set_ = false; }
  bool is_set() const { return set_; }
  // True once set; false if `deadline` passed first. Suspends.
  bool wait(Instant deadline = Instant::max());

 private:
  bool set_ = false;
  WaitQueue waiters_;
};

// A FIFO mutex that hands ownership straight to the next waiter, so no fiber starves.
class Mutex {
 public:
  explicit Mutex(Runtime& runtime) : waiters_(runtime) {}
  ~Mutex() { QUIRE_ASSERT(!locked_ || waiters_.empty()); }

  // Suspends. REQUIRES: the calling fiber does not hold the mutex (it is not recursive).
  void lock();
  bool try_lock();
  void unlock();
  bool locked() const { return locked_; }

 private:
  bool locked_ = false;
  Fiber* owner_ = nullptr;  // Null on the loop or when handed to a waiter not yet running.
  WaitQueue waiters_;
};

class MutexLock {
 public:
  explicit MutexLock(Mutex& mutex) : mutex_(mutex) { mutex_.lock(); }
  ~MutexLock() { mutex_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mutex_;
};

// A bounded multi-producer, multi-consumer queue of T. send() suspends while full: pressure
// travels back to the producer instead of the queue growing.
template <class T>
class Channel {
 public:
  Channel(Runtime& runtime, size_t capacity)
      : capacity_(capacity), senders_(runtime), receivers_(runtime) {
    QUIRE_ASSERT(capacity > 0);
  }

  // Suspends while full. Errors: closed.
  Status send(T item) {
    while (!closed_ && items_.size() >= capacity_)
      senders_.wait();
    if (closed_) return Error(ErrorCode::closed, "channel closed");
    push(std::move(item));
    return ok_status();
  }
  // Errors: busy (full), closed.
  Status try_send(T item) {
    if (closed_) return Error(ErrorCode::closed, "channel closed");
    if (items_.size() >= capacity_) {
      return Error(ErrorCode::busy, concat("channel full at ", capacity_, " items"));
    }
    push(std::move(item));
    return ok_status();
  }
  // The oldest item; items queued before close() are still delivered. Suspends while empty.
  // Errors: closed (closed and drained), timeout.
  Result<T> receive(Instant deadline = Instant::max()) {
    while (items_.empty() && !closed_) {
      if (!receivers_.wait(deadline) && items_.empty()) {
        if (closed_) break;
        return Error(ErrorCode::timeout, "channel receive timed out");
      }
    }
    if (items_.empty()) return Error(ErrorCode::closed, "channel closed");
    T item = std::move(items_.front());
    items_.pop_front();
    senders_.notify_one();
    return item;
  }
  std::optional<T> try_receive() {
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    senders_.notify_one();
    return item;
  }
  void close() {
    closed_ = true;
    senders_.notify_all();
    receivers_.notify_all();
  }
  bool closed() const { return closed_; }
  size_t size() const { return items_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  void push(T item) {
    items_.push_back(std::move(item));
    receivers_.notify_one();
  }

  size_t capacity_;
  bool closed_ = false;
  std::deque<T> items_;
  WaitQueue senders_;
  WaitQueue receivers_;
};

}  // namespace quire::io
