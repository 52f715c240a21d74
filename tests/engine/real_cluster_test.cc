// Goal: the engine elects, commits, serves reads, converges and survives the loss of its leader on
// the real runtime, over loopback TCP and the real file system: the story of cluster_test.cc's
// first test, with real sockets, real fsyncs and real time instead of the simulator's.
// Method: three members, each a Node on its own RealRuntime on its own thread, with a temporary
// data directory and a loopback port the kernel found free; a fourth RealRuntime on the test's
// thread runs an engine::Client. Members are stopped across threads through an eventfd in their
// epoll set. Convergence is checked through the client protocol only: every member's status
// (same commit counter) and a local read at every member.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/client.h"
#include "engine/node.h"
#include "io/base/text.h"
#include "io/real/real_runtime.h"
#include "io/sync.h"
#include "tests/printers.h"

namespace quire::engine {
namespace {

const GroupIdentity group{"real-test", 0x7e57};

// A loopback port that nobody listens on now (the kernel's choice for port 0). Another process
// could take it before the member listens; the members' listen() then fails loudly.
uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  QUIRE_ASSERT(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  QUIRE_ASSERT(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  QUIRE_ASSERT(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

// A fresh directory under the system's temporary directory, removed with the object.
class TemporaryDirectory {
 public:
  TemporaryDirectory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "quire-real-XXXXXX").string();
    QUIRE_ASSERT(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TemporaryDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Readable on the loop's epoll set when another thread asks the member to stop.
class StopRequest final : public io::real::EventSource {
 public:
  StopRequest() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) { QUIRE_ASSERT(fd_ >= 0); }
  ~StopRequest() { ::close(fd_); }
  // Any thread.
  void request() {
    const uint64_t one = 1;
    QUIRE_ASSERT(::write(fd_, &one, sizeof one) == static_cast<ssize_t>(sizeof one));
  }
  // The member's thread: `on_request` runs on its loop, outside any fiber.
  void watch(io::real::EventLoop& loop, std::function<void()> on_request) {
    on_request_ = std::move(on_request);
    QUIRE_ASSERT(loop.watch(fd_, EPOLLIN, this).ok());
  }
  void on_events(uint32_t) override {
    uint64_t count = 0;
    if (::read(fd_, &count, sizeof count) == static_cast<ssize_t>(sizeof count)) on_request_();
  }
  int fd() const { return fd_; }

 private:
  int fd_;
  std::function<void()> on_request_;
};

// One member: a Node on a RealRuntime on a thread of its own, from start() until stop_and_join().
class MemberThread {
 public:
  MemberThread(NodeConfig config, std::string data_directory)
      : config_(std::move(config)), data_directory_(std::move(data_directory)) {}
  ~MemberThread() { (void)stop_and_join(); }

  void start() {
    thread_ = std::thread([this] { run(); });
  }
  // Stops the node (it answers its clients and closes its connections) and waits for the thread.
  // Returns what Node::run returned.
  Status stop_and_join() {
    if (thread_.joinable()) {
      stop_.request();
      thread_.join();
    }
    return outcome_;
  }
  NodeId id() const { return config_.self; }

 private:
  void run() {
    io::real::RealRuntimeOptions options;
    options.name = concat("n", config_.self);
    options.data_directory = data_directory_;
    options.trace = std::getenv("QUIRE_TEST_TRACE") != nullptr;
    auto runtime = io::real::RealRuntime::create(options);
    if (!runtime.ok()) {
      outcome_ = runtime.error();
      return;
    }
    io::real::RealRuntime& loop_owner = **runtime;
    const int main_result = loop_owner.run_main([&] {
      Node node(loop_owner, config_);
      io::Event wake(loop_owner);
      bool stop_requested = false;
      bool node_ended = false;
      stop_.watch(loop_owner.loop(), [&] {
        stop_requested = true;
        wake.set();
      });
      struct Unwatch {
        io::real::EventLoop& loop;
        int fd;
        ~Unwatch() { loop.unwatch(fd); }
      } unwatch{loop_owner.loop(), stop_.fd()};
      loop_owner.spawn("node", [&] {
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
    if (main_result != 0 && outcome_.ok()) {
      outcome_ = Error(ErrorCode::io_error, "the member's loop ended before its node");
    }
  }

  NodeConfig config_;
  std::string data_directory_;
  StopRequest stop_;
  std::thread thread_;
  Status outcome_ = ok_status();
};

struct RealCluster {
  std::vector<MemberAddress> members;
  std::vector<std::unique_ptr<TemporaryDirectory>> directories;
  std::vector<std::unique_ptr<MemberThread>> threads;

  explicit RealCluster(uint32_t member_count) {
    for (uint32_t id = 1; id <= member_count; id++) {
      members.push_back(MemberAddress{NodeId(id), io::Address{"127.0.0.1", free_port()}});
    }
    for (uint32_t id = 1; id <= member_count; id++) {
      NodeConfig config;
      config.self = NodeId(id);
      config.group = group;
      config.members = members;
      config.journal.write_cache_block_size_bytes = 64 * 1024;
      directories.push_back(std::make_unique<TemporaryDirectory>());
      threads.push_back(
          std::make_unique<MemberThread>(std::move(config), directories.back()->path()));
      threads.back()->start();
    }
  }

  std::vector<io::Address> addresses() const {
    std::vector<io::Address> out;
    for (const MemberAddress& member : members)
      out.push_back(member.address);
    return out;
  }
  const io::Address& address_of(NodeId id) const { return members.at(id.value() - 1).address; }
};

wire::ClientRequest put(const std::string& key, const std::string& value) {
  wire::ClientRequest request;
  wire::Operation* operation = request.mutable_transaction()->add_operations();
  operation->set_key(key);
  operation->set_put(value);
  return request;
}

wire::ClientRequest read(const std::string& key, wire::Read::Consistency consistency,
                         uint64_t min_commit_counter = 0) {
  wire::ClientRequest request;
  request.mutable_read()->set_consistency(consistency);
  request.mutable_read()->add_keys(key);
  request.mutable_read()->set_min_commit_counter(min_commit_counter);
  request.mutable_read()->set_wait_ms(5000);
  return request;
}

wire::ClientRequest status_request() {
  wire::ClientRequest request;
  request.mutable_status();
  return request;
}

// Runs `body` on a fresh client runtime on this thread until it returns.
void run_client(const std::function<void(io::Runtime&)>& body) {
  io::real::RealRuntimeOptions options;
  options.name = "client";
  auto runtime = io::real::RealRuntime::create(options);
  ASSERT_TRUE(runtime.ok()) << runtime.error().to_string();
  ASSERT_EQ((*runtime)->run_main([&] { body(**runtime); }), 0);
}

// The statuses of `members` once every one answers, or nullopt at the deadline.
std::vector<std::optional<wire::MemberStatus>> statuses(Client& client,
                                                        const std::vector<io::Address>& members) {
  std::vector<std::optional<wire::MemberStatus>> out;
  for (const io::Address& member : members) {
    auto response = client.call_once(member, status_request());
    out.push_back(response.ok() && response->has_status()
                      ? std::optional<wire::MemberStatus>(response->status())
                      : std::nullopt);
  }
  return out;
}

// Polls until exactly one of `members` says it is the leader of the highest term seen; returns
// its id, or node_none at the deadline.
NodeId wait_for_leader(io::Runtime& runtime, Client& client,
                       const std::vector<io::Address>& members, Duration limit) {
  const Instant deadline = runtime.now() + limit;
  while (runtime.now() < deadline) {
    std::set<uint32_t> leaders;
    for (const auto& status : statuses(client, members)) {
      if (status && status->role() == "leader") leaders.insert(status->node());
    }
    if (leaders.size() == 1) return NodeId(*leaders.begin());
    runtime.sleep_for(Duration::milliseconds(50));
  }
  return node_none;
}

// Polls until every one of `members` answers with the same commit counter of at least
// `at_least`; returns it, or 0 at the deadline.
uint64_t wait_for_convergence(io::Runtime& runtime, Client& client,
                              const std::vector<io::Address>& members, uint64_t at_least,
                              Duration limit) {
  const Instant deadline = runtime.now() + limit;
  while (runtime.now() < deadline) {
    std::set<uint64_t> counters;
    bool all_answered = true;
    for (const auto& status : statuses(client, members)) {
      if (!status) all_answered = false;
      if (status) counters.insert(status->commit_counter());
    }
    if (all_answered && counters.size() == 1 && *counters.begin() >= at_least) {
      return *counters.begin();
    }
    runtime.sleep_for(Duration::milliseconds(20));
  }
  return 0;
}

// Puts key<first>..key<first+count-1>; returns the commit counter of the last one.
uint64_t put_all(io::Runtime& runtime, Client& client, int first, int count) {
  uint64_t last_commit_counter = 0;
  for (int index = first; index < first + count; index++) {
    auto response = client.call(put(concat("key", index), concat("value", index)),
                                runtime.now() + Duration::seconds(20));
    EXPECT_TRUE(response.ok()) << "key" << index << ": " << response.error().to_string();
    if (!response.ok()) return 0;
    EXPECT_EQ(response->outcome(), wire::OK) << "key" << index << ": " << response->message();
    if (response->outcome() != wire::OK) return 0;
    EXPECT_GT(response->commit_counter(), last_commit_counter);
    last_commit_counter = response->commit_counter();
  }
  return last_commit_counter;
}

TEST(RealCluster, ElectsCommitsReadsConvergesAndSurvivesItsLeader) {
  RealCluster cluster(3);
  run_client([&](io::Runtime& runtime) {
    Client client(runtime, group, cluster.addresses());
    const NodeId first_leader =
        wait_for_leader(runtime, client, cluster.addresses(), Duration::seconds(30));
    ASSERT_NE(first_leader, node_none) << "no leader elected";

    const uint64_t committed = put_all(runtime, client, 0, 30);
    ASSERT_GE(committed, 1u);
    auto linearizable =
        client.call(read("key7", wire::Read::LINEARIZABLE), runtime.now() + Duration::seconds(10));
    ASSERT_TRUE(linearizable.ok()) << linearizable.error().to_string();
    ASSERT_EQ(linearizable->outcome(), wire::OK) << linearizable->message();
    ASSERT_EQ(linearizable->results_size(), 1);
    EXPECT_TRUE(linearizable->results(0).found());
    EXPECT_EQ(linearizable->results(0).value(), "value7");

    // Every member reaches the last acknowledged commit point and serves it.
    const uint64_t converged = wait_for_convergence(runtime, client, cluster.addresses(), committed,
                                                    Duration::seconds(10));
    EXPECT_GE(converged, committed) << "the members did not converge";
    for (const io::Address& member : cluster.addresses()) {
      auto local = client.call_member(member, read("key29", wire::Read::LOCAL, committed),
                                      runtime.now() + Duration::seconds(10));
      ASSERT_TRUE(local.ok()) << member.to_string() << ": " << local.error().to_string();
      ASSERT_EQ(local->outcome(), wire::OK) << member.to_string() << ": " << local->message();
      ASSERT_EQ(local->results_size(), 1);
      EXPECT_EQ(local->results(0).value(), "value29") << member.to_string();
    }

    // The leader goes away; the other two elect one of themselves and go on committing.
    MemberThread& leader = *cluster.threads.at(first_leader.value() - 1);
    const Status leader_exit = leader.stop_and_join();
    EXPECT_TRUE(leader_exit.ok()) << leader_exit.error().to_string();
    // Let the client's loop see the closed connection, so that its next request goes elsewhere
    // instead of into a dead socket (whose outcome would be unknown).
    runtime.sleep_for(Duration::milliseconds(100));
    std::vector<io::Address> survivors;
    for (const MemberAddress& member : cluster.members) {
      if (member.id != first_leader) survivors.push_back(member.address);
    }
    const NodeId second_leader = wait_for_leader(runtime, client, survivors, Duration::seconds(30));
    ASSERT_NE(second_leader, node_none) << "the survivors elected no leader";
    EXPECT_NE(second_leader, first_leader);
    const uint64_t committed_after = put_all(runtime, client, 30, 10);
    EXPECT_GT(committed_after, committed);
    auto after =
        client.call(read("key35", wire::Read::LINEARIZABLE), runtime.now() + Duration::seconds(10));
    ASSERT_TRUE(after.ok()) << after.error().to_string();
    ASSERT_EQ(after->outcome(), wire::OK) << after->message();
    EXPECT_EQ(after->results(0).value(), "value35");
    EXPECT_GE(
        wait_for_convergence(runtime, client, survivors, committed_after, Duration::seconds(10)),
        committed_after);
  });
  for (auto& member : cluster.threads) {
    const Status exit = member->stop_and_join();
    EXPECT_TRUE(exit.ok()) << "n" << member->id().value() << ": " << exit.error().to_string();
  }
}

}  // namespace
}  // namespace quire::engine
