// Goal: the pure core elects, commits, heals and stays safe in the stories the design names,
// with no scheduler: leader crash mid-pipeline and mid-prepare, minority leader, pre-vote,
// follower restart and resync, purged HALogs and rebuild, damaged members leaving the quorum to
// rebuild, reads.
// Method: ModelCluster actions in a fixed order; safety is checked after every action.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/engine/core/model_cluster.h"
#include "tests/printers.h"

namespace quire::engine::core::model {
namespace {

// Runs until a leader exists and has committed its first write set.
size_t elect(ModelCluster& cluster) {
  cluster.settle(200, false);
  const std::optional<size_t> leader = cluster.leader();
  QUIRE_ASSERT(leader.has_value());
  return *leader;
}

CommitCounter committed(ModelCluster& cluster, size_t member) {
  return cluster.member(member).disk.committed.commit_counter;
}

// Delivers everything to the followers and lets them prepare and vote, but the leader hears
// nothing.
void prepare_on_followers_only(ModelCluster& cluster, size_t leader) {
  for (int round = 0; round < 20; round++) {
    for (size_t member = 0; member < cluster.size(); member++) {
      if (member != leader) cluster.complete(member);
    }
    for (size_t index = 0; index < cluster.network().size();) {
      if (cluster.network()[index].to != cluster.member(leader).id) {
        cluster.deliver(index);
      } else {
        index++;
      }
    }
  }
}

void expect_converged(ModelCluster& cluster) {
  const CommitCounter first = committed(cluster, 0);
  for (size_t member = 1; member < cluster.size(); member++) {
    EXPECT_EQ(committed(cluster, member), first) << cluster.describe();
  }
}

TEST(Replica, SingleMemberElectsItselfAndCommits) {
  ModelCluster cluster(1, 1);
  const size_t leader = elect(cluster);
  cluster.submit(leader);
  cluster.settle(20, false);
  EXPECT_EQ(committed(cluster, 0), CommitCounter(1));
  EXPECT_EQ(cluster.stats().acknowledged, 1u);
}

TEST(Replica, ThreeMembersElectOneLeaderAndCommitEverywhere) {
  ModelCluster cluster(3, 2);
  const size_t leader = elect(cluster);
  for (int write_set = 0; write_set < 5; write_set++) {
    cluster.submit(leader);
    cluster.settle(20, false);
  }
  EXPECT_EQ(committed(cluster, leader), CommitCounter(5));
  expect_converged(cluster);
  EXPECT_EQ(cluster.stats().acknowledged, 5u);
}

TEST(Replica, LeaderCrashMidPipelineLosesNoAcknowledgedWrite) {
  ModelCluster cluster(3, 3);
  size_t leader = elect(cluster);
  cluster.submit(leader);
  cluster.settle(20, false);
  // Seal the next write set, let some blocks out, and crash before PREPARE completes anywhere.
  cluster.submit(leader);
  cluster.complete(leader);  // WriteSetSealed: blocks and Prepare enter the network.
  if (!cluster.network().empty()) cluster.deliver(0);
  cluster.crash(leader);
  cluster.settle(300, true);
  cluster.restart(leader);
  cluster.settle(300, true);
  expect_converged(cluster);
  EXPECT_GE(committed(cluster, 0), CommitCounter(1));
}

TEST(Replica, LeaderCrashAfterMajorityPrepareRecommitsTheWriteSet) {
  ModelCluster cluster(3, 4);
  const size_t leader = elect(cluster);
  cluster.submit(leader);
  cluster.complete(leader);  // Sealed; blocks and Prepare sent.
  prepare_on_followers_only(cluster, leader);
  const uint64_t acknowledged_before = cluster.stats().acknowledged;
  cluster.crash(leader);
  cluster.settle(400, false);
  // The followers held it prepared: the new leader re-proposed it under its own term.
  EXPECT_GE(cluster.stats().reproposals, 1u);
  std::optional<size_t> new_leader = cluster.leader();
  ASSERT_TRUE(new_leader.has_value());
  EXPECT_EQ(committed(cluster, *new_leader), CommitCounter(1));
  EXPECT_EQ(acknowledged_before, 0u);
  cluster.restart(leader);
  cluster.settle(300, false);
  expect_converged(cluster);
}

TEST(Replica, MinorityLeaderStepsDownAndCommitsNothing) {
  ModelCluster cluster(3, 5);
  const size_t leader = elect(cluster);
  const CommitCounter before = committed(cluster, leader);
  cluster.set_cut(leader, true);
  for (int round = 0; round < 200; round++) {
    cluster.submit(leader);
    cluster.settle(1, false);
  }
  EXPECT_EQ(committed(cluster, leader), before);
  ASSERT_TRUE(cluster.member(leader).replica);
  EXPECT_FALSE(cluster.member(leader).replica->state().is_leader()) << cluster.describe();
  // The majority elected another leader and goes on.
  const std::optional<size_t> other = cluster.leader();
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(*other, leader);
  cluster.set_cut(leader, false);
  cluster.settle(300, true);
  expect_converged(cluster);
}

TEST(Replica, PreVoteKeepsAReturningMemberFromDeposingTheLeader) {
  ModelCluster cluster(3, 6);
  const size_t leader = elect(cluster);
  const Term term = cluster.member(leader).replica->state().term;
  const size_t loner = (leader + 1) % 3;
  cluster.set_cut(loner, true);
  for (int round = 0; round < 300; round++)
    cluster.settle(1, false);
  // Cut off, it campaigned only in pre-votes: its term did not rise.
  EXPECT_EQ(cluster.member(loner).replica->state().term, term);
  cluster.set_cut(loner, false);
  cluster.settle(100, false);
  EXPECT_EQ(cluster.leader(), leader);
  EXPECT_EQ(cluster.member(leader).replica->state().term, term);
}

TEST(Replica, FollowerRestartResyncsWhatItMissed) {
  ModelCluster cluster(3, 7);
  const size_t leader = elect(cluster);
  const size_t follower = (leader + 1) % 3;
  cluster.crash(follower);
  for (int write_set = 0; write_set < 10; write_set++) {
    cluster.submit(leader);
    cluster.settle(10, false);
  }
  // Group commit may merge submissions that arrive while a write set is in flight.
  const CommitCounter reached = committed(cluster, leader);
  EXPECT_GE(reached, CommitCounter(5));
  cluster.restart(follower);
  cluster.settle(200, false);
  EXPECT_GE(cluster.stats().resync_fetches, reached.value());
  expect_converged(cluster);
}

TEST(Replica, ALiveLaggingMemberKeepsItsHALogsUnderTheCap) {
  // Goal: the retention cap is for members that stay dead; one that answers keeps every HALog it
  // lacks however far behind it is, and catches up by resync, not rebuild.
  ReplicaConfig config;
  config.halog_retention_count_max = 3;
  ModelCluster cluster(3, 9, config);
  const size_t leader = elect(cluster);
  const size_t follower = (leader + 1) % 3;
  cluster.set_cut(follower, true);
  for (int write_set = 0; write_set < 10; write_set++) {
    cluster.submit(leader);
    cluster.settle(3, false);
  }
  cluster.set_cut(follower, false);
  cluster.settle(200, false);
  EXPECT_EQ(cluster.stats().rebuilds, 0u);
  expect_converged(cluster);
}

TEST(Replica, PurgedHALogsMakeAReturningMemberRebuild) {
  ReplicaConfig config;
  config.halog_retention_count_max = 3;
  ModelCluster cluster(3, 8, config);
  const size_t leader = elect(cluster);
  const size_t follower = (leader + 1) % 3;
  cluster.crash(follower);
  // Long enough to count as silent (4 election timeouts): only then may the cap drop HALogs.
  for (int write_set = 0; write_set < 30; write_set++) {
    cluster.submit(leader);
    cluster.settle(15, false);
  }
  cluster.restart(follower);
  cluster.settle(300, false);
  EXPECT_GE(cluster.stats().rebuilds, 1u);
  expect_converged(cluster);
}

// Read repair found no good copy anywhere: a follower leaves the quorum and rebuilds from the
// leader.
TEST(Replica, ADamagedFollowerRebuildsFromTheLeader) {
  ModelCluster cluster(3, 21);
  const size_t leader = elect(cluster);
  for (int write_set = 0; write_set < 3; write_set++) {
    cluster.submit(leader);
    cluster.settle(20, false);
  }
  const size_t follower = (leader + 1) % 3;
  ASSERT_EQ(cluster.stats().rebuilds, 0u);
  cluster.report_damage(follower);
  // It asked the leader for its committed prefix at once.
  EXPECT_TRUE(cluster.member(follower).replica->state().resync.rebuilding) << cluster.describe();
  cluster.settle(100, true);
  EXPECT_EQ(cluster.stats().rebuilds, 1u);
  EXPECT_FALSE(cluster.member(follower).replica->state().damaged) << cluster.describe();
  EXPECT_EQ(cluster.leader(), leader);  // Nobody else was disturbed.
  expect_converged(cluster);
}

// A leader that cannot read its committed state steps down, does not campaign, and rebuilds from
// the leader the others elect.
TEST(Replica, ADamagedLeaderStepsDownAndRebuildsUnderTheNextLeader) {
  ModelCluster cluster(3, 22);
  const size_t leader = elect(cluster);
  cluster.submit(leader);
  cluster.settle(20, false);
  cluster.report_damage(leader);
  const ReplicaState& state = cluster.member(leader).replica->state();
  EXPECT_FALSE(state.is_leader());
  EXPECT_TRUE(state.damaged);
  cluster.settle(400, true);
  const std::optional<size_t> next = cluster.leader();
  ASSERT_TRUE(next.has_value()) << cluster.describe();
  EXPECT_NE(*next, leader);
  EXPECT_GE(cluster.stats().rebuilds, 1u);
  EXPECT_FALSE(cluster.member(leader).replica->state().damaged) << cluster.describe();
  cluster.settle(100, false);
  expect_converged(cluster);
}

// A group of one has nobody to rebuild from: it goes on leading.
TEST(Replica, ADamagedMemberOfAGroupOfOneKeepsLeading) {
  ModelCluster cluster(1, 23);
  const size_t leader = elect(cluster);
  cluster.report_damage(leader);
  EXPECT_TRUE(cluster.member(leader).replica->state().is_leader());
  EXPECT_FALSE(cluster.member(leader).replica->state().damaged);
  cluster.submit(leader);
  cluster.settle(20, false);
  EXPECT_EQ(committed(cluster, leader), CommitCounter(1));
}

// A damaged follower whose YES vote may be what decides a write set keeps it until the leader's
// commit point passes it: the rebuild would roll the vote back.
TEST(Replica, ADamagedFollowerKeepsAnUndecidedYesVote) {
  ModelCluster cluster(3, 24);
  const size_t leader = elect(cluster);
  cluster.submit(leader);
  cluster.complete(leader);  // Sealed; blocks and Prepare sent.
  prepare_on_followers_only(cluster, leader);
  const size_t follower = (leader + 1) % 3;
  ASSERT_TRUE(cluster.member(follower).replica->state().prepared.has_value()) << cluster.describe();
  cluster.report_damage(follower);
  const ReplicaState& state = cluster.member(follower).replica->state();
  EXPECT_TRUE(state.damaged);
  EXPECT_TRUE(state.prepared.has_value());
  EXPECT_FALSE(state.resync.rebuilding);
  // The leader dies before it hears the votes: the write set must still commit.
  cluster.crash(leader);
  cluster.settle(400, false);
  const std::optional<size_t> next = cluster.leader();
  ASSERT_TRUE(next.has_value()) << cluster.describe();
  EXPECT_EQ(committed(cluster, *next), CommitCounter(1)) << cluster.describe();
  cluster.restart(leader);
  cluster.settle(300, false);
  EXPECT_FALSE(cluster.member(follower).replica->state().damaged) << cluster.describe();
  expect_converged(cluster);
}

// What a member with recovered state `recovered` answers a vote request of the next term from a
// candidate with nothing committed.
std::optional<bool> vote_granted(const RecoveredState& recovered) {
  ReplicaConfig config;
  config.self = NodeId(1);
  config.members = {NodeId(1), NodeId(2), NodeId(3)};
  Replica replica(config, recovered);
  const Envelope request{NodeId(2), NodeId(1), recovered.term.next(),
                         VoteRequest{Position{Term(0), CommitCounter(0)}}};
  const Step step = replica.step(Received{request});
  for (const Effect& effect : step.effects) {
    const auto* send = std::get_if<Send>(&effect);
    if (send == nullptr) continue;
    if (const auto* response = std::get_if<VoteResponse>(&send->envelope.message)) {
      return response->granted;
    }
  }
  return std::nullopt;
}

// A member that set its journal aside holds no history: were it to vote, a candidate that lacks a
// write set its lost YES helped commit could win. It refuses until it has rebuilt.
TEST(Replica, AMemberThatLostItsJournalDoesNotVote) {
  RecoveredState recovered;
  recovered.term = Term(4);
  EXPECT_EQ(vote_granted(recovered), std::optional<bool>(true));
  recovered.journal_lost = true;
  EXPECT_EQ(vote_granted(recovered), std::optional<bool>(false));
}

TEST(Replica, AMemberThatLostItsJournalRebuildsAndVotesAgain) {
  ModelCluster cluster(3, 25);
  const size_t leader = elect(cluster);
  for (int write_set = 0; write_set < 3; write_set++) {
    cluster.submit(leader);
    cluster.settle(20, false);
  }
  const size_t follower = (leader + 1) % 3;
  cluster.crash(follower);
  cluster.restart_with_journal_lost(follower);
  EXPECT_TRUE(cluster.member(follower).replica->state().history_lost);
  cluster.settle(100, true);
  EXPECT_GE(cluster.stats().rebuilds, 1u);
  EXPECT_FALSE(cluster.member(follower).replica->state().history_lost) << cluster.describe();
  expect_converged(cluster);
  // It counts again: with the old leader gone, it and the third member elect a new one.
  cluster.crash(leader);
  cluster.settle(400, true);
  const std::optional<size_t> next = cluster.leader();
  ASSERT_TRUE(next.has_value()) << cluster.describe();
  EXPECT_NE(*next, leader);
}

// The story the rule is for: write set 1 committed with the votes of the leader and A only; the
// leader dies and A comes back without its journal. B, which lacks write set 1, must not win with
// A's vote (it would commit another write set at counter 1). The group waits for the old leader.
TEST(Replica, AMemberThatLostItsJournalCannotElectOneThatLacksACommit) {
  ModelCluster cluster(3, 26);
  const size_t leader = elect(cluster);
  const size_t a = (leader + 1) % 3;
  const size_t b = (leader + 2) % 3;
  cluster.set_cut(b, true);
  cluster.submit(leader);
  cluster.settle(200, false);  // The pipeline re-forms without B after the prepare timeout.
  ASSERT_EQ(committed(cluster, leader), CommitCounter(1)) << cluster.describe();
  ASSERT_EQ(committed(cluster, b), CommitCounter(0));
  cluster.crash(leader);
  cluster.crash(a);
  cluster.restart_with_journal_lost(a);
  cluster.set_cut(b, false);
  cluster.settle(300, true);  // A leader here would be given work and commit at counter 1.
  EXPECT_FALSE(cluster.leader().has_value()) << cluster.describe();
  cluster.restart(leader);
  cluster.settle(400, true);
  ASSERT_TRUE(cluster.leader().has_value()) << cluster.describe();
  cluster.settle(100, false);
  expect_converged(cluster);
  EXPECT_FALSE(cluster.member(a).replica->state().history_lost);
}

// The leader commits with the first YES of three; the other follower's YES arrives after the
// decision. That follower holds the write set and was sent the Commit: the leader counts it as
// joined at once, not a heartbeat later (before, `quire status` showed it missing).
TEST(Replica, ALateYesCountsTheVoterAsJoinedAtOnce) {
  ModelCluster cluster(3, 6);
  const size_t leader = elect(cluster);
  cluster.settle(50, false);
  const NodeId late = cluster.member((leader + 1) % 3).id;
  const NodeId leader_id = cluster.member(leader).id;
  const CommitCounter before = committed(cluster, leader);
  cluster.submit(leader);
  // Everything flows but the late follower's messages to the leader, until its YES is waiting.
  auto late_yes = [&]() -> std::optional<size_t> {
    for (size_t index = 0; index < cluster.network().size(); index++) {
      const Envelope& envelope = cluster.network()[index];
      const auto* response = std::get_if<PrepareResponse>(&envelope.message);
      if (envelope.from == late && envelope.to == leader_id && response != nullptr &&
          response->yes) {
        return index;
      }
    }
    return std::nullopt;
  };
  for (int round = 0; round < 40 && !late_yes(); round++) {
    for (size_t member = 0; member < cluster.size(); member++)
      cluster.complete(member);
    for (size_t index = 0; index < cluster.network().size();) {
      const Envelope& envelope = cluster.network()[index];
      if (envelope.from == late && envelope.to == leader_id) {
        index++;
      } else {
        cluster.deliver(index);
      }
    }
  }
  const std::optional<size_t> yes = late_yes();
  ASSERT_TRUE(yes.has_value());
  ASSERT_EQ(committed(cluster, leader), before.next());  // Decided with the other YES.
  const std::vector<NodeId> joined_before = cluster.member(leader).replica->status().joined;
  EXPECT_EQ(std::count(joined_before.begin(), joined_before.end(), late), 0);
  cluster.deliver(*yes);  // Only the YES, no heartbeat answer.
  const std::vector<NodeId> joined = cluster.member(leader).replica->status().joined;
  EXPECT_EQ(std::count(joined.begin(), joined.end(), late), 1);
}

}  // namespace
}  // namespace quire::engine::core::model
