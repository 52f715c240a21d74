// Goal: the engine elects, commits, serves reads and converges as a whole: Nodes with the real
// driver, codec, transport and journal, in the simulator.
// Method: three members and one client node in a world; the client submits transactions and
// reads; the test inspects every member's journal at the end.
#include <gtest/gtest.h>

#include <map>

#include "engine/client.h"
#include "engine/node.h"
#include "io/base/text.h"
#include "sim/world.h"
#include "tests/printers.h"

namespace quire::engine {
namespace {

constexpr uint16_t port = 7000;

NodeConfig member_config(uint32_t self, uint32_t member_count) {
  NodeConfig config;
  config.self = NodeId(self);
  config.group = GroupIdentity{"test-group", 0x5eed};
  for (uint32_t id = 1; id <= member_count; id++) {
    config.members.push_back(MemberAddress{NodeId(id), io::Address{concat("n", id), port}});
  }
  config.journal.write_cache_block_size_bytes = 64 * 1024;
  return config;
}

struct Cluster {
  // Declared before the world: the world's destruction unwinds the nodes, which touch these.
  std::map<std::string, Node*> nodes;  // While running.
  std::vector<std::string> exits;
  sim::World world;

  explicit Cluster(uint64_t seed, uint32_t member_count = 3)
      : world(sim::WorldOptions{.seed = seed}) {
    for (uint32_t id = 1; id <= member_count; id++) {
      const std::string name = concat("n", id);
      world.add_node(name, [this, id, member_count, name](io::Runtime& runtime) {
        Node node(runtime, member_config(id, member_count));
        nodes[name] = &node;
        struct Forget {
          std::map<std::string, Node*>& nodes;
          std::string name;
          ~Forget() { nodes.erase(name); }
        } forget{nodes, name};
        const Status outcome = node.run();
        exits.push_back(concat(name, ": ", outcome.ok() ? "ok" : outcome.error().to_string()));
      });
      world.start(id - 1);
    }
  }

  std::vector<io::Address> addresses() const {
    std::vector<io::Address> out;
    for (uint32_t id = 1; id <= 3; id++)
      out.push_back(io::Address{concat("n", id), port});
    return out;
  }

  // Runs `body` as the main of a new client node until it returns (or the deadline).
  bool run_client(const std::string& name, std::function<void(io::Runtime&)> body,
                  Duration limit = Duration::seconds(120)) {
    bool done = false;
    const size_t node = world.add_node(name, [&done, body](io::Runtime& runtime) {
      body(runtime);
      done = true;
    });
    world.start(node);
    return world.run_until([&] { return done; }, world.now() + limit);
  }
};

wire::ClientRequest put(const std::string& key, const std::string& value) {
  wire::ClientRequest request;
  wire::Operation* operation = request.mutable_transaction()->add_operations();
  operation->set_key(key);
  operation->set_put(value);
  return request;
}

wire::ClientRequest read_linearizable(const std::string& key) {
  wire::ClientRequest request;
  request.mutable_read()->set_consistency(wire::Read::LINEARIZABLE);
  request.mutable_read()->add_keys(key);
  return request;
}

TEST(Cluster, ElectsCommitsReadsAndConverges) {
  Cluster cluster(1);
  cluster.world.run_for(Duration::seconds(2));
  int committed = 0;
  const bool finished = cluster.run_client("c1", [&](io::Runtime& runtime) {
    Client client(runtime, GroupIdentity{"test-group", 0x5eed}, cluster.addresses());
    for (int index = 0; index < 30; index++) {
      auto response = client.call(put(concat("key", index), concat("value", index)),
                                  runtime.now() + Duration::seconds(10));
      ASSERT_TRUE(response.ok()) << response.error().to_string();
      ASSERT_EQ(response->outcome(), wire::OK) << response->message();
      committed++;
    }
    auto read = client.call(read_linearizable("key7"), runtime.now() + Duration::seconds(10));
    ASSERT_TRUE(read.ok());
    ASSERT_EQ(read->outcome(), wire::OK) << read->message();
    ASSERT_EQ(read->results_size(), 1);
    EXPECT_TRUE(read->results(0).found());
    EXPECT_EQ(read->results(0).value(), "value7");
  });
  EXPECT_TRUE(finished);
  EXPECT_EQ(committed, 30);
  cluster.world.run_for(Duration::seconds(2));
  ASSERT_EQ(cluster.nodes.size(), 3u);
  const CommitCounter leader_counter = cluster.nodes.begin()->second->journal()->commit_counter();
  EXPECT_GE(leader_counter, CommitCounter(1));
  for (const auto& [name, node] : cluster.nodes) {
    EXPECT_EQ(node->journal()->commit_counter(), leader_counter) << name;
    EXPECT_EQ(node->journal()->root().write_set_hash,
              cluster.nodes.begin()->second->journal()->root().write_set_hash);
  }
}

TEST(Cluster, ForeignGroupIsRefusedWithAReason) {
  Cluster cluster(2);
  cluster.world.run_for(Duration::seconds(1));
  std::optional<Error> refusal;
  cluster.run_client("intruder", [&](io::Runtime& runtime) {
    Client client(runtime, GroupIdentity{"other-group", 0x5eed}, cluster.addresses());
    auto response = client.call_once(io::Address{"n1", port}, put("k", "v"));
    if (!response.ok()) refusal = response.error();
  });
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->code(), ErrorCode::refused);
  EXPECT_NE(refusal->message().find("wrong group"), std::string::npos) << refusal->message();
}

// A refusal is a configuration error no retry mends: call() reports it at once instead of
// retrying every member until its deadline.
TEST(Cluster, ACallRefusedByTheGroupFailsFast) {
  Cluster cluster(2);
  cluster.world.run_for(Duration::seconds(1));
  std::optional<Error> refusal;
  Duration took;
  cluster.run_client("intruder", [&](io::Runtime& runtime) {
    Client client(runtime, GroupIdentity{"other-group", 0x5eed}, cluster.addresses());
    const Instant begin = runtime.now();
    auto response = client.call(put("k", "v"), begin + Duration::seconds(30));
    took = runtime.now() - begin;
    if (!response.ok()) refusal = response.error();
  });
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->code(), ErrorCode::refused) << refusal->to_string();
  EXPECT_LT(took, Duration::seconds(1));
}

}  // namespace
}  // namespace quire::engine
