// RealRuntime: the production io::Runtime. One per process (the daemon's node), driven by one
// thread that calls run(). Fibers run on an epoll loop (event_loop.h), files go through io_uring
// or plain syscalls (real_disk.h), connections are TCP (real_network.h). The only part of quire
// that touches the OS, together with the rest of io/real/. See docs/io.md, "Real runtime".
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "io/real/disk_backend.h"
#include "io/real/event_loop.h"
#include "io/runtime.h"

namespace quire::io::real {

class RealDisk;
class RealNetwork;

struct RealRuntimeOptions {
  // The node's name in trace lines.
  std::string name = "quired";
  // The disk's root; must exist. Empty: the runtime has no disk and disk() must not be called.
  std::string data_directory;
  // The preferred disk backend; io_uring and uring_sync fall back to posix where the kernel
  // refuses io_uring. uring_sync by default: docs/io.md, "Real runtime", says why.
  DiskBackendKind disk_backend = DiskBackendKind::uring_sync;
  // Whether QUIRE_DISK_BACKEND=uring|uring-sync|posix in the environment overrides disk_backend.
  bool read_environment = true;
  uint32_t io_uring_entries = 256;
  // Write "time node fiber: event" lines to stderr; when false, trace() drops events.
  bool trace = false;
  // The seed of rng(); by default one drawn from the clocks (a production node needs no replay).
  std::optional<uint64_t> rng_seed;
  size_t fiber_stack_size_bytes = 256 * 1024;
  // send() on a connection suspends while this many bytes wait in its user-space buffer.
  size_t connection_send_buffer_bytes_max = 4 * 1024 * 1024;
};

// Lifecycle: create(), spawn fibers, run() on the thread that created it until stop(); the
// destructor unwinds the fibers that are left, then closes sockets, the ring and epoll.
class RealRuntime final : public Runtime {
 public:
  // Errors: invalid_argument (bad QUIRE_DISK_BACKEND), not_found (no data directory), io_error.
  static Result<std::unique_ptr<RealRuntime>> create(RealRuntimeOptions options);
  ~RealRuntime() override;

  const std::string& name() const override { return options_.name; }
  Instant now() const override { return EventLoop::now(); }
  int64_t wall_clock_ns() const override { return EventLoop::wall_clock_ns(); }
  TimerId add_timer(Instant deadline, std::function<void()> callback) override;
  void cancel_timer(TimerId timer) override;
  Scheduler& scheduler() override { return loop_->scheduler(); }
  Disk& disk() override;
  Network& network() override;
  Rng& rng() override { return rng_; }
  void trace(std::string_view event) override;

  // Runs fibers, timers and I/O until stop(), or until nothing can happen anymore (RunEnd).
  RunEnd run() { return loop_->run(); }
  // Callable from a fiber or a timer callback: run() returns when control is back at the loop.
  void stop() { loop_->stop(); }
  // Runs `main` as the fiber "main" and returns 0 once it has returned. Returns 1 when run()
  // ended first: someone else called stop(), or the loop went idle while main was still parked
  // (it waits for something that can never happen). A parked main is unwound by the destructor.
  int run_main(std::function<void()> main);

  EventLoop& loop() { return *loop_; }
  RealDisk& real_disk();
  RealNetwork& real_network() { return *network_; }
  // "io_uring" or "posix"; "none" without a data directory.
  const char* disk_backend_name() const;

 private:
  RealRuntime(RealRuntimeOptions options, std::unique_ptr<EventLoop> loop, uint64_t seed);

  RealRuntimeOptions options_;
  std::unique_ptr<EventLoop> loop_;
  Rng rng_;
  std::unique_ptr<RealDisk> disk_;
  std::unique_ptr<RealNetwork> network_;
};

}  // namespace quire::io::real
