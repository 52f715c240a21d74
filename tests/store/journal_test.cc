// Goal: the Journal's contract as the engine uses it: commit, reopen, views, the pending layer,
// rollback, crashes at each step of a commit, and recovery's rules for HALogs.
// Method: one or two SimDisks without a runtime (operations complete at once); crashes through
// DiskImage::crash; std::map as the expected state.
#include <gtest/gtest.h>

#include <map>

#include "store/file_names.h"
#include "tests/store/store_test_support.h"

namespace quire::store {
namespace {

using testing::commit_pending;
using testing::key_of;
using testing::SimNodeDisk;
using testing::small_options;
using testing::value_of;

std::string text(const Value& value) {
  return std::string(as_text(value.bytes));
}

TEST(Journal, OpenCreatesCommitPointZero) {
  SimNodeDisk node(1);
  auto journal = node.open();
  ASSERT_OK(journal);
  EXPECT_EQ((*journal)->commit_counter(), CommitCounter(0));
  EXPECT_EQ((*journal)->root(), initial_root_block());
  auto missing = (*journal)->get(as_bytes("nothing"));
  ASSERT_OK(missing);
  EXPECT_FALSE(missing->has_value());
  EXPECT_TRUE(node.image().files().contains("journal"));
  EXPECT_FALSE(node.image().files().contains("journal.install"));
}

TEST(Journal, CommittedWritesSurviveReopen) {
  SimNodeDisk node(2);
  {
    auto journal = node.open();
    ASSERT_OK(journal);
    ASSERT_OK((*journal)->put(as_bytes("a"), as_bytes("1")));
    ASSERT_OK((*journal)->put(as_bytes("b"), as_bytes("2")));
    commit_pending(**journal);
    ASSERT_OK((*journal)->put(as_bytes("b"), as_bytes("3")));
    ASSERT_OK((*journal)->remove(as_bytes("a")));
    commit_pending(**journal);
    EXPECT_EQ((*journal)->commit_counter(), CommitCounter(2));
  }
  node.crash();
  auto journal = node.open();
  ASSERT_OK(journal);
  EXPECT_EQ((*journal)->commit_counter(), CommitCounter(2));
  auto a = (*journal)->get(as_bytes("a"));
  ASSERT_OK(a);
  EXPECT_FALSE(a->has_value());
  auto b = (*journal)->get(as_bytes("b"));
  ASSERT_OK(b);
  ASSERT_TRUE(b->has_value());
  EXPECT_EQ(text(**b), "3");
  EXPECT_EQ((*b)->version, CommitCounter(2));
  EXPECT_EQ((*journal)->root().key_count, 1u);
}

// Many keys in random order through small nodes: splits, merges, deep trees, scans.
TEST(Journal, ManyKeysMatchAMap) {
  SimNodeDisk node(3);
  auto opened = node.open();
  ASSERT_OK(opened);
  Journal& journal = **opened;
  std::map<std::string, std::pair<std::string, uint64_t>> expected;
  Rng rng(33);
  for (int round = 0; round < 30; round++) {
    const uint64_t counter = journal.commit_counter().value() + 1;
    const int operations = static_cast<int>(rng.between(1, 200));
    for (int index = 0; index < operations; index++) {
      const uint64_t key_index = rng.uniform(1500);
      const std::string key = key_of(key_index);
      if (rng.one_in(3)) {
        ASSERT_OK(journal.remove(as_bytes(key)));
        expected.erase(key);
      } else {
        const std::string value = value_of(key_index + counter, rng.between(0, 100));
        ASSERT_OK(journal.put(as_bytes(key), as_bytes(value)));
        expected[key] = {value, counter};
      }
    }
    commit_pending(journal);
    ASSERT_EQ(journal.root().key_count, expected.size());
  }
  auto all = journal.scan({}, {}, SIZE_MAX);
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), expected.size());
  auto entry = expected.begin();
  for (const Entry& got : *all) {
    EXPECT_EQ(as_text(got.key), entry->first);
    EXPECT_EQ(text(got.value), entry->second.first);
    EXPECT_EQ(got.value.version.value(), entry->second.second);
    ++entry;
  }
  // Bounded scans from random places.
  for (int probe = 0; probe < 50; probe++) {
    const std::string begin = key_of(rng.uniform(1600));
    const std::string end = key_of(rng.uniform(1600));
    const size_t limit = rng.between(1, 40);
    auto got = journal.scan(as_bytes(begin), as_bytes(end), limit);
    ASSERT_OK(got);
    std::vector<std::string> want;
    for (auto it = expected.lower_bound(begin);
         it != expected.end() && it->first < end && want.size() < limit; ++it) {
      want.push_back(it->first);
    }
    ASSERT_EQ(got->size(), want.size());
    for (size_t index = 0; index < want.size(); index++) {
      EXPECT_EQ(as_text((*got)[index].key), want[index]);
    }
  }
  // Delete everything: the tree ends empty.
  for (const auto& [key, value] : expected)
    ASSERT_OK(journal.remove(as_bytes(key)));
  commit_pending(journal);
  EXPECT_TRUE(journal.root().tree_root.is_null());
  EXPECT_EQ(journal.root().key_count, 0u);
}

TEST(Journal, LargeValuesGoOutOfLine) {
  SimNodeDisk node(4);
  auto opened = node.open();
  ASSERT_OK(opened);
  Journal& journal = **opened;
  const std::vector<size_t> sizes = {0, 1, 64, 65, 1000, 16000, 16384, 50000, 200000};
  for (size_t index = 0; index < sizes.size(); index++) {
    ASSERT_OK(journal.put(as_bytes(key_of(index)), as_bytes(value_of(index, sizes[index]))));
  }
  commit_pending(journal);
  for (size_t index = 0; index < sizes.size(); index++) {
    auto got = journal.get(as_bytes(key_of(index)));
    ASSERT_OK(got);
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ(text(**got), value_of(index, sizes[index])) << sizes[index];
  }
  EXPECT_EQ(journal.put(as_bytes("big"), Bytes(256 * 1024 + 1)).code(),
            ErrorCode::invalid_argument);
  EXPECT_EQ(journal.put(Bytes(65, 'k'), as_bytes("v")).code(), ErrorCode::invalid_argument);
}

TEST(Journal, ViewsShowEveryCommitPoint) {
  SimNodeDisk node(5);
  auto opened = node.open();
  ASSERT_OK(opened);
  Journal& journal = **opened;
  for (uint64_t counter = 1; counter <= 40; counter++) {
    ASSERT_OK(journal.put(as_bytes("counter"), as_bytes(std::to_string(counter))));
    ASSERT_OK(journal.put(as_bytes(key_of(counter)), as_bytes("x")));
    commit_pending(journal, Term(counter / 10 + 1), static_cast<int64_t>(counter) * 100);
  }
  for (uint64_t counter = 0; counter <= 40; counter++) {
    auto view = journal.view(CommitCounter(counter));
    ASSERT_OK(view);
    EXPECT_EQ(view->root().commit_counter, CommitCounter(counter));
    auto got = view->get(as_bytes("counter"));
    ASSERT_OK(got);
    if (counter == 0) {
      EXPECT_FALSE(got->has_value());
      continue;
    }
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ(text(**got), std::to_string(counter));
    EXPECT_EQ(view->root().commit_time_ns, static_cast<int64_t>(counter) * 100);
    auto keys = view->scan(as_bytes("key-"), as_bytes("key-z"), SIZE_MAX);
    ASSERT_OK(keys);
    EXPECT_EQ(keys->size(), counter);
  }
  EXPECT_EQ(journal.view(CommitCounter(41)).code(), ErrorCode::not_found);
}

TEST(Journal, PendingLayerSitsOnTheSealedTree) {
  SimNodeDisk node(6);
  auto opened = node.open();
  ASSERT_OK(opened);
  Journal& journal = **opened;
  ASSERT_OK(journal.put(as_bytes("a"), as_bytes("1")));
  commit_pending(journal);
  ASSERT_OK(journal.put(as_bytes("a"), as_bytes("2")));
  ASSERT_OK(journal.put(as_bytes("b"), as_bytes("2")));
  auto sealed = journal.seal(Term(1), 5);
  ASSERT_OK(sealed);
  EXPECT_FALSE(journal.has_pending());
  ASSERT_OK(journal.put(as_bytes("c"), as_bytes("3")));
  ASSERT_OK(journal.remove(as_bytes("b")));
  auto a = journal.get_pending(as_bytes("a"));
  ASSERT_OK(a);
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ(text(**a), "2");
  EXPECT_EQ((*a)->version, CommitCounter(2));
  auto b = journal.get_pending(as_bytes("b"));
  ASSERT_OK(b);
  EXPECT_FALSE(b->has_value());
  auto c = journal.get_pending(as_bytes("c"));
  ASSERT_OK(c);
  ASSERT_TRUE(c->has_value());
  EXPECT_EQ((*c)->version, CommitCounter(3));
  // The committed state has not moved.
  auto committed_a = journal.get(as_bytes("a"));
  ASSERT_OK(committed_a);
  EXPECT_EQ(text(**committed_a), "1");
  ASSERT_OK(journal.prepare(sealed->root));
  ASSERT_OK(journal.commit(sealed->root));
  commit_pending(journal);
  EXPECT_EQ(journal.commit_counter(), CommitCounter(3));
  auto final_b = journal.get(as_bytes("b"));
  ASSERT_OK(final_b);
  EXPECT_FALSE(final_b->has_value());
  auto final_c = journal.get(as_bytes("c"));
  ASSERT_OK(final_c);
  EXPECT_TRUE(final_c->has_value());
}

TEST(Journal, RollbackForgetsTheWriteSet) {
  SimNodeDisk node(7);
  auto opened = node.open();
  ASSERT_OK(opened);
  Journal& journal = **opened;
  ASSERT_OK(journal.put(as_bytes("a"), as_bytes("1")));
  commit_pending(journal);
  const uint64_t end = journal.root().end_offset;
  ASSERT_OK(journal.put(as_bytes("a"), as_bytes("2")));
  auto sealed = journal.seal(Term(1), 0);
  ASSERT_OK(sealed);
  ASSERT_OK(journal.put(as_bytes("z"), as_bytes("9")));
  EXPECT_TRUE(node.image().files().contains(journal.halog_path(CommitCounter(2))));
  ASSERT_OK(journal.rollback());
  EXPECT_FALSE(journal.has_pending());
  EXPECT_FALSE(journal.uncommitted_counter().has_value());
  EXPECT_EQ(node.current_bytes("journal").size(), end);
  EXPECT_FALSE(node.image().files().contains(journal.halog_path(CommitCounter(2))));
  auto a = journal.get_pending(as_bytes("a"));
  ASSERT_OK(a);
  EXPECT_EQ(text(**a), "1");
  // A different write set 2 can follow.
  ASSERT_OK(journal.put(as_bytes("b"), as_bytes("x")));
  commit_pending(journal);
  EXPECT_EQ(journal.commit_counter(), CommitCounter(2));
}

// Goal: the room preallocation keeps past the committed end is bounded by the setting: from
// half a step to under 1.5 steps of zeros, the file a multiple of the step; with 0, none (the
// file ends where the data does). A rollback gives the room back (truncate), and the next write
// set grows it again. Method: commit write sets of many sizes, one larger than the step, under
// several steps.
TEST(Journal, TheRoomAheadIsBoundedByTheAllocationStep) {
  for (const uint64_t step : {uint64_t{0}, uint64_t{4096}, uint64_t{64} << 10, uint64_t{1} << 20}) {
    SCOPED_TRACE(::testing::Message() << "step " << step);
    SimNodeDisk node(30);
    JournalOptions options = testing::small_options();
    options.allocation_step_bytes = step;
    auto opened = node.open(options);
    ASSERT_OK(opened);
    Journal& journal = **opened;
    uint64_t next_key = 0;
    for (const uint64_t count : {1, 40, 2000, 3, 300, 1}) {
      for (uint64_t index = 0; index < count; index++, next_key++) {
        ASSERT_OK(journal.put(as_bytes(key_of(next_key)), as_bytes(value_of(next_key, 120))));
      }
      commit_pending(journal);
      const uint64_t size = node.current_bytes("journal").size();
      const uint64_t end = journal.root().end_offset;
      if (step == 0) {
        EXPECT_EQ(size, end);
        continue;
      }
      EXPECT_TRUE(testing::only_zeros_past(node.current_bytes("journal"), end, options));
      EXPECT_GE(size, end + step / 2);
      EXPECT_EQ(size % step, 0u);
    }
    if (step == 0) continue;
    ASSERT_OK(journal.put(as_bytes("rolled back"), as_bytes("x")));
    ASSERT_OK(journal.seal(Term(1), 0));
    ASSERT_OK(journal.rollback());
    EXPECT_EQ(node.current_bytes("journal").size(), journal.root().end_offset);
    ASSERT_OK(journal.put(as_bytes("after"), as_bytes("y")));
    commit_pending(journal);
    EXPECT_GE(node.current_bytes("journal").size(), journal.root().end_offset + step / 2);
  }
}

// HALogs are never synced on the commit path and are created without a directory sync: a crash
// may lose them whole (closing root included), and open rebuilds them from the journal, byte for
// byte what commit wrote.
TEST(Journal, OpenRebuildsLostHALogsFromTheJournal) {
  SimNodeDisk node(8);
  std::vector<Bytes> written;
  {
    auto opened = node.open();
    ASSERT_OK(opened);
    for (uint64_t counter = 1; counter <= 3; counter++) {
      ASSERT_OK((*opened)->put(as_bytes(key_of(counter)), as_bytes(value_of(counter, 500))));
      commit_pending(**opened);
      written.push_back(node.current_bytes((*opened)->halog_path(CommitCounter(counter))));
    }
  }
  node.crash(sim::CrashFates{0.0, 1.0, 0.0});  // Every unsynced write and name is lost.
  EXPECT_FALSE(node.image().files().contains("halog/00000000000000000001.halog"));
  auto opened = node.open();
  ASSERT_OK(opened);
  EXPECT_EQ((*opened)->commit_counter(), CommitCounter(3));
  for (uint64_t counter = 1; counter <= 3; counter++) {
    auto bytes = (*opened)->read_halog(CommitCounter(counter));
    ASSERT_OK(bytes);
    EXPECT_EQ(*bytes, written[counter - 1]);
    // Settled: durable now, name and bytes.
    const auto& image = node.image().files().at((*opened)->halog_path(CommitCounter(counter)));
    EXPECT_TRUE(image->name_durable);
    EXPECT_EQ(image->durable, written[counter - 1]);
  }
  size_t rebuilt = 0;
  for (const std::string& note : (*opened)->recovery_notes()) {
    if (note.find("rebuilt HALog") != std::string::npos) rebuilt++;
  }
  EXPECT_EQ(rebuilt, 3u);
}

enum class CrashPoint { after_put, after_seal, after_prepare, after_commit };

class JournalCrash : public ::testing::TestWithParam<CrashPoint> {};

TEST_P(JournalCrash, ReopensAtTheLastDurableCommitPoint) {
  for (uint64_t seed = 0; seed < 20; seed++) {
    SimNodeDisk node(seed);
    std::vector<Bytes> sealed_blocks;
    uint64_t sealed_end_offset = 0;
    {
      auto opened = node.open();
      ASSERT_OK(opened);
      Journal& journal = **opened;
      for (int index = 0; index < 50; index++) {
        ASSERT_OK(journal.put(as_bytes(key_of(index)), as_bytes(value_of(index, 30))));
      }
      commit_pending(journal);
      for (int index = 0; index < 300; index++) {
        ASSERT_OK(journal.put(as_bytes(key_of(index)), as_bytes(value_of(index + 1, 40))));
      }
      if (GetParam() != CrashPoint::after_put) {
        auto sealed = journal.seal(Term(1), 0);
        ASSERT_OK(sealed);
        sealed_blocks = sealed->blocks;
        sealed_end_offset = sealed->root.end_offset;
        if (GetParam() != CrashPoint::after_seal) ASSERT_OK(journal.prepare(sealed->root));
        if (GetParam() == CrashPoint::after_commit) {
          ASSERT_OK(journal.commit(sealed->root));
          ASSERT_OK(journal.sync_committed());
        }
      }
    }
    node.crash();
    auto opened = node.open();
    ASSERT_OK(opened);
    Journal& journal = **opened;
    const uint64_t expected_counter = GetParam() == CrashPoint::after_commit ? 2 : 1;
    ASSERT_EQ(journal.commit_counter(), CommitCounter(expected_counter));
    // A prepared write set survives the crash; an unsynced one may, if every block did.
    if (GetParam() == CrashPoint::after_prepare) {
      EXPECT_EQ(journal.uncommitted_counter(), std::optional<CommitCounter>(CommitCounter(2)));
    }
    if (journal.uncommitted_counter().has_value()) {
      auto held = journal.uncommitted_blocks();
      ASSERT_OK(held);
      EXPECT_EQ(*held, sealed_blocks);
      ASSERT_OK(journal.rollback());
    }
    auto got = journal.get(as_bytes(key_of(10)));
    ASSERT_OK(got);
    EXPECT_EQ(text(**got),
              value_of(expected_counter == 2 ? 11 : 10, expected_counter == 2 ? 40 : 30));
    auto halogs = journal.halog_counters();
    ASSERT_OK(halogs);
    EXPECT_EQ(halogs->back(), CommitCounter(expected_counter));
    EXPECT_OK(journal.read_halog(CommitCounter(expected_counter)));
    // Nothing past the committed end survives (the zeros preallocation keeps are nothing).
    // The room grown for the sealed set stays.
    const uint64_t sealed_end = sealed_blocks.empty() ? 0 : sealed_end_offset;
    EXPECT_TRUE(testing::only_zeros_past(node.current_bytes("journal"), journal.root().end_offset,
                                         testing::small_options(), sealed_end));
  }
}

INSTANTIATE_TEST_SUITE_P(EveryStep, JournalCrash,
                         ::testing::Values(CrashPoint::after_put, CrashPoint::after_seal,
                                           CrashPoint::after_prepare, CrashPoint::after_commit));

}  // namespace
}  // namespace quire::store
