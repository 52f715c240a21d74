// The engine on the real runtime (issue 4's benchmark, second half): a 3-member group on this
// machine over loopback TCP, each member a Node on its own RealRuntime on its own thread with its
// own data directory (real files, real fdatasync), and a fourth runtime on the main thread running
// 1 or 64 client fibers, each with its own engine::Client doing puts back to back.
//
// Reported per configuration: transactions acknowledged per second, write sets (commit points)
// per second, and the p50 / p99 / max commit latency a client sees (request sent to ok received).
// Every row starts a fresh group, waits for its leader, warms every client up with one put, then
// measures for --seconds.
//
// Run: build/bench/bench_engine_real [--seconds=5] [--dir=/tmp] [--tick-ms=10]
// [--heartbeat-ticks=N]
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/client.h"
#include "engine/node.h"
#include "io/base/text.h"
#include "io/real/real_runtime.h"
#include "io/sync.h"

namespace quire {
namespace {

const engine::GroupIdentity group{"bench", 0xbe4c};

struct Settings {
  double seconds = 5;
  std::string directory = std::filesystem::temp_directory_path().string();
  int64_t tick_ms = 10;
  uint64_t heartbeat_interval_ticks = 0;  // 0: the default.
};

uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  QUIRE_ASSERT(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  QUIRE_ASSERT(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  QUIRE_ASSERT(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

// An eventfd in a member's epoll set: another thread asks the member to stop through it.
class StopRequest final : public io::real::EventSource {
 public:
  StopRequest() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) { QUIRE_ASSERT(fd_ >= 0); }
  ~StopRequest() { ::close(fd_); }
  void request() {
    const uint64_t one = 1;
    QUIRE_ASSERT(::write(fd_, &one, sizeof one) == static_cast<ssize_t>(sizeof one));
  }
  void on_events(uint32_t) override {
    uint64_t count = 0;
    if (::read(fd_, &count, sizeof count) == static_cast<ssize_t>(sizeof count)) on_request();
  }
  int fd() const { return fd_; }
  std::function<void()> on_request;

 private:
  int fd_;
};

// One member on a thread of its own, from construction until stop_and_join().
class MemberThread {
 public:
  MemberThread(engine::NodeConfig config, std::string data_directory)
      : config_(std::move(config)), data_directory_(std::move(data_directory)) {
    thread_ = std::thread([this] { run(); });
  }
  ~MemberThread() { (void)stop_and_join(); }

  Status stop_and_join() {
    if (thread_.joinable()) {
      stop_.request();
      thread_.join();
    }
    return outcome_;
  }

 private:
  void run() {
    io::real::RealRuntimeOptions options;
    options.name = concat("n", config_.self);
    options.data_directory = data_directory_;
    auto created = io::real::RealRuntime::create(options);
    if (!created.ok()) {
      outcome_ = created.error();
      return;
    }
    io::real::RealRuntime& runtime = **created;
    (void)runtime.run_main([&] {
      engine::Node node(runtime, config_);
      io::Event wake(runtime);
      bool stop_requested = false;
      bool node_ended = false;
      stop_.on_request = [&] {
        stop_requested = true;
        wake.set();
      };
      QUIRE_ASSERT(runtime.loop().watch(stop_.fd(), EPOLLIN, &stop_).ok());
      struct Unwatch {
        io::real::EventLoop& loop;
        int fd;
        ~Unwatch() { loop.unwatch(fd); }
      } unwatch{runtime.loop(), stop_.fd()};
      runtime.spawn("node", [&] {
        outcome_ = node.run();
        node_ended = true;
        wake.set();
      });
      while (!node_ended) {
        wake.wait();
        wake.reset();
        if (stop_requested) node.stop();
      }
    });
  }

  engine::NodeConfig config_;
  std::string data_directory_;
  StopRequest stop_;
  std::thread thread_;
  Status outcome_ = ok_status();
};

struct Cluster {
  std::string root;
  std::vector<engine::MemberAddress> members;
  std::vector<std::unique_ptr<MemberThread>> threads;

  Cluster(const Settings& settings) {
    std::string pattern = settings.directory + "/quire-bench-XXXXXX";
    QUIRE_ASSERT_MSG(::mkdtemp(pattern.data()) != nullptr, "mkdtemp under --dir");
    root = pattern;
    for (uint32_t id = 1; id <= 3; id++) {
      members.push_back(engine::MemberAddress{NodeId(id), io::Address{"127.0.0.1", free_port()}});
    }
    for (uint32_t id = 1; id <= 3; id++) {
      engine::NodeConfig config;
      config.self = NodeId(id);
      config.group = group;
      config.members = members;
      config.tick_interval = Duration::milliseconds(settings.tick_ms);
      if (settings.heartbeat_interval_ticks > 0) {
        config.protocol.heartbeat_interval_ticks = settings.heartbeat_interval_ticks;
      }
      const std::string directory = concat(root, "/n", id);
      std::filesystem::create_directories(directory);
      threads.push_back(std::make_unique<MemberThread>(std::move(config), directory));
    }
  }
  ~Cluster() {
    for (auto& thread : threads) {
      const Status exit = thread->stop_and_join();
      if (!exit.ok()) std::fprintf(stderr, "member: %s\n", exit.error().to_string().c_str());
    }
    std::error_code ignored;
    std::filesystem::remove_all(root, ignored);
  }

  std::vector<io::Address> addresses() const {
    std::vector<io::Address> out;
    for (const engine::MemberAddress& member : members)
      out.push_back(member.address);
    return out;
  }
};

struct Measurement {
  double seconds = 0;
  uint64_t transactions = 0;
  uint64_t failures = 0;
  uint64_t write_sets = 0;
  std::vector<int64_t> latencies_ns;
};

wire::ClientRequest put(std::string key, std::string value) {
  wire::ClientRequest request;
  wire::Operation* operation = request.mutable_transaction()->add_operations();
  operation->set_key(std::move(key));
  operation->set_put(std::move(value));
  return request;
}

// The leader's commit counter, once some member says it leads (nullopt if none does in time).
std::optional<uint64_t> leader_commit_counter(io::Runtime& runtime, engine::Client& client,
                                              const std::vector<io::Address>& members) {
  const Instant deadline = runtime.now() + Duration::seconds(30);
  while (runtime.now() < deadline) {
    for (const io::Address& member : members) {
      wire::ClientRequest request;
      request.mutable_status();
      auto response = client.call_once(member, request);
      if (response.ok() && response->status().role() == "leader") {
        return response->status().commit_counter();
      }
    }
    runtime.sleep_for(Duration::milliseconds(50));
  }
  return std::nullopt;
}

Measurement measure(const Settings& settings, size_t clients, size_t value_size_bytes) {
  Cluster cluster(settings);
  Measurement measurement;
  io::real::RealRuntimeOptions options;
  options.name = "client";
  auto created = io::real::RealRuntime::create(options);
  QUIRE_ASSERT_MSG(created.ok(), created.error().to_string());
  io::real::RealRuntime& runtime = **created;
  const int main_result = runtime.run_main([&] {
    engine::Client observer(runtime, group, cluster.addresses());
    QUIRE_ASSERT_MSG(leader_commit_counter(runtime, observer, cluster.addresses()).has_value(),
                     "no leader elected");
    const std::string value(value_size_bytes, 'v');
    io::Event all_warm(runtime);
    io::Event start(runtime);
    io::Event all_done(runtime);
    size_t warmed = 0;
    size_t finished = 0;
    bool measuring = true;
    Instant end = Instant::max();
    for (size_t index = 0; index < clients; index++) {
      runtime.spawn(concat("client-", index), [&, index] {
        engine::Client client(runtime, group, cluster.addresses());
        auto transaction = [&](uint64_t sequence) -> std::optional<int64_t> {
          const Instant sent = runtime.now();
          auto response = client.call(put(concat("c", index, "-", sequence), value),
                                      sent + Duration::seconds(30));
          if (!response.ok() || response->outcome() != wire::OK) return std::nullopt;
          return (runtime.now() - sent).ns();
        };
        (void)transaction(0);
        if (++warmed == clients) all_warm.set();
        start.wait();
        for (uint64_t sequence = 1; measuring; sequence++) {
          const std::optional<int64_t> latency_ns = transaction(sequence);
          if (runtime.now() > end) break;
          if (latency_ns) {
            measurement.latencies_ns.push_back(*latency_ns);
            measurement.transactions++;
          } else {
            measurement.failures++;
          }
        }
        if (++finished == clients) all_done.set();
      });
    }
    all_warm.wait();
    const std::optional<uint64_t> counter_before =
        leader_commit_counter(runtime, observer, cluster.addresses());
    const Instant begin = runtime.now();
    end = begin + Duration::nanoseconds(static_cast<int64_t>(settings.seconds * 1e9));
    start.set();
    runtime.sleep_until(end);
    measuring = false;
    measurement.seconds = (runtime.now() - begin).seconds_double();
    all_done.wait();
    const std::optional<uint64_t> counter_after =
        leader_commit_counter(runtime, observer, cluster.addresses());
    if (counter_before && counter_after) measurement.write_sets = *counter_after - *counter_before;
  });
  QUIRE_ASSERT(main_result == 0);
  return measurement;
}

double percentile_ms(std::vector<int64_t>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  const size_t index = std::min(sorted.size() - 1, static_cast<size_t>(fraction * sorted.size()));
  return static_cast<double>(sorted[index]) / 1e6;
}

Settings parse(int argc, char** argv) {
  Settings settings;
  for (int index = 1; index < argc; index++) {
    const char* argument = argv[index];
    if (std::strncmp(argument, "--seconds=", 10) == 0) {
      settings.seconds = std::strtod(argument + 10, nullptr);
    } else if (std::strncmp(argument, "--dir=", 6) == 0) {
      settings.directory = argument + 6;
    } else if (std::strncmp(argument, "--heartbeat-ticks=", 18) == 0) {
      settings.heartbeat_interval_ticks = std::strtoull(argument + 18, nullptr, 10);
    } else if (std::strncmp(argument, "--tick-ms=", 10) == 0) {
      settings.tick_ms = std::strtoll(argument + 10, nullptr, 10);
    } else {
      std::fprintf(stderr,
                   "usage: bench_engine_real [--seconds=5] [--dir=/tmp] [--tick-ms=10] "
                   "[--heartbeat-ticks=N]\n");
      std::exit(2);
    }
  }
  return settings;
}

}  // namespace
}  // namespace quire

int main(int argc, char** argv) {
  using namespace quire;
  const Settings settings = parse(argc, argv);
  std::printf(
      "bench_engine_real: 3 members on threads of this process, loopback TCP, data under "
      "%s, %u cores, %.0f s per row\n\n",
      settings.directory.c_str(), std::thread::hardware_concurrency(), settings.seconds);
  std::printf(
      "| clients | value | transactions/s | write sets/s | txn per write set | p50 ms | "
      "p99 ms | max ms | failed |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const size_t clients : {1, 64}) {
    for (const size_t value_size_bytes : {256, 4096}) {
      Measurement result = measure(settings, clients, value_size_bytes);
      std::sort(result.latencies_ns.begin(), result.latencies_ns.end());
      const double seconds = result.seconds > 0 ? result.seconds : 1e-9;
      std::printf(
          "| %zu | %zu B | %.0f | %.0f | %.1f | %.2f | %.2f | %.2f | %" PRIu64 " |\n", clients,
          value_size_bytes, static_cast<double>(result.transactions) / seconds,
          static_cast<double>(result.write_sets) / seconds,
          result.write_sets > 0
              ? static_cast<double>(result.transactions) / static_cast<double>(result.write_sets)
              : 0.0,
          percentile_ms(result.latencies_ns, 0.50), percentile_ms(result.latencies_ns, 0.99),
          result.latencies_ns.empty() ? 0.0 : static_cast<double>(result.latencies_ns.back()) / 1e6,
          result.failures);
      std::fflush(stdout);
    }
  }
  return 0;
}
