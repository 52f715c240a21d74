// Goal: the engine elects, commits, serves reads and converges as a whole: Nodes with the real
// driver, codec, transport and journal, in the simulator.
// Method: three members and one client node in a world; the client submits transactions and
// reads; the test inspects every member's journal at the end. Read repair without a good copy:
// the test flips a bit of a value on disk where no peer can supply it, and watches the member
// leave the quorum and rebuild.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>

#include "engine/client.h"
#include "engine/codec.h"
#include "engine/node.h"
#include "io/base/text.h"
#include "sim/world.h"
#include "store/format.h"
#include "store/journal_file.h"
#include "tests/engine/sim_cluster.h"
#include "tests/printers.h"

namespace quire::engine {
namespace {

using namespace sim_cluster;  // NOLINT: this folder's test support.

// Where node `name`'s journal holds the first copy of `marker`, at rest.
std::optional<uint64_t> find_in_journal(Cluster& cluster, const std::string& name,
                                        const std::string& marker) {
  sim::DiskImage& disk = cluster.world.disk_image(cluster.world.find_node(name));
  const Bytes bytes = disk.files().at(journal_path)->durable.to_bytes();
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const size_t at = text.find(marker);
  if (at == std::string_view::npos) return std::nullopt;
  return at;
}

// Flips a bit of the first copy of `marker` in the journal of node `name`; false if absent.
bool rot_value(Cluster& cluster, const std::string& name, const std::string& marker) {
  const std::optional<uint64_t> at = find_in_journal(cluster, name, marker);
  if (!at) return false;
  sim::DiskImage& disk = cluster.world.disk_image(cluster.world.find_node(name));
  return disk.rot_at(journal_path, *at + marker.size() / 2, 3);
}

// Scrubbing off: the reads in these tests are what find the rot.
void without_scrubber(NodeConfig& config) {
  config.scrub_bytes_per_second = 0;
}

const std::string big_value = "MARKER-" + std::string(6000, 'v') + "-MARKER";

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

// A hello that cannot be read (a bit flipped in flight) is not a refusal: the member closes the
// connection without a hello reply, so the client counts one failed attempt instead of taking the
// group's final word (fuzz seed 17, scenarios/bug_a_garbled_hello_refused_the_client.scenario).
TEST(Cluster, UnreadableHelloClosesWithoutARefusal) {
  Cluster cluster(2);
  cluster.world.run_for(Duration::seconds(1));
  std::optional<Result<Bytes>> reply;
  cluster.run_client("garbler", [&](io::Runtime& runtime) {
    auto connection =
        runtime.network().connect(io::Address{"n1", port}, runtime.now() + Duration::seconds(1));
    ASSERT_TRUE(connection.ok());
    wire::Frame hello;
    hello.mutable_hello()->set_group("test-group");
    hello.mutable_hello()->set_token(0x5eed);
    hello.mutable_hello()->set_peer(wire::Hello::CLIENT);
    Bytes garbled = seal_frame(hello);
    garbled[9] ^= 0x10;
    ASSERT_TRUE((*connection)->send(garbled).ok());
    reply = (*connection)->receive(runtime.now() + Duration::seconds(2));
  });
  ASSERT_TRUE(reply.has_value());
  EXPECT_FALSE(reply->ok()) << "the member answered an unreadable hello";
  // And a client with a readable hello is served.
  bool served = false;
  cluster.run_client("client", [&](io::Runtime& runtime) {
    Client client(runtime, GroupIdentity{"test-group", 0x5eed}, cluster.addresses());
    served = client.call(put("k", "v"), runtime.now() + Duration::seconds(10)).ok();
  });
  EXPECT_TRUE(served);
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

// A read whose answer is lost (the leader is cut off after the client sent it) is asked again
// elsewhere: it changes nothing, so unlike a transaction its outcome is never "unknown".
TEST(Cluster, AReadWhoseAnswerIsLostIsAskedAgain) {
  Cluster cluster(5);
  cluster.world.run_for(Duration::seconds(2));
  const GroupIdentity group{"test-group", 0x5eed};
  std::optional<Result<wire::ClientResponse>> read;
  ASSERT_TRUE(cluster.run_client("c1", [&](io::Runtime& runtime) {
    Client client(runtime, group, cluster.addresses());
    auto written = client.call(put("k", "v"), runtime.now() + Duration::seconds(10));
    ASSERT_TRUE(written.ok());
    ASSERT_EQ(written->outcome(), wire::OK);
    // The client's connection to the leader is cached; the leader is cut off from everyone.
    const std::string leader = leader_name(cluster);
    ASSERT_FALSE(leader.empty());
    cluster.world.isolate(cluster.world.find_node(leader));
    read = client.call(read_linearizable("k"), runtime.now() + Duration::seconds(60));
  }));
  ASSERT_TRUE(read.has_value());
  ASSERT_TRUE(read->ok()) << read->error().to_string();
  ASSERT_EQ((*read)->outcome(), wire::OK) << (*read)->message();
  EXPECT_EQ((*read)->results(0).value(), "v");
}

// Zeroes the bytes of node `name`'s journal from the first copy of `from` to the first copy of
// `to`, at rest (what a misdirected write of a large block does to its neighbours). False if
// either marker is absent.
bool zero_between(Cluster& cluster, const std::string& name, const std::string& from,
                  const std::string& to) {
  const std::optional<uint64_t> begin = find_in_journal(cluster, name, from);
  const std::optional<uint64_t> end = find_in_journal(cluster, name, to);
  if (!begin || !end || *end <= *begin) return false;
  sim::DiskImage& disk = cluster.world.disk_image(cluster.world.find_node(name));
  const std::shared_ptr<sim::FileImage>& file = disk.files().at(journal_path);
  const Bytes zeros(*end - *begin, 0);
  file->durable.write(*begin, zeros);
  file->current.write(*begin, zeros);
  return true;
}

// A run of spoilt blocks is mended by the scrubber in one fetch and one write, not a round trip
// per block: a member with hundreds of them must not take longer to heal than the group allows.
TEST(Cluster, TheScrubberMendsARunOfBadBlocksInOneRepair) {
  Cluster cluster(6, 3,
                  [](NodeConfig& config) { config.scrub_pass_target = Duration::seconds(1); });
  cluster.world.run_for(Duration::seconds(2));
  const GroupIdentity group{"test-group", 0x5eed};
  ASSERT_TRUE(cluster.run_client("c1", [&](io::Runtime& runtime) {
    Client client(runtime, group, cluster.addresses());
    for (int index = 0; index < 40; index++) {
      const std::string value = concat("VALUE-", index, "-", std::string(3000, 'x'));
      auto response =
          client.call(put(concat("k", index), value), runtime.now() + Duration::seconds(10));
      ASSERT_TRUE(response.ok());
      ASSERT_EQ(response->outcome(), wire::OK);
    }
  }));
  cluster.world.run_for(Duration::seconds(2));
  const std::string leader = leader_name(cluster);
  const std::string follower = leader == "n1" ? "n2" : "n1";
  ASSERT_TRUE(zero_between(cluster, follower, "VALUE-10-", "VALUE-30-"));
  const uint64_t repaired_before = cluster.nodes.at(follower)->scrubber()->stats().blocks_repaired;
  cluster.world.run_for(Duration::seconds(5));
  const ScrubStats& stats = cluster.nodes.at(follower)->scrubber()->stats();
  EXPECT_EQ(stats.blocks_unrepairable, 0u);
  // Twenty commit points' blocks were spoilt; one repair (two if a pass began inside the run).
  EXPECT_GE(stats.blocks_repaired, repaired_before + 1);
  EXPECT_LE(stats.blocks_repaired, repaired_before + 2);
  // Its committed bytes are the leader's again.
  const uint64_t end = cluster.nodes.at(follower)->journal()->root().end_offset;
  const auto journal_bytes = [&](const std::string& name) {
    return cluster.world.disk_image(cluster.world.find_node(name))
        .files()
        .at(journal_path)
        ->durable.to_bytes();
  };
  const Bytes ours = journal_bytes(follower);
  const Bytes theirs = journal_bytes(leader);
  ASSERT_GE(ours.size(), end);
  ASSERT_GE(theirs.size(), end);
  EXPECT_TRUE(std::equal(ours.begin() + store::format::data_region_begin_offset,
                         ours.begin() + static_cast<std::ptrdiff_t>(end),
                         theirs.begin() + store::format::data_region_begin_offset));
}

const GroupIdentity test_group{"test-group", 0x5eed};

// Sends `request` once to `member` from a new client node `client`, and returns the answer.
Result<wire::ClientResponse> ask_once(Cluster& cluster, const std::string& client,
                                      const std::string& member, const wire::ClientRequest& request,
                                      Duration attempt_timeout = Duration::seconds(5)) {
  std::optional<Result<wire::ClientResponse>> answer;
  const bool finished = cluster.run_client(client, [&](io::Runtime& runtime) {
    Client caller(runtime, test_group, cluster.addresses(),
                  ClientOptions{.read_attempt_timeout = attempt_timeout,
                                .read_attempt_timeout_limit = attempt_timeout,
                                .attempt_timeout = attempt_timeout});
    answer = caller.call_once(io::Address{member, port}, request);
  });
  if (!finished || !answer) return Error(ErrorCode::timeout, "the client did not finish");
  return std::move(*answer);
}

// As ask_once, through the group (Client::call follows the leader and retries).
Result<wire::ClientResponse> ask_group(Cluster& cluster, const std::string& client,
                                       const wire::ClientRequest& request, Duration limit) {
  std::optional<Result<wire::ClientResponse>> answer;
  const bool finished = cluster.run_client(client, [&](io::Runtime& runtime) {
    Client caller(runtime, test_group, cluster.addresses());
    answer = caller.call(request, runtime.now() + limit);
  });
  if (!finished || !answer) return Error(ErrorCode::timeout, "the client did not finish");
  return std::move(*answer);
}

// Commits big_value under key "big", lets every member catch up, and returns the leader's name.
std::string commit_big_value(Cluster& cluster) {
  cluster.world.run_for(Duration::seconds(2));
  auto response = ask_group(cluster, "writer", put("big", big_value), Duration::seconds(10));
  QUIRE_ASSERT(response.ok() && response->outcome() == wire::OK);
  cluster.world.run_for(Duration::seconds(2));
  const std::string leader = leader_name(cluster);
  QUIRE_ASSERT(!leader.empty());
  return leader;
}

// The answer read "big" and found big_value.
void expect_big_value(const Result<wire::ClientResponse>& read) {
  ASSERT_TRUE(read.ok()) << read.error().to_string();
  ASSERT_EQ(read->outcome(), wire::OK) << read->message();
  ASSERT_EQ(read->results_size(), 1);
  EXPECT_EQ(read->results(0).value(), big_value);
}

// A follower reads a rotten value while cut off from every peer: read repair finds no good copy,
// so the member leaves the quorum (not ready) and, once it hears the leader again, rebuilds from
// it and serves the value.
TEST(Cluster, AFollowerWithNoGoodCopyLeavesTheQuorumAndRebuilds) {
  Cluster cluster(3, 3, without_scrubber);
  const std::string leader = commit_big_value(cluster);
  const std::string follower = leader == "n1" ? "n2" : "n1";
  ASSERT_TRUE(rot_value(cluster, follower, "MARKER-"));
  // The client must reach the follower; its peers must not.
  for (const std::string other : {"n1", "n2", "n3"}) {
    if (other == follower) continue;
    cluster.world.block_link(cluster.world.find_node(follower), cluster.world.find_node(other));
    cluster.world.block_link(cluster.world.find_node(other), cluster.world.find_node(follower));
  }
  // Read repair waits for each peer in turn before it gives up.
  auto refused = ask_once(cluster, "c2", follower, read_local("big"), Duration::seconds(60));
  ASSERT_TRUE(refused.ok()) << refused.error().to_string();
  EXPECT_NE(refused->outcome(), wire::OK);  // Never the rotten bytes as data.
  cluster.world.run_for(Duration::milliseconds(100));
  EXPECT_TRUE(status_of(cluster, follower).damaged);

  cluster.world.heal_network();
  cluster.world.run_for(Duration::seconds(10));
  const core::ReplicaStatus status = status_of(cluster, follower);
  EXPECT_FALSE(status.damaged);
  EXPECT_FALSE(status.rebuilding);
  EXPECT_EQ(status.committed, status_of(cluster, leader).committed);
  EXPECT_EQ(cluster.nodes.at(follower)->clients()->read_repairs(), 0u);
  expect_big_value(ask_once(cluster, "c3", follower, read_local("big")));
}

// The leader reads a value that is rotten on it and on one follower while the other follower is
// down: it steps down instead of serving a group it cannot read, the others lead, and once a good
// copy is back in the group the old leader rebuilds and serves the value.
TEST(Cluster, ALeaderWithNoGoodCopyStepsDownAndRebuilds) {
  Cluster cluster(4, 3, without_scrubber);
  const std::string leader = commit_big_value(cluster);
  std::vector<std::string> followers;
  for (const std::string name : {"n1", "n2", "n3"}) {
    if (name != leader) followers.push_back(name);
  }
  cluster.world.crash(cluster.world.find_node(followers[1]));
  ASSERT_TRUE(rot_value(cluster, leader, "MARKER-"));
  ASSERT_TRUE(rot_value(cluster, followers[0], "MARKER-"));

  auto refused = ask_once(cluster, "c2", leader, read_linearizable("big"));
  ASSERT_TRUE(refused.ok()) << refused.error().to_string();
  EXPECT_NE(refused->outcome(), wire::OK);
  cluster.world.run_for(Duration::milliseconds(100));
  EXPECT_NE(status_of(cluster, leader).role, core::Role::leader);
  EXPECT_TRUE(status_of(cluster, leader).damaged);

  // The good copy comes back; a read through the group repairs the new leader's copy from it.
  cluster.world.restart(cluster.world.find_node(followers[1]));
  cluster.world.run_for(Duration::seconds(3));
  const std::string next = leader_name(cluster);
  EXPECT_FALSE(next.empty());
  EXPECT_NE(next, leader);
  expect_big_value(ask_group(cluster, "c3", read_linearizable("big"), Duration::seconds(20)));

  cluster.world.run_for(Duration::seconds(10));
  const core::ReplicaStatus status = status_of(cluster, leader);
  EXPECT_FALSE(status.damaged);
  EXPECT_NE(status.role, core::Role::leader);
  EXPECT_EQ(status.committed, status_of(cluster, leader_name(cluster)).committed);
  expect_big_value(ask_once(cluster, "c4", leader, read_local("big")));
}

// A client putting to ten keys until `stop`, then setting `stopped`.
struct Writer {
  bool stop = false;
  bool stopped = false;
};

void start_writer(Cluster& cluster, Writer& writer, Duration think) {
  const size_t node =
      cluster.world.add_node("c1", [&cluster, &writer, think](io::Runtime& runtime) {
        Client client(runtime, GroupIdentity{"test-group", 0x5eed}, cluster.addresses());
        for (int index = 0; !writer.stop; index++) {
          (void)client.call(put(concat("k", index % 10), concat("v", index)),
                            runtime.now() + Duration::seconds(10));
          if (think > Duration()) runtime.sleep_for(think);
        }
        writer.stopped = true;
      });
  cluster.world.start(node);
}

// Runs until a follower past commit point 3 is in the state `wanted` describes; returns its name
// and its committed root, or nothing after 30 s.
std::optional<std::pair<std::string, store::RootBlock>> follower_when(
    Cluster& cluster, const std::function<bool(const Node&)>& wanted) {
  std::optional<std::pair<std::string, store::RootBlock>> found;
  cluster.world.run_until(
      [&] {
        const std::string leader = leader_name(cluster);
        for (const auto& [name, node] : cluster.nodes) {
          if (name == leader || node->driver() == nullptr || node->journal() == nullptr) continue;
          const core::ReplicaState& state = node->driver()->replica().state();
          if (state.committed.commit_counter < CommitCounter(3) || !wanted(*node)) continue;
          found.emplace(name, state.committed);
          return true;
        }
        return false;
      },
      cluster.world.now() + Duration::seconds(30));
  return found;
}

// Restarts `name`'s node after `crash`, and returns its state once its driver runs.
const core::ReplicaState* restarted(Cluster& cluster, const std::string& name) {
  const bool running = cluster.world.run_until(
      [&] {
        const auto found = cluster.nodes.find(name);
        return found != cluster.nodes.end() && found->second->driver() != nullptr;
      },
      cluster.world.now() + Duration::seconds(5));
  return running ? &cluster.nodes.at(name)->driver()->replica().state() : nullptr;
}

// Stops the writer, and expects `name` at the leader's commit point.
void expect_caught_up(Cluster& cluster, Writer& writer, const std::string& name) {
  writer.stop = true;
  ASSERT_TRUE(cluster.world.run_until([&] { return writer.stopped; },
                                      cluster.world.now() + Duration::seconds(30)));
  cluster.world.run_for(Duration::seconds(2));
  const core::ReplicaStatus status = status_of(cluster, name);
  EXPECT_FALSE(status.damaged);
  EXPECT_EQ(status.committed, status_of(cluster, leader_name(cluster)).committed);
}

// A follower that voted YES for write set N+1 while holding N committed crashes, and the slot of
// root N rots: its journal's root slots alone open at N-1. Its prepared record for N+1 names root
// N as committed, so open rolls forward to N when N's write set reads back, and the member goes
// on voting. If the write set's bytes rotted too, N held again from its blocks would look merely
// prepared, and the vote for N+1 (which may have helped commit it) would be forgotten: the member
// must then treat this as a lost history, no votes until it has rebuilt from a peer.
void lose_the_newest_root(bool and_its_write_set) {
  Cluster cluster(7, 3, without_scrubber);
  cluster.world.run_for(Duration::seconds(2));
  Writer writer;
  start_writer(cluster, writer, Duration());
  const auto voted = follower_when(cluster, [](const Node& node) {
    const core::ReplicaState& state = node.driver()->replica().state();
    return state.held && state.held->prepared && state.committed.write_set_block_count > 0;
  });
  ASSERT_TRUE(voted.has_value());
  const auto& [follower, committed] = *voted;
  const size_t node = cluster.world.find_node(follower);
  cluster.world.crash(node);
  sim::DiskImage& image = cluster.world.disk_image(node);
  ASSERT_TRUE(image.rot_at(journal_path,
                           store::JournalFile::slot_offset(committed.commit_counter) + 17, 2));
  if (and_its_write_set) {
    ASSERT_TRUE(image.rot_at(journal_path, committed.write_set_begin_offset + 70, 2));
  }
  cluster.world.restart(node);
  const core::ReplicaState* reopened = restarted(cluster, follower);
  ASSERT_NE(reopened, nullptr);
  if (and_its_write_set) {
    EXPECT_LT(reopened->committed.commit_counter, committed.commit_counter);
    EXPECT_TRUE(reopened->history_lost);
  } else {
    EXPECT_GE(reopened->committed.commit_counter, committed.commit_counter);
    EXPECT_FALSE(reopened->history_lost);
  }
  cluster.world.run_for(Duration::seconds(10));
  expect_caught_up(cluster, writer, follower);
  EXPECT_EQ(image.files().count(std::string(store::format::journal_lost_marker_file_name)), 0u);
}

// One sync per commit point: a member's root slot is written unsynced and rides on its next
// prepare's sync. A follower crashes in that window and loses every unsynced write: it reopens
// one commit point back, with the write set it had committed held again and its prepared record,
// so it is prepared at the same position it voted with; the leader's word commits it again, and
// it converges with the group.
TEST(Cluster, AFollowerThatLostAnUnsyncedRootIsPreparedThereAgainAndCatchesUp) {
  Cluster cluster(11, 3, without_scrubber);
  cluster.world.run_for(Duration::seconds(2));
  Writer writer;
  start_writer(cluster, writer, Duration::milliseconds(3));
  const auto in_window = follower_when(cluster, [](const Node& node) {
    return !node.driver()->replica().state().held && node.journal()->root_unsynced();
  });
  ASSERT_TRUE(in_window.has_value());
  const auto& [follower, lost] = *in_window;
  const size_t node = cluster.world.find_node(follower);
  cluster.world.lose_power(node);
  cluster.world.start(node);
  const core::ReplicaState* reopened = restarted(cluster, follower);
  ASSERT_NE(reopened, nullptr);
  // Every unsynced write is gone, the root slot and the HALog's closing root with it.
  ASSERT_EQ(reopened->committed.commit_counter.next(), lost.commit_counter);
  ASSERT_TRUE(reopened->prepared.has_value());
  EXPECT_TRUE(reopened->prepared->same_write_set(lost));
  EXPECT_FALSE(reopened->history_lost);
  cluster.world.run_for(Duration::seconds(3));
  expect_caught_up(cluster, writer, follower);
}

TEST(Cluster, AMemberThatLostItsNewestRootRollsForwardFromItsPreparedRecord) {
  lose_the_newest_root(false);
}

TEST(Cluster, AMemberThatLostItsNewestRootAndItsBytesDoesNotVoteUntilRebuilt) {
  lose_the_newest_root(true);
}

}  // namespace
}  // namespace quire::engine
