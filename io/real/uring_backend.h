// UringBackend: file I/O through io_uring (liburing 2.3). Each operation is submitted at once and
// parks its fiber; the ring signals completions on an eventfd that sits in the loop's epoll set,
// and the loop readies the fibers whose completions arrived. Only RealDisk uses it.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <memory>

#include "io/base/result.h"
#include "io/real/disk_backend.h"
#include "io/real/event_loop.h"
#include "io/real/unique_fd.h"
#include "io/sync.h"

namespace quire::io::real {

class UringBackend final : public DiskBackend, private EventSource {
 public:
  // Sets up a ring of `entries` and its eventfd. Any failure means io_uring is unavailable here
  // (no kernel support, seccomp, io_uring_disabled, memlock limit): the error says which step
  // failed and why, and the caller falls back to posix.
  // With `inline_transfers`, reads and writes are plain pread/pwrite on the calling thread and
  // only syncs go through the ring (DiskBackendKind::uring_sync).
  static Result<std::unique_ptr<UringBackend>> create(Runtime& runtime, EventLoop& loop,
                                                      uint32_t entries,
                                                      bool inline_transfers = false);
  ~UringBackend() override;

  DiskBackendKind kind() const override {
    return inline_transfers_ ? DiskBackendKind::uring_sync : DiskBackendKind::io_uring;
  }
  // Suspend the calling fiber until the kernel completes the operation.
  // REQUIRES: called from a fiber.
  int64_t read(int fd, MutableByteView target, uint64_t offset) override;
  int64_t write(int fd, ByteView source, uint64_t offset) override;
  int sync(int fd, bool data_only) override;

 private:
  // Lives on the stack of the fiber that waits for it; the CQE's user data points here.
  struct Completion {
    Fiber* fiber = nullptr;
    int32_t result = 0;
    bool done = false;
  };

  UringBackend(Runtime& runtime, EventLoop& loop, UniqueFd eventfd, uint32_t entries);
  void on_events(uint32_t events) override;
  // Runs one operation prepared by `prepare` and returns its CQE result.
  template <class Prepare>
  int32_t execute(Prepare prepare);
  void submit();
  // Delivers every CQE that has arrived to its Completion.
  void reap();
  // Blocks the thread until `completion` is done: used when its fiber is unwound while the
  // kernel still holds pointers into the fiber's stack.
  void wait_blocking(Completion& completion);

  EventLoop& loop_;
  UniqueFd eventfd_;
  io_uring ring_{};
  bool ring_ready_ = false;  // io_uring_queue_init succeeded.
  bool inline_transfers_ = false;
  bool watched_ = false;  // The eventfd is in the epoll set.
  uint32_t in_flight_count_ = 0;
  uint32_t in_flight_max_;
  // Fibers waiting for a slot when in_flight_max_ operations are out; keeps the completion
  // queue from overflowing.
  WaitQueue slot_waiters_;
};

}  // namespace quire::io::real
