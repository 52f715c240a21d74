// quired: the quire daemon. One member of a replication group per process, on the real runtime
// (io/real): it turns its settings (a TOML file and flags, tools/quired_settings.h) into an
// engine::NodeConfig, roots a RealDisk at --data-dir and
// runs engine::Node until SIGINT or SIGTERM (exit 0) or until the node stops on a fatal error,
// such as a failed fsync (exit 1, the error printed: a supervisor restarts it and the node
// recovers from its disk). Bad settings exit 2 before anything is created. See
// docs/operations.md.
//
// Signals: SIGINT and SIGTERM are blocked before any thread exists and read from a signalfd in the
// runtime's epoll set, so no handler ever runs in the middle of a fiber. The first one asks the
// node to stop (it answers waiting clients, closes its connections and returns); a second one
// exits at once, which is safe because the node is crash-safe, only less polite.
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/client_service.h"
#include "engine/node.h"
#include "engine/scrubber.h"
#include "io/base/text.h"
#include "io/real/real_disk.h"
#include "io/real/real_runtime.h"
#include "io/sync.h"
#include "store/format.h"
#include "tools/http_server.h"
#include "tools/member_report.h"
#include "tools/quired_settings.h"

#ifndef QUIRE_GIT_COMMIT
#define QUIRE_GIT_COMMIT "unknown"
#endif
#ifndef QUIRE_VERSION
#define QUIRE_VERSION "unknown"
#endif

namespace quire {
namespace {

constexpr int exit_stopped = 0;
constexpr int exit_failed = 1;
constexpr int exit_usage = 2;

std::string errno_message(std::string_view call) {
  return concat(call, ": ", std::strerror(errno));
}

// Creates the data directory (and its parents) if missing, and takes an exclusive lock on
// DIR/quired.lock for the life of the process: two daemons on one journal would corrupt it.
// Returns the lock's descriptor, which stays open until exit.
Result<int> claim_data_directory(const std::string& directory) {
  std::error_code failure;
  std::filesystem::create_directories(directory, failure);
  if (failure) {
    return Error(ErrorCode::io_error,
                 concat("cannot create data directory '", directory, "': ", failure.message()));
  }
  const std::string lock_path = directory + "/quired.lock";
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) return Error(ErrorCode::io_error, errno_message(concat("open ", lock_path)));
  if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    const bool held = errno == EWOULDBLOCK;
    ::close(lock_fd);
    if (held) {
      return Error(ErrorCode::already_exists,
                   concat("another quired already runs on data directory '", directory, "'"));
    }
    return Error(ErrorCode::io_error, errno_message(concat("flock ", lock_path)));
  }
  return lock_fd;
}

// SIGINT and SIGTERM, read from a signalfd watched by the loop. on_events runs on the loop,
// outside any fiber: it only counts and wakes the daemon's main fiber.
class StopSignals final : public io::real::EventSource {
 public:
  // REQUIRES: SIGINT and SIGTERM are blocked in every thread (block_stop_signals()).
  static Result<std::unique_ptr<StopSignals>> watch(io::real::EventLoop& loop,
                                                    std::function<void()> on_first) {
    sigset_t signals = stop_signal_set();
    const int fd = signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) return Error(ErrorCode::io_error, errno_message("signalfd"));
    auto watcher = std::unique_ptr<StopSignals>(new StopSignals(loop, fd, std::move(on_first)));
    if (Status watched = loop.watch(fd, EPOLLIN, watcher.get()); !watched.ok()) {
      watcher->watching_ = false;
      return std::move(watched).error();
    }
    return watcher;
  }
  ~StopSignals() {
    if (watching_) loop_.unwatch(fd_);
    ::close(fd_);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  void on_events(uint32_t) override {
    signalfd_siginfo info{};
    while (::read(fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      received_count_++;
      last_signal_ = static_cast<int>(info.ssi_signo);
      if (received_count_ == 1) {
        on_first_();
      } else {
        std::fprintf(stderr, "quired: second %s: exiting at once\n", strsignal(last_signal_));
        std::_Exit(exit_failed);
      }
    }
  }
  int last_signal() const { return last_signal_; }

  static sigset_t stop_signal_set() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    return signals;
  }

 private:
  StopSignals(io::real::EventLoop& loop, int fd, std::function<void()> on_first)
      : loop_(loop), fd_(fd), on_first_(std::move(on_first)) {}

  io::real::EventLoop& loop_;
  int fd_;
  std::function<void()> on_first_;
  bool watching_ = true;
  uint64_t received_count_ = 0;
  int last_signal_ = 0;
};

// Before any thread exists (io_uring and the runtime may start some), so that every thread
// inherits the mask and the signals reach only the signalfd.
Status block_stop_signals() {
  sigset_t signals = StopSignals::stop_signal_set();
  if (sigprocmask(SIG_BLOCK, &signals, nullptr) != 0) {
    return Error(ErrorCode::io_error, errno_message("sigprocmask"));
  }
  // A peer that vanishes must break one connection, not the process (sends use MSG_NOSIGNAL;
  // this covers anything that does not).
  ::signal(SIGPIPE, SIG_IGN);
  return ok_status();
}

// What the daemon has logged of the node's counters so far.
struct Reported {
  uint64_t handshakes_refused = 0;
  uint64_t scrub_passes = 0;
  uint64_t scrub_repairs = 0;
  uint64_t scrub_unrepairable = 0;
  uint64_t read_repairs = 0;
};

// One look at the node's counters: a line for what changed since `reported`.
void report_changes(const engine::Node& node, NodeId self, Reported& reported) {
  const auto count = [](uint64_t value) { return static_cast<unsigned long long>(value); };
  if (const engine::Transport* transport = node.transport(); transport != nullptr) {
    const engine::TransportStats& stats = transport->stats();
    if (stats.handshakes_refused != reported.handshakes_refused) {
      std::fprintf(stderr, "quired: member %u: %llu handshake(s) refused; last: %s\n", self.value(),
                   count(stats.handshakes_refused - reported.handshakes_refused),
                   stats.last_refusal.c_str());
      reported.handshakes_refused = stats.handshakes_refused;
    }
  }
  if (const engine::Scrubber* scrubber = node.scrubber(); scrubber != nullptr) {
    const engine::ScrubStats& stats = scrubber->stats();
    if (stats.blocks_repaired != reported.scrub_repairs ||
        stats.blocks_unrepairable != reported.scrub_unrepairable) {
      std::fprintf(stderr,
                   "quired: member %u: scrub repaired %llu damaged block run(s) from peers "
                   "(%llu in all), %llu found with no good copy (%llu in all)\n",
                   self.value(), count(stats.blocks_repaired - reported.scrub_repairs),
                   count(stats.blocks_repaired),
                   count(stats.blocks_unrepairable - reported.scrub_unrepairable),
                   count(stats.blocks_unrepairable));
      reported.scrub_repairs = stats.blocks_repaired;
      reported.scrub_unrepairable = stats.blocks_unrepairable;
    }
    if (stats.passes_completed != reported.scrub_passes) {
      const Duration took = stats.last_pass_completed - stats.last_complete_pass_started;
      const uint64_t bytes = node.journal() != nullptr ? node.journal()->root().end_offset : 0;
      std::fprintf(stderr,
                   "quired: member %u: scrub pass %llu verified the committed journal (%llu "
                   "MiB) in %.1f s\n",
                   self.value(), count(stats.passes_completed), count(bytes >> 20),
                   static_cast<double>(took.ms()) / 1000.0);
      reported.scrub_passes = stats.passes_completed;
    }
  }
  if (const engine::ClientService* clients = node.clients(); clients != nullptr) {
    if (clients->read_repairs() != reported.read_repairs) {
      std::fprintf(stderr, "quired: member %u: read repair mended %llu record(s) (%llu in all)\n",
                   self.value(), count(clients->read_repairs() - reported.read_repairs),
                   count(clients->read_repairs()));
      reported.read_repairs = clients->read_repairs();
    }
  }
}

// Logs what an operator must see, at most once a second each, until `node_ended`: handshakes
// refused either way (a foreign group, a wrong token, a member list that differs), scrub passes
// and the damage they mended, read repairs. A flood of refusals is one line a second. Suspends.
void report_events(io::Runtime& runtime, const engine::Node& node, NodeId self,
                   const bool& node_ended) {
  Reported reported;
  Instant next_check = runtime.now();
  while (!node_ended) {
    runtime.sleep_for(Duration::milliseconds(100));
    if (runtime.now() < next_check) continue;
    next_check = runtime.now() + Duration::seconds(1);
    report_changes(node, self, reported);
  }
}

// Runs the node on the runtime until a stop signal or a fatal error. The main fiber owns the
// node and waits; the node runs in a fiber of its own so that main can hear the signal.
Status run_node(io::real::RealRuntime& runtime, const engine::NodeConfig& config,
                const std::optional<io::Address>& http, const std::string& data_directory) {
  Status outcome = ok_status();
  const int main_result = runtime.run_main([&] {
    engine::Node node(runtime, config);
    // Listening before the node starts, so that a busy port stops the daemon at once (exit 1).
    std::unique_ptr<tools::HttpServer> http_server;
    if (http) {
      auto served =
          tools::HttpServer::start(runtime, *http, [&](const tools::HttpRequest& request) {
            return tools::answer_member_request(node, config.self, data_directory, request);
          });
      if (!served.ok()) {
        outcome = served.error();
        return;
      }
      http_server = std::move(*served);
    }
    io::Event wake(runtime);
    bool stop_requested = false;
    auto signals = StopSignals::watch(runtime.loop(), [&] {
      stop_requested = true;
      wake.set();
    });
    if (!signals.ok()) {
      outcome = signals.error();
      if (http_server) http_server->stop();
      return;
    }
    bool node_ended = false;
    runtime.spawn("node", [&] {
      outcome = node.run();
      node_ended = true;
      wake.set();
    });
    io::Event watcher_done(runtime);
    runtime.spawn("events", [&] {
      report_events(runtime, node, config.self, node_ended);
      watcher_done.set();
    });
    bool stop_sent = false;
    while (!node_ended) {
      wake.wait();
      wake.reset();
      if (stop_requested && !stop_sent) {
        std::fprintf(stderr, "quired: member %u: %s, stopping\n", config.self.value(),
                     strsignal((*signals)->last_signal()));
        node.stop();
        stop_sent = true;
      }
    }
    watcher_done.wait();
    if (http_server) http_server->stop();
  });
  if (main_result != 0 && outcome.ok()) {
    return Error(ErrorCode::io_error, "the event loop ended before the node stopped");
  }
  return outcome;
}

int usage_failure(const Error& error) {
  std::fprintf(stderr, "quired: %s\n(quired --help lists every flag and key)\n",
               error.message().c_str());
  return exit_usage;
}

void print_version() {
  std::printf("quired %s\ngit commit %s\non-disk format version %u\n", QUIRE_VERSION,
              QUIRE_GIT_COMMIT, static_cast<unsigned>(store::format::version));
}

int run(int argc, char** argv) {
  auto invocation = tools::parse_invocation(argc, argv);
  if (!invocation.ok()) return usage_failure(invocation.error());
  switch (invocation->action) {
    case tools::DaemonAction::help:
      std::fputs(tools::settings_usage().c_str(), stdout);
      return exit_stopped;
    case tools::DaemonAction::version:
      print_version();
      return exit_stopped;
    case tools::DaemonAction::check_config:
      std::fputs(tools::settings_toml(invocation->settings).c_str(), stdout);
      return exit_stopped;
    case tools::DaemonAction::run:
      break;
  }
  const tools::DaemonSettings& settings = invocation->settings;
  auto config = settings.node_config();
  QUIRE_ASSERT(config.ok());  // parse_invocation checked it.
  // Everything above only read settings; from here on the daemon touches the machine.
  if (Status blocked = block_stop_signals(); !blocked.ok()) {
    std::fprintf(stderr, "quired: %s\n", blocked.error().to_string().c_str());
    return exit_failed;
  }
  auto lock = claim_data_directory(settings.data_directory);
  if (!lock.ok()) {
    std::fprintf(stderr, "quired: %s\n", lock.error().message().c_str());
    return exit_failed;
  }
  io::real::RealRuntimeOptions options;
  options.name = concat("n", settings.member_id);
  options.data_directory = settings.data_directory;
  options.trace = settings.trace;
  auto runtime = io::real::RealRuntime::create(options);
  if (!runtime.ok()) {
    std::fprintf(stderr, "quired: %s\n", runtime.error().to_string().c_str());
    return exit_failed;
  }
  const std::optional<io::Address>& http = settings.http_listen;
  const engine::MemberAddress* self = config->member(config->self);
  std::fprintf(stderr, "quired: member %u of group '%s' on %s, data in %s (disk: %s%s%s)\n",
               settings.member_id, config->group.name.c_str(), self->address.to_string().c_str(),
               settings.data_directory.c_str(), (*runtime)->disk_backend_name(),
               http ? ", http: " : "", http ? http->to_string().c_str() : "");
  config->describe_disk = [&settings](wire::MemberStatus& status) {
    tools::describe_disk(settings.data_directory, status);
  };
  const Status outcome = run_node(**runtime, *config, http, settings.data_directory);
  if (!outcome.ok()) {
    std::fprintf(stderr, "quired: member %u stopped on an error: %s\n", settings.member_id,
                 outcome.error().to_string().c_str());
    return exit_failed;
  }
  std::fprintf(stderr, "quired: member %u stopped\n", settings.member_id);
  return exit_stopped;
}

}  // namespace
}  // namespace quire

int main(int argc, char** argv) {
  return quire::run(argc, argv);
}
