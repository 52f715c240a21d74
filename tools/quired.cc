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
#include "tools/event_log.h"
#include "tools/http_server.h"
#include "tools/kv_api.h"
#include "tools/member_events.h"
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
  static Result<std::unique_ptr<StopSignals>> watch(io::real::EventLoop& loop, tools::EventLog& log,
                                                    std::function<void()> on_first) {
    sigset_t signals = stop_signal_set();
    const int fd = signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) return Error(ErrorCode::io_error, errno_message("signalfd"));
    auto watcher =
        std::unique_ptr<StopSignals>(new StopSignals(loop, log, fd, std::move(on_first)));
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
        log_.log(tools::LogLevel::warn, "stop",
                 {{"clean", false},
                  {"reason", concat("second ", strsignal(last_signal_), ": exiting at once")}});
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
  StopSignals(io::real::EventLoop& loop, tools::EventLog& log, int fd,
              std::function<void()> on_first)
      : loop_(loop), log_(log), fd_(fd), on_first_(std::move(on_first)) {}

  io::real::EventLoop& loop_;
  tools::EventLog& log_;
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

// Logs what changes in the member, looking every 100 ms, until `node_ended`
// (tools/member_events.h). A flood of refusals is rate-limited by the log. Suspends.
void report_events(io::Runtime& runtime, const engine::Node& node, tools::EventLog& log,
                   const bool& node_ended) {
  tools::MemberEvents events(log);
  while (!node_ended) {
    runtime.sleep_for(Duration::milliseconds(100));
    events.observe(tools::snapshot_member(node), (runtime.now() - Instant()).ms());
  }
}

std::vector<io::Address> member_addresses(const engine::NodeConfig& config) {
  std::vector<io::Address> addresses;
  for (const engine::MemberAddress& member : config.members)
    addresses.push_back(member.address);
  return addresses;
}

// Runs the node on the runtime until a stop signal or a fatal error. The main fiber owns the
// node and waits; the node runs in a fiber of its own so that main can hear the signal.
Status run_node(io::real::RealRuntime& runtime, const engine::NodeConfig& config,
                const std::optional<io::Address>& http, const std::string& data_directory,
                tools::EventLog& log) {
  Status outcome = ok_status();
  const int main_result = runtime.run_main([&] {
    engine::Node node(runtime, config);
    tools::KvApi kv_api(runtime, config.group, member_addresses(config),
                        config.member(config.self)->address);
    // Listening before the node starts, so that a busy port stops the daemon at once (exit 1).
    std::unique_ptr<tools::HttpServer> http_server;
    if (http) {
      auto served =
          tools::HttpServer::start(runtime, *http, [&](const tools::HttpRequest& request) {
            if (request.path == "/status" && request.query == "digest" && request.method == "GET") {
              return tools::answer_digest_request(node, config.self);
            }
            if (tools::KvApi::serves(request)) return kv_api.answer(request);
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
    auto signals = StopSignals::watch(runtime.loop(), log, [&] {
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
      report_events(runtime, node, log, node_ended);
      watcher_done.set();
    });
    bool stop_sent = false;
    while (!node_ended) {
      wake.wait();
      wake.reset();
      if (stop_requested && !stop_sent) {
        log.log(tools::LogLevel::info, "stop_requested",
                {{"signal", std::string(strsignal((*signals)->last_signal()))}});
        node.stop();
        // API requests in flight end by their timeout, and the HTTP server waits for them.
        kv_api.stop();
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

Result<tools::EventLogOptions> event_log_options(const tools::DaemonSettings& settings) {
  tools::EventLogOptions options;
  auto level = tools::parse_log_level(settings.log_level);
  if (!level.ok())
    return Error(ErrorCode::invalid_argument, concat("--log-level: ", level.error().message()));
  auto format = tools::parse_log_format(settings.log_format);
  if (!format.ok())
    return Error(ErrorCode::invalid_argument, concat("--log-format: ", format.error().message()));
  options.level_min = *level;
  options.format = *format;
  return options;
}

// The member stops on `error`: a full disk and a failed sync get an event of their own, which
// an operator alerts on, before the stop line. Returns the exit code.
int log_stop(tools::EventLog& log, const Error& error) {
  if (error.code() == ErrorCode::no_space) {
    log.log(tools::LogLevel::error, "disk_full", {{"reason", error.to_string()}});
  } else if (error.code() == ErrorCode::io_error &&
             error.message().find("sync") != std::string::npos) {
    log.log(tools::LogLevel::error, "sync_failed", {{"reason", error.to_string()}});
  }
  log.log(tools::LogLevel::error, "stop", {{"clean", false}, {"reason", error.to_string()}});
  return exit_failed;
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
  auto log_options = event_log_options(settings);
  QUIRE_ASSERT(log_options.ok());  // parse_invocation checked the level and the format.
  tools::EventLog log(settings.member_id, *log_options, tools::EventLog::stderr_sink(),
                      tools::EventLog::wall_clock());
  // Everything above only read settings; from here on the daemon touches the machine.
  if (Status blocked = block_stop_signals(); !blocked.ok()) {
    return log_stop(log, blocked.error());
  }
  auto lock = claim_data_directory(settings.data_directory);
  if (!lock.ok()) return log_stop(log, lock.error());
  io::real::RealRuntimeOptions options;
  options.name = concat("n", settings.member_id);
  options.data_directory = settings.data_directory;
  options.trace = settings.trace;
  auto runtime = io::real::RealRuntime::create(options);
  if (!runtime.ok()) return log_stop(log, runtime.error());
  const std::optional<io::Address>& http = settings.http_listen;
  const engine::MemberAddress* self = config->member(config->self);
  log.log(tools::LogLevel::info, "start",
          {{"group", config->group.name},
           {"address", self->address.to_string()},
           {"data_dir", settings.data_directory},
           {"disk", std::string((*runtime)->disk_backend_name())},
           {"http", http ? http->to_string() : std::string("none")},
           {"members", static_cast<uint64_t>(config->members.size())},
           {"tick_ms", settings.tick_ms},
           {"version", std::string(QUIRE_VERSION)},
           {"git_commit", std::string(QUIRE_GIT_COMMIT)},
           {"format_version", static_cast<uint64_t>(store::format::version)}});
  config->describe_disk = [&settings](wire::MemberStatus& status) {
    tools::describe_disk(settings.data_directory, status);
  };
  const Status outcome = run_node(**runtime, *config, http, settings.data_directory, log);
  if (!outcome.ok()) return log_stop(log, outcome.error());
  log.log(tools::LogLevel::info, "stop", {{"clean", true}, {"reason", std::string("stopped")}});
  return exit_stopped;
}

}  // namespace
}  // namespace quire

int main(int argc, char** argv) {
  return quire::run(argc, argv);
}
