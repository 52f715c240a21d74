#include "io/real/real_runtime.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "io/base/text.h"
#include "io/real/real_disk.h"
#include "io/real/real_network.h"

namespace quire::io::real {
namespace {

constexpr const char* disk_backend_variable = "QUIRE_DISK_BACKEND";

Result<DiskBackendKind> choose_disk_backend(const RealRuntimeOptions& options) {
  if (!options.read_environment) return options.disk_backend;
  const char* forced = std::getenv(disk_backend_variable);
  if (forced == nullptr || *forced == '\0') return options.disk_backend;
  const std::optional<DiskBackendKind> kind = parse_disk_backend_kind(forced);
  if (!kind.has_value()) {
    return Error(ErrorCode::invalid_argument,
                 concat(disk_backend_variable, "='", std::string_view(forced),
                        "': expected uring, uring-sync or posix"));
  }
  return *kind;
}

uint64_t clock_seed() {
  // A production node needs no replay; the clocks differ between runs and nodes.
  return split_seed(
      static_cast<uint64_t>(EventLoop::wall_clock_ns()), "rng",
      static_cast<uint64_t>(EventLoop::now().ns()) ^ static_cast<uint64_t>(::getpid()));
}

}  // namespace

Result<std::unique_ptr<RealRuntime>> RealRuntime::create(RealRuntimeOptions options) {
  QUIRE_TRY_ASSIGN(const DiskBackendKind backend, choose_disk_backend(options));
  QUIRE_TRY_ASSIGN(auto loop, EventLoop::create(options.fiber_stack_size_bytes));
  const uint64_t seed = options.rng_seed.has_value() ? *options.rng_seed : clock_seed();
  std::unique_ptr<RealRuntime> runtime(new RealRuntime(std::move(options), std::move(loop), seed));
  if (!runtime->options_.data_directory.empty()) {
    QUIRE_TRY_ASSIGN(runtime->disk_,
                     RealDisk::create(*runtime, *runtime->loop_, runtime->options_.data_directory,
                                      backend, runtime->options_.io_uring_entries));
    const RealDisk& disk = *runtime->disk_;
    runtime->trace(concat("disk ", disk.root(), " on ", std::string_view(disk.backend_name()),
                          disk.fallback_reason().empty() ? "" : " (io_uring unavailable: ",
                          disk.fallback_reason(), disk.fallback_reason().empty() ? "" : ")"));
  }
  return runtime;
}

RealRuntime::RealRuntime(RealRuntimeOptions options, std::unique_ptr<EventLoop> loop, uint64_t seed)
    : options_(std::move(options)), loop_(std::move(loop)), rng_(seed) {
  network_ =
      std::make_unique<RealNetwork>(*this, *loop_, options_.connection_send_buffer_bytes_max);
}

RealRuntime::~RealRuntime() {
  // Fibers first: their stacks own connections and files, and may wait for io_uring
  // completions, so they unwind while the network, the disk and the loop still exist.
  loop_->scheduler().kill_all();
  network_.reset();
  disk_.reset();
}

TimerId RealRuntime::add_timer(Instant deadline, std::function<void()> callback) {
  return loop_->add_timer(deadline, std::move(callback));
}

void RealRuntime::cancel_timer(TimerId timer) {
  loop_->cancel_timer(timer);
}

Disk& RealRuntime::disk() {
  return real_disk();
}

RealDisk& RealRuntime::real_disk() {
  QUIRE_ASSERT_MSG(disk_ != nullptr, "the runtime was created without a data directory");
  return *disk_;
}

Network& RealRuntime::network() {
  return *network_;
}

const char* RealRuntime::disk_backend_name() const {
  return disk_ == nullptr ? "none" : disk_->backend_name();
}

void RealRuntime::trace(std::string_view event) {
  if (!options_.trace) return;
  const int64_t now_ns = now().ns();
  std::string line = concat(now_ns / 1'000'000'000, ".");
  const std::string fraction = std::to_string(now_ns % 1'000'000'000 / 1'000);
  line.append(6 - fraction.size(), '0');
  line.append(
      concat(fraction, " ", options_.name, " ", Scheduler::current_name(), ": ", event, "\n"));
  // One write per line, so lines from several processes sharing stderr do not interleave.
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

int RealRuntime::run_main(std::function<void()> main) {
  QUIRE_ASSERT(main != nullptr);
  // Owned by the fiber: if run() ends first, the parked fiber outlives this call.
  auto returned = std::make_shared<bool>(false);
  spawn("main", [this, main = std::move(main), returned] {
    main();
    *returned = true;
    stop();
  });
  const RunEnd end = run();
  if (*returned) return 0;
  trace(end == RunEnd::idle ? "main is parked and nothing can wake it: the loop went idle"
                            : "the loop stopped before main returned");
  return 1;
}

}  // namespace quire::io::real
