// Goal: a client finds a serving leader whenever one is up and reachable: a member that is down,
// paused or cut off costs it one bound, never its deadline, and only the group refusing it ends a
// call early; when nobody can serve, the error names what each member answered. Members agree on
// who the members are: a peer with another member list is refused, and a data directory keeps
// the list it was first started with.
// Method: real Nodes in the simulator (tests/engine/sim_cluster.h); faults applied by hand.
#include <gtest/gtest.h>

#include "engine/member_list.h"
#include "tests/engine/sim_cluster.h"
#include "tests/printers.h"

namespace quire::engine {
namespace {

using namespace sim_cluster;  // NOLINT: this folder's test support.

const GroupIdentity group{"test-group", 0x5eed};

// A follower of the current leader, by name.
std::string a_follower(Cluster& cluster) {
  const std::string leader = leader_name(cluster);
  return leader == "n1" ? "n2" : "n1";
}

// `calls` fresh clients (each starts at a random member) put a key each; returns how many got OK
// and the longest call.
std::pair<int, Duration> fresh_clients_put(Cluster& cluster, int calls) {
  int committed = 0;
  Duration longest;
  EXPECT_TRUE(cluster.run_client("c1", [&](io::Runtime& runtime) {
    for (int index = 0; index < calls; index++) {
      Client client(runtime, group, cluster.addresses());
      const Instant begin = runtime.now();
      auto response =
          client.call(put(concat("k", index), "v"), runtime.now() + Duration::seconds(5));
      longest = std::max(longest, runtime.now() - begin);
      if (response.ok() && response->outcome() == wire::OK) committed++;
    }
  }));
  return {committed, longest};
}

TEST(Client, AMemberThatIsDownCostsNothingButATry) {
  Cluster cluster(11);
  cluster.world.run_for(Duration::seconds(2));
  cluster.world.crash(cluster.world.find_node(a_follower(cluster)));
  const auto [committed, longest] = fresh_clients_put(cluster, 30);
  EXPECT_EQ(committed, 30);
  EXPECT_LT(longest, Duration::seconds(1));
}

TEST(Client, APausedMemberCostsOneConnectTimeout) {
  Cluster cluster(12);
  cluster.world.run_for(Duration::seconds(2));
  cluster.world.pause(cluster.world.find_node(a_follower(cluster)), Duration::seconds(60));
  const auto [committed, longest] = fresh_clients_put(cluster, 30);
  EXPECT_EQ(committed, 30);
  // A client that starts at the paused member waits one handshake bound there, then moves on.
  EXPECT_LT(longest, ClientOptions{}.connect_timeout + Duration::seconds(1));
}

TEST(Client, ALeaderThatStopsWithAReadCostsTheReaderAboutOneElection) {
  Cluster cluster(16);
  cluster.world.run_for(Duration::seconds(2));
  const std::string leader = leader_name(cluster);
  ASSERT_FALSE(leader.empty());
  std::optional<Result<wire::ClientResponse>> answer;
  Duration took;
  ASSERT_TRUE(cluster.run_client("c1", [&](io::Runtime& runtime) {
    Client client(runtime, group, cluster.addresses());
    // The client finds the leader and keeps its connection; then the leader stops, and the next
    // read is sent to it on that open connection and never answered there.
    ASSERT_TRUE(client.call(read_linearizable("k"), runtime.now() + Duration::seconds(5)).ok());
    ASSERT_EQ(client.leader_guess().host, leader);
    cluster.world.at(cluster.world.now(), [&] {
      cluster.world.pause(cluster.world.find_node(leader), Duration::seconds(60));
    });
    const Instant begin = runtime.now();
    answer = client.call(read_linearizable("k"), runtime.now() + Duration::seconds(10));
    took = runtime.now() - begin;
  }));
  ASSERT_TRUE(answer.has_value());
  ASSERT_TRUE(answer->ok()) << answer->error().to_string();
  EXPECT_EQ((*answer)->outcome(), wire::OK);
  EXPECT_NE(leader_name(cluster), leader);
  // One short attempt at the stopped leader, then the new leader's first commit in its term. With
  // the old 1 s first attempt the reader waited longer than the election took.
  EXPECT_LT(took, Duration::seconds(1)) << took.ms() << " ms";
}

TEST(Client, AnUnavailableCallNamesWhatEachMemberAnswered) {
  Cluster cluster(13);
  cluster.world.run_for(Duration::seconds(2));
  for (uint32_t id = 1; id <= 3; id++)
    cluster.world.crash(cluster.world.find_node(concat("n", id)));
  std::optional<Error> error;
  ASSERT_TRUE(cluster.run_client("c1", [&](io::Runtime& runtime) {
    Client client(runtime, group, cluster.addresses());
    auto response = client.call(put("k", "v"), runtime.now() + Duration::seconds(2));
    if (!response.ok()) error = response.error();
  }));
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code(), ErrorCode::unavailable) << error->to_string();
  for (uint32_t id = 1; id <= 3; id++) {
    EXPECT_NE(error->message().find(concat("n", id, ":", port, ": unreachable")), std::string::npos)
        << error->message();
  }
}

TEST(MemberList, APeerWithAnotherMemberListIsRefusedAndTheMajorityServes) {
  // n3 believes in a fourth member; n1 and n2 agree with each other.
  Cluster cluster(14, 3, [](NodeConfig& config) {
    if (config.self == NodeId(3)) {
      config.members.push_back(MemberAddress{NodeId(4), io::Address{"n4", port}});
    }
  });
  cluster.world.run_for(Duration::seconds(3));
  for (const std::string name : {"n1", "n3"}) {
    const TransportStats& stats = cluster.nodes.at(name)->transport()->stats();
    EXPECT_GT(stats.handshakes_refused, 0u) << name;
    EXPECT_NE(stats.last_refusal.find("member list differs"), std::string::npos)
        << name << ": " << stats.last_refusal;
  }
  const auto [committed, longest] = fresh_clients_put(cluster, 5);
  EXPECT_EQ(committed, 5);
  EXPECT_NE(status_of(cluster, "n3").role, core::Role::leader);
}

TEST(MemberList, ADataDirectoryKeepsTheListItWasFirstStartedWith) {
  const std::vector<MemberAddress> three = member_config(1, 3).members;
  const std::vector<MemberAddress> five = member_config(1, 5).members;
  sim::World world(sim::WorldOptions{.seed = 15});
  std::vector<Status> outcomes;
  const size_t node = world.add_node("n1", [&](io::Runtime& runtime) {
    outcomes.push_back(check_member_list_file(runtime, "members", three));
    outcomes.push_back(check_member_list_file(runtime, "members", three));
    outcomes.push_back(check_member_list_file(runtime, "members", five));
  });
  world.start(node);
  world.run_for(Duration::seconds(1));
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_TRUE(outcomes[0].ok()) << outcomes[0].error().to_string();
  EXPECT_TRUE(outcomes[1].ok()) << outcomes[1].error().to_string();
  ASSERT_FALSE(outcomes[2].ok());
  EXPECT_EQ(outcomes[2].code(), ErrorCode::invalid_argument);
  EXPECT_NE(outcomes[2].error().message().find(member_list_text(three)), std::string::npos);
  EXPECT_NE(outcomes[2].error().message().find(member_list_text(five)), std::string::npos);

  // A rotten file does not keep the member down: it is written again from the flags, and then
  // guards as before.
  sim::DiskImage& disk = world.disk_image(node);
  ASSERT_TRUE(disk.rot_at("members", 20, 1));
  world.crash(node);
  outcomes.clear();
  world.start(node);
  world.run_for(Duration::seconds(1));
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_TRUE(outcomes[0].ok()) << outcomes[0].error().to_string();
  EXPECT_TRUE(outcomes[1].ok()) << outcomes[1].error().to_string();
  EXPECT_EQ(outcomes[2].code(), ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace quire::engine
