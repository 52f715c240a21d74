// Goal: commit safety reports what breaks a replicated commit (two write sets at one counter, a
// member's commit point going back) and nothing that a disk fault makes legitimately: the same
// commit point announced again after a rotten newest root slot, or a member starting over after
// it reported a lost history.
// Method: hand-built observations for one or two members, checked directly.
#include "harness/commit_safety.h"

#include <gtest/gtest.h>

namespace quire::harness {
namespace {

CommitObservation commit(int64_t ms, uint64_t counter, uint64_t hash) {
  CommitObservation observation;
  observation.time = Instant::from_ns(ms * 1'000'000);
  observation.root.commit_counter = CommitCounter(counter);
  observation.root.write_set_hash = hash;
  return observation;
}

CommitObservation history_lost(int64_t ms) {
  CommitObservation observation;
  observation.time = Instant::from_ns(ms * 1'000'000);
  observation.history_lost = true;
  return observation;
}

TEST(CommitSafety, TheSameCommitPointAnnouncedAgainIsNotAFinding) {
  Observations observations;
  observations.commits[NodeId(2)] = {commit(1, 69, 0x69), commit(2, 70, 0x70), commit(9, 70, 0x70),
                                     commit(10, 71, 0x71)};
  EXPECT_TRUE(check_commit_safety(observations).empty());
}

TEST(CommitSafety, ACommitPointGoingBackIsAFinding) {
  Observations observations;
  observations.commits[NodeId(2)] = {commit(1, 69, 0x69), commit(2, 70, 0x70), commit(9, 69, 0x69)};
  const Findings findings = check_commit_safety(observations);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].checker, "commit_safety");
  EXPECT_NE(findings[0].message.find("went from commit point 70 to 69"), std::string::npos)
      << findings[0].message;
}

TEST(CommitSafety, AnotherWriteSetAtTheSameCounterIsAFinding) {
  Observations observations;
  observations.commits[NodeId(1)] = {commit(1, 70, 0x70)};
  observations.commits[NodeId(2)] = {commit(2, 70, 0x70), commit(9, 70, 0xbad)};
  const Findings findings = check_commit_safety(observations);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_NE(findings[0].message.find("two write sets committed at counter 70"), std::string::npos)
      << findings[0].message;
}

TEST(CommitSafety, AMemberThatLostItsHistoryStartsOver) {
  Observations observations;
  observations.commits[NodeId(3)] = {commit(1, 77, 0x77), history_lost(5), commit(9, 77, 0x77),
                                     commit(10, 78, 0x78)};
  EXPECT_TRUE(check_commit_safety(observations).empty());
  observations.commits[NodeId(3)].erase(observations.commits[NodeId(3)].begin() + 1);
  observations.commits[NodeId(3)].insert(observations.commits[NodeId(3)].begin() + 1,
                                         commit(5, 12, 0x12));
  EXPECT_EQ(check_commit_safety(observations).size(), 1u);  // 77 back to 12 without the report.
}

}  // namespace
}  // namespace quire::harness
