// quired: the quire daemon. One member of a replication group per process, on the real runtime
// (io/real): it turns its flags into an engine::NodeConfig, roots a RealDisk at --data-dir and
// runs engine::Node until SIGINT or SIGTERM (exit 0) or until the node stops on a fatal error,
// such as a failed fsync (exit 1, the error printed: a supervisor restarts it and the node
// recovers from its disk). Bad flags exit 2 before anything is created. See docs/operations.md.
//
// Signals: SIGINT and SIGTERM are blocked before any thread exists and read from a signalfd in the
// runtime's epoll set, so no handler ever runs in the middle of a fiber. The first one asks the
// node to stop (it answers waiting clients, closes its connections and returns); a second one
// exits at once, which is safe because the node is crash-safe, only less polite.
#include <arpa/inet.h>
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
#include "tools/cli_flags.h"
#include "tools/event_log.h"
#include "tools/http_server.h"
#include "tools/member_events.h"
#include "tools/member_report.h"

namespace quire {
namespace {

constexpr int exit_stopped = 0;
constexpr int exit_failed = 1;
constexpr int exit_usage = 2;

constexpr const char* usage_text =
    "usage: quired --id N --members \"1=127.0.0.1:7101,2=127.0.0.1:7102,3=127.0.0.1:7103\"\n"
    "              --group NAME --token HEX --data-dir DIR\n"
    "              [--tick-ms N] [--block-size BYTES] [--scrub-pass-seconds N]\n"
    "              [--scrub-mib-per-second N] [--http-listen IPV4:PORT] [--trace]\n"
    "              [--log-level LEVEL] [--log-format text|json]\n"
    "  --id N            this member's id (one of --members)\n"
    "  --members LIST    every electable member as id=ipv4:port, comma separated\n"
    "  --group NAME      the replication group's name; members and clients must agree\n"
    "  --token HEX       the group's token (up to 16 hex digits); a foreign node is refused\n"
    "  --data-dir DIR    where the journal, HALogs and quorum state live (created if missing)\n"
    "  --tick-ms N       the protocol's tick (default 10); timeouts are counted in ticks\n"
    "  --block-size B    write-cache block size in bytes, or with K/M suffix (default 1M)\n"
    "  --scrub-pass-seconds N\n"
    "                    the scrubber paces a pass over the committed journal to last about N\n"
    "                    seconds (default 600)\n"
    "  --scrub-mib-per-second N\n"
    "                    and never reads faster than N MiB/s (default 8; 0 turns it off)\n"
    "  --http-listen A   serve /status, /status?HA, /health and /metrics over HTTP on A\n"
    "                    (e.g. 127.0.0.1:7201; default: no HTTP endpoint)\n"
    "  --trace           write trace lines to stderr\n"
    "  --log-level L     trace, debug, info (default), warn or error: the least severe event\n"
    "                    logged to stderr (docs/operations.md, \"Logs\")\n"
    "  --log-format F    text (default: time level member=N event=NAME key=value ...) or json\n"
    "                    (one JSON object per line)\n"
    "exit codes: 0 stopped by SIGINT/SIGTERM, 1 stopped by an error, 2 bad flags\n";

struct DaemonFlags {
  uint32_t id = 0;
  std::string members;
  std::string group;
  std::string token;
  std::string data_directory;
  uint64_t tick_ms = 10;
  std::string block_size;
  std::string scrub_pass_seconds;
  std::string scrub_mib_per_second;
  std::string http_listen;
  std::string log_level = "info";
  std::string log_format = "text";
  bool trace = false;
};

using tools::parse_number;
using tools::usage_error;

// "64K", "1M", "65536": a byte count with an optional binary suffix.
Result<uint64_t> parse_bytes(std::string_view text, std::string_view flag) {
  uint64_t multiplier = 1;
  if (!text.empty() && (text.back() == 'K' || text.back() == 'k')) multiplier = 1024;
  if (!text.empty() && (text.back() == 'M' || text.back() == 'm')) multiplier = 1024 * 1024;
  if (multiplier != 1) text.remove_suffix(1);
  QUIRE_TRY_ASSIGN(const uint64_t count, parse_number(text, flag));
  if (count > UINT32_MAX / multiplier) return usage_error(concat(flag, ": too large"));
  return count * multiplier;
}

Result<uint64_t> parse_token(std::string_view text) {
  if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
  if (text.empty() || text.size() > 16) {
    return usage_error(concat("--token: '", text, "' is not 1 to 16 hex digits"));
  }
  return parse_number(text, "--token", 16);
}

// Only what the real network can dial: numeric IPv4 or localhost (docs/io.md, "Network").
Status check_host(const std::string& host) {
  in_addr parsed{};
  if (host == "localhost" || inet_pton(AF_INET, host.c_str(), &parsed) == 1) return ok_status();
  return usage_error(concat("host '", host, "' is not an IPv4 address or localhost"));
}

// "1=127.0.0.1:7101,2=127.0.0.1:7102": sorted by id, each id and address once.
Result<std::vector<engine::MemberAddress>> parse_members(std::string_view text) {
  std::map<uint32_t, io::Address> by_id;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const size_t equals = item.find('=');
    if (equals == std::string_view::npos) {
      return usage_error(concat("--members: '", item, "' is not id=host:port"));
    }
    QUIRE_TRY_ASSIGN(const uint64_t id, parse_number(item.substr(0, equals), "--members id"));
    if (id == 0 || id > UINT32_MAX) return usage_error("--members: ids start at 1");
    QUIRE_TRY_ASSIGN(io::Address address, io::Address::parse(item.substr(equals + 1)));
    QUIRE_TRY(check_host(address.host));
    for (const auto& [other_id, other] : by_id) {
      if (other == address) {
        return usage_error(concat("--members: ", address.to_string(), " appears twice"));
      }
    }
    if (!by_id.emplace(static_cast<uint32_t>(id), std::move(address)).second) {
      return usage_error(concat("--members: id ", id, " appears twice"));
    }
  }
  if (by_id.empty()) return usage_error("--members: no members");
  std::vector<engine::MemberAddress> members;
  for (auto& [id, address] : by_id)
    members.push_back(engine::MemberAddress{NodeId(id), std::move(address)});
  return members;
}

Result<DaemonFlags> parse_flags(int argc, char** argv) {
  DaemonFlags flags;
  std::map<std::string, std::string*> text_flags = {
      {"--members", &flags.members},
      {"--group", &flags.group},
      {"--token", &flags.token},
      {"--data-dir", &flags.data_directory},
      {"--block-size", &flags.block_size},
      {"--scrub-pass-seconds", &flags.scrub_pass_seconds},
      {"--scrub-mib-per-second", &flags.scrub_mib_per_second},
      {"--http-listen", &flags.http_listen},
      {"--log-level", &flags.log_level},
      {"--log-format", &flags.log_format}};
  std::optional<std::string> id_text;
  std::optional<std::string> tick_text;
  for (int index = 1; index < argc; index++) {
    std::string flag = argv[index];
    std::optional<std::string> value;
    if (const size_t equals = flag.find('='); flag.starts_with("--") && equals != flag.npos) {
      value = flag.substr(equals + 1);
      flag.resize(equals);
    }
    if (flag == "--trace" && !value) {
      flags.trace = true;
      continue;
    }
    const bool known = text_flags.contains(flag) || flag == "--id" || flag == "--tick-ms";
    if (!known) return usage_error(concat("unknown argument '", argv[index], "'"));
    if (!value) {
      if (index + 1 >= argc) return usage_error(concat(flag, " needs a value"));
      value = argv[++index];
    }
    if (flag == "--id") {
      id_text = *value;
    } else if (flag == "--tick-ms") {
      tick_text = *value;
    } else {
      *text_flags.at(flag) = *value;
    }
  }
  if (!id_text) return usage_error("--id is required");
  QUIRE_TRY_ASSIGN(const uint64_t id, parse_number(*id_text, "--id"));
  if (id == 0 || id > UINT32_MAX) return usage_error("--id: ids start at 1");
  flags.id = static_cast<uint32_t>(id);
  for (const char* required : {"--members", "--group", "--token", "--data-dir"}) {
    if (text_flags.at(required)->empty()) return usage_error(concat(required, " is required"));
  }
  if (tick_text) {
    QUIRE_TRY_ASSIGN(flags.tick_ms, parse_number(*tick_text, "--tick-ms"));
    if (flags.tick_ms == 0 || flags.tick_ms > 10'000) {
      return usage_error("--tick-ms: between 1 and 10000");
    }
  }
  return flags;
}

Result<engine::NodeConfig> node_config(const DaemonFlags& flags) {
  engine::NodeConfig config;
  config.self = NodeId(flags.id);
  QUIRE_TRY_ASSIGN(const uint64_t token, parse_token(flags.token));
  config.group = engine::GroupIdentity{flags.group, token};
  QUIRE_TRY_ASSIGN(config.members, parse_members(flags.members));
  config.tick_interval = Duration::milliseconds(static_cast<int64_t>(flags.tick_ms));
  if (!flags.block_size.empty()) {
    QUIRE_TRY_ASSIGN(const uint64_t block_size_bytes,
                     parse_bytes(flags.block_size, "--block-size"));
    config.journal.write_cache_block_size_bytes = static_cast<uint32_t>(block_size_bytes);
  }
  if (!flags.scrub_pass_seconds.empty()) {
    QUIRE_TRY_ASSIGN(const uint64_t seconds,
                     parse_number(flags.scrub_pass_seconds, "--scrub-pass-seconds"));
    if (seconds == 0 || seconds > 30 * 24 * 3600) {
      return usage_error("--scrub-pass-seconds: between 1 and 2592000 (30 days)");
    }
    config.scrub_pass_target = Duration::seconds(static_cast<int64_t>(seconds));
  }
  if (!flags.scrub_mib_per_second.empty()) {
    QUIRE_TRY_ASSIGN(const uint64_t rate,
                     parse_number(flags.scrub_mib_per_second, "--scrub-mib-per-second"));
    if (rate > 100'000) return usage_error("--scrub-mib-per-second: at most 100000");
    config.scrub_bytes_per_second = rate << 20;
  }
  QUIRE_TRY(config.validate());
  return config;
}

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

// Runs the node on the runtime until a stop signal or a fatal error. The main fiber owns the
// node and waits; the node runs in a fiber of its own so that main can hear the signal.
Status run_node(io::real::RealRuntime& runtime, const engine::NodeConfig& config,
                const std::optional<io::Address>& http, const std::string& data_directory,
                tools::EventLog& log) {
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

Result<tools::EventLogOptions> event_log_options(const DaemonFlags& flags) {
  tools::EventLogOptions options;
  auto level = tools::parse_log_level(flags.log_level);
  if (!level.ok()) return usage_error(concat("--log-level: ", level.error().message()));
  auto format = tools::parse_log_format(flags.log_format);
  if (!format.ok()) return usage_error(concat("--log-format: ", format.error().message()));
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
  std::fprintf(stderr, "quired: %s\n%s", error.message().c_str(), usage_text);
  return exit_usage;
}

int run(int argc, char** argv) {
  if (argc == 2 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) {
    std::fputs(usage_text, stdout);
    return exit_stopped;
  }
  auto flags = parse_flags(argc, argv);
  if (!flags.ok()) return usage_failure(flags.error());
  auto config = node_config(*flags);
  if (!config.ok()) return usage_failure(config.error());
  std::optional<io::Address> http;
  if (!flags->http_listen.empty()) {
    auto address = io::Address::parse(flags->http_listen);
    if (!address.ok())
      return usage_failure(usage_error(concat("--http-listen: ", address.error().message())));
    if (Status host = check_host(address->host); !host.ok()) return usage_failure(host.error());
    http = std::move(*address);
  }
  auto log_options = event_log_options(*flags);
  if (!log_options.ok()) return usage_failure(log_options.error());
  tools::EventLog log(flags->id, *log_options, tools::EventLog::stderr_sink(),
                      tools::EventLog::wall_clock());
  // Everything above only read flags; from here on the daemon touches the machine.
  if (Status blocked = block_stop_signals(); !blocked.ok()) {
    return log_stop(log, blocked.error());
  }
  auto lock = claim_data_directory(flags->data_directory);
  if (!lock.ok()) return log_stop(log, lock.error());
  io::real::RealRuntimeOptions options;
  options.name = concat("n", flags->id);
  options.data_directory = flags->data_directory;
  options.trace = flags->trace;
  auto runtime = io::real::RealRuntime::create(options);
  if (!runtime.ok()) return log_stop(log, runtime.error());
  const engine::MemberAddress* self = config->member(config->self);
  log.log(tools::LogLevel::info, "start",
          {{"group", config->group.name},
           {"address", self->address.to_string()},
           {"data_dir", flags->data_directory},
           {"disk", std::string((*runtime)->disk_backend_name())},
           {"http", http ? http->to_string() : std::string("none")},
           {"members", static_cast<uint64_t>(config->members.size())},
           {"tick_ms", flags->tick_ms},
           {"version", std::string(QUIRE_GIT_COMMIT)},
           {"format_version", static_cast<uint64_t>(store::format::version)}});
  const Status outcome = run_node(**runtime, *config, http, flags->data_directory, log);
  if (!outcome.ok()) return log_stop(log, outcome.error());
  log.log(tools::LogLevel::info, "stop", {{"clean", true}, {"reason", std::string("stopped")}});
  return exit_stopped;
}

}  // namespace
}  // namespace quire

int main(int argc, char** argv) {
  return quire::run(argc, argv);
}
