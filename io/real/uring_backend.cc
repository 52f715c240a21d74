#include "io/real/uring_backend.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <algorithm>
#include <cerrno>
#include <limits>

#include "io/base/text.h"
#include "io/real/errno_text.h"

namespace quire::io::real {
namespace {

// SQE lengths are 32-bit; larger transfers come back short and RealFile loops.
constexpr size_t transfer_size_bytes_max = 1u << 30;

}  // namespace

Result<std::unique_ptr<UringBackend>> UringBackend::create(Runtime& runtime, EventLoop& loop,
                                                           uint32_t entries,
                                                           bool inline_transfers) {
  QUIRE_ASSERT(entries > 0);
  UniqueFd eventfd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!eventfd.valid()) {
    return Error(ErrorCode::io_error, concat("eventfd: ", errno_text(errno)));
  }
  std::unique_ptr<UringBackend> backend(
      new UringBackend(runtime, loop, std::move(eventfd), entries));
  // liburing returns -errno and leaves errno alone.
  const int init_status = io_uring_queue_init(entries, &backend->ring_, 0);
  if (init_status < 0) {
    return Error(ErrorCode::io_error, concat("io_uring_queue_init: ", errno_text(-init_status)));
  }
  backend->ring_ready_ = true;
  backend->inline_transfers_ = inline_transfers;
  const int register_status = io_uring_register_eventfd(&backend->ring_, backend->eventfd_.get());
  if (register_status < 0) {
    return Error(ErrorCode::io_error,
                 concat("io_uring_register_eventfd: ", errno_text(-register_status)));
  }
  const Status watched = loop.watch(backend->eventfd_.get(), EPOLLIN | EPOLLET,
                                    static_cast<EventSource*>(backend.get()));
  if (!watched.ok()) return watched.error();
  backend->watched_ = true;
  backend->in_flight_max_ = backend->ring_.cq.ring_entries;
  return backend;
}

UringBackend::UringBackend(Runtime& runtime, EventLoop& loop, UniqueFd eventfd, uint32_t entries)
    : loop_(loop), eventfd_(std::move(eventfd)), in_flight_max_(entries), slot_waiters_(runtime) {}

UringBackend::~UringBackend() {
  QUIRE_ASSERT_MSG(in_flight_count_ == 0, "io_uring backend destroyed with operations in flight");
  if (watched_) loop_.unwatch(eventfd_.get());
  if (ring_ready_) io_uring_queue_exit(&ring_);
}

int64_t UringBackend::read(int fd, MutableByteView target, uint64_t offset) {
  if (inline_transfers_) {
    const ssize_t count = ::pread(fd, target.data(), target.size(), static_cast<off_t>(offset));
    return count < 0 ? -errno : count;
  }
  const auto length = static_cast<unsigned>(std::min(target.size(), transfer_size_bytes_max));
  return execute(
      [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, fd, target.data(), length, offset); });
}

int64_t UringBackend::write(int fd, ByteView source, uint64_t offset) {
  if (inline_transfers_) {
    const ssize_t count = ::pwrite(fd, source.data(), source.size(), static_cast<off_t>(offset));
    return count < 0 ? -errno : count;
  }
  const auto length = static_cast<unsigned>(std::min(source.size(), transfer_size_bytes_max));
  return execute(
      [&](io_uring_sqe* sqe) { io_uring_prep_write(sqe, fd, source.data(), length, offset); });
}

int UringBackend::sync(int fd, bool data_only) {
  return execute([&](io_uring_sqe* sqe) {
    io_uring_prep_fsync(sqe, fd, data_only ? IORING_FSYNC_DATASYNC : 0);
  });
}

template <class Prepare>
int32_t UringBackend::execute(Prepare prepare) {
  Fiber* fiber = Scheduler::current();
  QUIRE_ASSERT_MSG(fiber != nullptr, "io_uring disk operation outside a fiber");
  while (in_flight_count_ >= in_flight_max_)
    slot_waiters_.wait();
  // Every SQE is submitted as soon as it is prepared, so the submission queue is empty here.
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  QUIRE_ASSERT(sqe != nullptr);
  prepare(sqe);
  Completion completion{fiber};
  io_uring_sqe_set_data(sqe, &completion);
  in_flight_count_++;
  submit();
  // If the fiber is unwound (its node stops) while the kernel owns `completion` and the buffer,
  // wait for the kernel before the stack goes away.
  struct Drain {
    UringBackend& backend;
    Completion& completion;
    ~Drain() {
      if (!completion.done) backend.wait_blocking(completion);
    }
  } drain{*this, completion};
  EventLoop::IoWaitScope waiting(loop_);
  loop_.scheduler().suspend();
  QUIRE_ASSERT(completion.done);
  return completion.result;
}

void UringBackend::submit() {
  for (int attempt = 0;; attempt++) {
    const int status = io_uring_submit(&ring_);
    if (status >= 0) {
      QUIRE_ASSERT(status == 1);
      return;
    }
    // EAGAIN / EBUSY: the kernel wants completions reaped first; the SQE stays queued.
    const bool transient = status == -EINTR || status == -EAGAIN || status == -EBUSY;
    QUIRE_ASSERT_MSG(transient && attempt < 1000, concat("io_uring_submit: ", errno_text(-status)));
    reap();
  }
}

void UringBackend::on_events(uint32_t /*events*/) {
  uint64_t count = 0;
  // Clears the eventfd so that the next completion makes a new edge; EAGAIN means already clear.
  (void)!::read(eventfd_.get(), &count, sizeof count);
  reap();
}

void UringBackend::reap() {
  unsigned head = 0;
  unsigned count = 0;
  io_uring_cqe* cqe = nullptr;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    auto* completion = static_cast<Completion*>(io_uring_cqe_get_data(cqe));
    QUIRE_ASSERT(completion != nullptr && !completion->done);
    completion->result = cqe->res;
    completion->done = true;
    loop_.scheduler().ready(completion->fiber);  // Ignored while the node is being unwound.
    count++;
  }
  io_uring_cq_advance(&ring_, count);
  QUIRE_ASSERT(in_flight_count_ >= count);
  in_flight_count_ -= count;
  for (unsigned index = 0; index < count; index++)
    slot_waiters_.notify_one();
}

void UringBackend::wait_blocking(Completion& completion) {
  while (!completion.done) {
    io_uring_cqe* cqe = nullptr;
    const int status = io_uring_wait_cqe(&ring_, &cqe);
    QUIRE_ASSERT_MSG(status == 0 || status == -EINTR,
                     concat("io_uring_wait_cqe: ", errno_text(-status)));
    reap();
  }
}

}  // namespace quire::io::real
