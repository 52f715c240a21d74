// Goal: the journal under the simulator's fibers, where every disk call suspends: readers of
// committed state and of historical views run while a writer seals and commits, and the process
// crashes at random moments; what was committed before a crash is there after the restart, and
// every read at any commit point matches what that commit point held.
// Method: one simulated node with disk latency; a writer fiber and reader fibers; the expected
// state of every commit point kept outside the node (it survives the crashes); World::restart at
// random virtual times.
#include <gtest/gtest.h>

#include <map>

#include "sim/world.h"
#include "tests/store/store_test_support.h"

namespace quire::store {
namespace {

using testing::key_of;
using testing::small_options;
using testing::value_of;

using State = std::map<std::string, std::string>;

struct Shared {
  std::vector<State> states{State{}};  // By commit counter; survives crashes.
  uint64_t acknowledged = 0;           // Highest commit counter whose commit returned ok.
  uint64_t reads = 0;
  uint64_t failures = 0;
};

void check_view(Journal& journal, Shared& shared, uint64_t counter) {
  auto view = journal.view(CommitCounter(counter));
  if (!view.ok()) {
    ADD_FAILURE() << view.error().to_string();
    shared.failures++;
    return;
  }
  auto entries = view->scan({}, {}, SIZE_MAX);
  if (!entries.ok()) {
    ADD_FAILURE() << entries.error().to_string();
    shared.failures++;
    return;
  }
  const State& expected = shared.states.at(counter);
  EXPECT_EQ(entries->size(), expected.size()) << "at commit point " << counter;
  auto want = expected.begin();
  for (const Entry& entry : *entries) {
    if (want == expected.end()) break;
    EXPECT_EQ(as_text(entry.key), want->first);
    EXPECT_EQ(as_text(entry.value.bytes), want->second);
    ++want;
  }
  shared.reads++;
}

void node_main(io::Runtime& runtime, Shared& shared) {
  auto opened = Journal::open(runtime.disk(), small_options());
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  std::shared_ptr<Journal> journal = std::move(opened).value();
  // A commit's root is not synced: a crash may take the journal back one commit point with that
  // write set held and its prepared record, which the engine commits again (here at once, as a
  // group would on the leader's word).
  const std::optional<RootBlock>& vote = journal->recovered_prepared();
  if (journal->uncommitted_counter().has_value() && vote.has_value() &&
      vote->commit_counter == *journal->uncommitted_counter() && journal->prepare(*vote).ok()) {
    ASSERT_TRUE(journal->commit(*vote).ok());
  }
  // Nothing acknowledged is lost; a commit in flight at the crash may have landed.
  const uint64_t recovered = journal->commit_counter().value();
  ASSERT_GE(recovered, shared.acknowledged);
  ASSERT_LE(recovered, shared.acknowledged + 1);
  ASSERT_LT(recovered, shared.states.size());
  shared.states.resize(recovered + 1);
  shared.acknowledged = recovered;
  if (journal->uncommitted_counter().has_value()) {
    ASSERT_TRUE(journal->rollback().ok());
  }
  check_view(*journal, shared, recovered);

  for (int reader = 0; reader < 2; reader++) {
    runtime.spawn("reader", [&runtime, &shared, journal] {
      for (;;) {
        const uint64_t counter = runtime.rng().uniform(journal->commit_counter().value() + 1);
        check_view(*journal, shared, counter);
        runtime.sleep_for(Duration::microseconds(300));
      }
    });
  }
  for (;;) {
    State next = shared.states.back();
    const uint64_t counter = journal->commit_counter().value() + 1;
    const int puts = static_cast<int>(runtime.rng().between(1, 40));
    for (int index = 0; index < puts; index++) {
      const uint64_t key = runtime.rng().uniform(150);
      if (runtime.rng().one_in(5)) {
        ASSERT_TRUE(journal->remove(as_bytes(key_of(key))).ok());
        next.erase(key_of(key));
      } else {
        const std::string value = value_of(key * 1000 + counter, runtime.rng().uniform(150));
        ASSERT_TRUE(journal->put(as_bytes(key_of(key)), as_bytes(value)).ok());
        next[key_of(key)] = value;
      }
    }
    // The state of a commit point is known before it may land: a crash during commit can make
    // it durable without the writer seeing the acknowledgement.
    shared.states.resize(counter);
    shared.states.push_back(next);
    auto sealed = journal->seal(Term(1), runtime.wall_clock_ns());
    ASSERT_TRUE(sealed.ok()) << sealed.error().to_string();
    ASSERT_TRUE(journal->prepare(sealed->root).ok());
    ASSERT_TRUE(journal->commit(sealed->root).ok());
    shared.acknowledged = counter;
  }
}

TEST(JournalUnderFibers, ReadersWritersAndCrashes) {
  for (uint64_t seed = 1; seed <= 4; seed++) {
    sim::World world(sim::WorldOptions{.seed = seed});
    Shared shared;
    const size_t node =
        world.add_node("n1", [&shared](io::Runtime& runtime) { node_main(runtime, shared); });
    world.start(node);
    Rng rng(seed);
    for (int crash = 0; crash < 8; crash++) {
      world.run_for(Duration::microseconds(static_cast<int64_t>(rng.between(2'000, 60'000))));
      world.restart(node);
    }
    world.run_for(Duration::milliseconds(30));
    EXPECT_GT(shared.acknowledged, 5u) << "seed " << seed;
    EXPECT_GT(shared.reads, 20u) << "seed " << seed;
    EXPECT_EQ(shared.failures, 0u);
  }
}

}  // namespace
}  // namespace quire::store
