#include "io/real/event_loop.h"

#include <sys/epoll.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>

#include "io/base/text.h"
#include "io/real/errno_text.h"

namespace quire::io::real {
namespace {

// Under constant fiber traffic the loop still looks at epoll every this many batches, so that
// sockets and completions are not starved, without paying a syscall for every fiber switch.
constexpr int batches_per_poll_max = 64;
constexpr int events_per_poll_max = 128;

int64_t clock_ns(clockid_t clock) {
  timespec time{};
  const int status = clock_gettime(clock, &time);
  QUIRE_ASSERT(status == 0);
  return static_cast<int64_t>(time.tv_sec) * 1'000'000'000 + time.tv_nsec;
}

}  // namespace

Result<std::unique_ptr<EventLoop>> EventLoop::create(size_t fiber_stack_size_bytes) {
  UniqueFd epoll_fd(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_fd.valid()) {
    return Error(ErrorCode::io_error, concat("epoll_create1: ", errno_text(errno)));
  }
  return std::unique_ptr<EventLoop>(new EventLoop(std::move(epoll_fd), fiber_stack_size_bytes));
}

EventLoop::EventLoop(UniqueFd epoll_fd, size_t fiber_stack_size_bytes)
    : epoll_fd_(std::move(epoll_fd)), scheduler_(fiber_stack_size_bytes) {}

EventLoop::~EventLoop() {
  QUIRE_ASSERT(!running_);
  // Fibers may own sockets registered here; they unwind while the epoll set still exists.
  scheduler_.kill_all();
  QUIRE_ASSERT_MSG(watch_count_ == 0, concat(watch_count_, " descriptors still watched"));
}

Instant EventLoop::now() {
  return Instant::from_ns(clock_ns(CLOCK_MONOTONIC));
}

int64_t EventLoop::wall_clock_ns() {
  return clock_ns(CLOCK_REALTIME);
}

TimerId EventLoop::add_timer(Instant deadline, std::function<void()> callback) {
  QUIRE_ASSERT(callback != nullptr);
  const TimerId id = next_timer_id_++;
  timer_callbacks_.emplace(id, std::move(callback));
  timer_heap_.push_back(TimerEntry{deadline, id});
  std::push_heap(timer_heap_.begin(), timer_heap_.end(), std::greater<>());
  return id;
}

void EventLoop::cancel_timer(TimerId timer) {
  if (timer_callbacks_.erase(timer) == 0) return;
  // Long deadlines that are always cancelled (receive timeouts) would otherwise pile up.
  if (timer_heap_.size() > 64 && timer_heap_.size() > 2 * timer_callbacks_.size()) {
    compact_timer_heap();
  }
}

void EventLoop::compact_timer_heap() {
  std::erase_if(timer_heap_,
                [this](const TimerEntry& entry) { return !timer_callbacks_.contains(entry.id); });
  std::make_heap(timer_heap_.begin(), timer_heap_.end(), std::greater<>());
  QUIRE_ASSERT(timer_heap_.size() == timer_callbacks_.size());
}

void EventLoop::drop_cancelled_timer_tops() {
  while (!timer_heap_.empty() && !timer_callbacks_.contains(timer_heap_.front().id)) {
    std::pop_heap(timer_heap_.begin(), timer_heap_.end(), std::greater<>());
    timer_heap_.pop_back();
  }
}

void EventLoop::fire_due_timers() {
  const Instant now_here = now();
  // Timers that callbacks add now wait for the next pass, so a callback that re-arms itself
  // in the past cannot keep the loop here forever.
  const TimerId first_not_fired = next_timer_id_;
  for (;;) {
    drop_cancelled_timer_tops();
    if (timer_heap_.empty()) return;
    const TimerEntry top = timer_heap_.front();
    if (top.deadline > now_here || top.id >= first_not_fired) return;
    std::pop_heap(timer_heap_.begin(), timer_heap_.end(), std::greater<>());
    timer_heap_.pop_back();
    auto found = timer_callbacks_.find(top.id);
    QUIRE_ASSERT(found != timer_callbacks_.end());
    std::function<void()> callback = std::move(found->second);
    timer_callbacks_.erase(found);
    callback();
  }
}

Duration EventLoop::time_to_next_timer() {
  drop_cancelled_timer_tops();
  if (timer_heap_.empty()) return Duration::nanoseconds(-1);
  const Duration left = timer_heap_.front().deadline - now();
  return std::max(left, Duration::nanoseconds(0));
}

Status EventLoop::watch(int fd, uint32_t events, EventSource* source) {
  QUIRE_ASSERT(fd >= 0);
  QUIRE_ASSERT(source != nullptr);
  epoll_event event{};
  event.events = events;
  event.data.ptr = source;
  if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
    return Error(ErrorCode::io_error, concat("epoll_ctl add fd ", fd, ": ", errno_text(errno)));
  }
  watch_count_++;
  return ok_status();
}

void EventLoop::unwatch(int fd) {
  QUIRE_ASSERT(watch_count_ > 0);
  const int status = epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, fd, nullptr);
  QUIRE_ASSERT_MSG(status == 0, concat("epoll_ctl del fd ", fd, ": ", errno_text(errno)));
  watch_count_--;
}

void EventLoop::run_ready_batch() {
  // Only the fibers ready now: a fiber that yields in a loop must not starve timers and I/O.
  for (size_t count = scheduler_.ready_count(); count > 0 && !stop_requested_; count--) {
    scheduler_.run_one(0);
  }
}

RunEnd EventLoop::run() {
  QUIRE_ASSERT_MSG(Scheduler::current() == nullptr, "run() from a fiber");
  QUIRE_ASSERT_MSG(!running_, "run() is not reentrant");
  running_ = true;
  stop_requested_ = false;
  RunEnd end = RunEnd::stopped;
  int batches_since_poll = 0;
  while (!stop_requested_) {
    run_ready_batch();
    fire_due_timers();
    if (stop_requested_) break;
    const bool busy = scheduler_.ready_count() > 0;
    if (busy && ++batches_since_poll < batches_per_poll_max) continue;
    batches_since_poll = 0;
    if (!busy && timer_count() == 0 && io_wait_count_ == 0) {
      end = RunEnd::idle;
      break;
    }
    poll(busy ? Duration::nanoseconds(0) : time_to_next_timer());
  }
  running_ = false;
  return end;
}

void EventLoop::poll(Duration timeout) {
  epoll_event events[events_per_poll_max];
  int count = -1;
  if (precise_wait_) {
    timespec limit{};
    limit.tv_sec = timeout.ns() / 1'000'000'000;
    limit.tv_nsec = timeout.ns() % 1'000'000'000;
    count = epoll_pwait2(epoll_fd_.get(), events, events_per_poll_max,
                         timeout.ns() < 0 ? nullptr : &limit, nullptr);
    if (count < 0 && (errno == ENOSYS || errno == EPERM)) precise_wait_ = false;
  }
  if (!precise_wait_) {
    // Rounded up: waking a little late is harmless, waking early would spin.
    const int64_t timeout_ms = timeout.ns() < 0 ? -1 : (timeout.ns() + 999'999) / 1'000'000;
    count = epoll_wait(epoll_fd_.get(), events, events_per_poll_max,
                       static_cast<int>(std::min<int64_t>(timeout_ms, INT32_MAX)));
  }
  if (count < 0) {
    QUIRE_ASSERT_MSG(errno == EINTR, concat("epoll wait: ", errno_text(errno)));
    return;
  }
  // No fiber runs during dispatch, so no source can be destroyed while its events are handled.
  for (int index = 0; index < count; index++) {
    static_cast<EventSource*>(events[index].data.ptr)->on_events(events[index].events);
  }
}

}  // namespace quire::io::real
