// Goal: storage faults are detected, never returned as data: bit rot anywhere in committed
// records, blocks, root blocks and HALogs; a torn or rotten root block falls back to the other
// slot; torn and corrupt HALogs are told apart; a full disk and a failed sync are reported and
// lose nothing committed; misdirected writes and latent sector errors surface as errors.
// Method: a committed journal on a SimNodeDisk; faults placed through the DiskImage; every read
// checked against the values that were written.
#include <gtest/gtest.h>

#include <map>

#include "store/halog_reader.h"
#include "store/snapshot.h"
#include "tests/store/store_test_support.h"

namespace quire::store {
namespace {

using testing::commit_pending;
using testing::key_of;
using testing::SimNodeDisk;
using testing::small_options;
using testing::value_of;

using Expected = std::map<std::string, std::string>;

// Commits `rounds` write sets of puts and removes; returns the final key -> value.
Expected fill(Journal& journal, uint64_t rounds, uint64_t seed) {
  Rng rng(seed);
  Expected expected;
  for (uint64_t round = 0; round < rounds; round++) {
    for (int index = 0; index < 80; index++) {
      const uint64_t key = rng.uniform(400);
      if (rng.one_in(6)) {
        QUIRE_ASSERT(journal.remove(as_bytes(key_of(key))).ok());
        expected.erase(key_of(key));
        continue;
      }
      // Some values are inline, some one chunk, some several chunks (16 KiB blocks).
      const size_t size = rng.one_in(40) ? rng.between(17000, 40000) : rng.uniform(300);
      const std::string value = value_of(key * 1000 + round, size);
      QUIRE_ASSERT(journal.put(as_bytes(key_of(key)), as_bytes(value)).ok());
      expected[key_of(key)] = value;
    }
    commit_pending(journal, Term(1), static_cast<int64_t>(round));
  }
  return expected;
}

// Every read either fails or returns exactly what was written. Returns whether any failed.
bool check_reads(Journal& journal, const Expected& expected) {
  bool any_failed = false;
  for (const auto& [key, value] : expected) {
    auto got = journal.get(as_bytes(key));
    if (!got.ok()) {
      EXPECT_TRUE(got.code() == ErrorCode::checksum_mismatch ||
                  got.code() == ErrorCode::corruption || got.code() == ErrorCode::io_error)
          << got.error().to_string();
      any_failed = true;
      continue;
    }
    EXPECT_TRUE(got->has_value()) << key;
    if (got->has_value()) {
      EXPECT_EQ(as_text((*got)->bytes), value) << key;
    }
  }
  auto all = journal.scan({}, {}, SIZE_MAX);
  if (!all.ok()) return true;
  EXPECT_EQ(all->size(), expected.size());
  auto entry = expected.begin();
  for (const Entry& got : *all) {
    if (entry == expected.end()) break;
    EXPECT_EQ(as_text(got.key), entry->first);
    EXPECT_EQ(as_text(got.value.bytes), entry->second);
    ++entry;
  }
  return any_failed;
}

TEST(Faults, RotInTheDataRegionIsNeverReturnedAsData) {
  SimNodeDisk node(1);
  Expected expected;
  uint64_t end = 0;
  {
    auto journal = node.open();
    ASSERT_OK(journal);
    expected = fill(**journal, 12, 1);
    end = (*journal)->root().end_offset;
  }
  Rng rng(2);
  int read_detected = 0;
  for (int trial = 0; trial < 150; trial++) {
    const uint64_t offset = rng.between(format::data_region_begin_offset, end - 1);
    const unsigned bit = static_cast<unsigned>(rng.uniform(8));
    ASSERT_TRUE(node.image().rot_at("journal", offset, bit));
    {
      auto journal = node.open();  // A fresh node cache: reads go to the disk.
      ASSERT_OK(journal);
      if (check_reads(**journal, expected)) read_detected++;
      // Every byte of the data region is in a checksummed block: a full check finds it.
      auto snapshot = write_snapshot(**journal, (*journal)->commit_counter());
      ASSERT_FALSE(snapshot.ok()) << "rot at " << offset << " went unnoticed";
      EXPECT_EQ(snapshot.code(), ErrorCode::checksum_mismatch) << snapshot.error().to_string();
    }
    ASSERT_TRUE(node.image().rot_at("journal", offset, bit));  // Heal.
  }
  // Most rot hits live records (and some hits old versions, block headers or padding).
  EXPECT_GT(read_detected, 20);
  auto journal = node.open();
  ASSERT_OK(journal);
  EXPECT_FALSE(check_reads(**journal, expected));
}

TEST(Faults, ARottenOrTornRootBlockFallsBackToTheOtherSlot) {
  for (int variant = 0; variant < 3; variant++) {
    SimNodeDisk node(10 + static_cast<uint64_t>(variant));
    Expected expected;
    RootBlock last;
    {
      auto journal = node.open();
      ASSERT_OK(journal);
      expected = fill(**journal, 5, 3);
      last = (*journal)->root();
    }
    const uint64_t slot = JournalFile::slot_offset(last.commit_counter);
    auto& durable = node.image().files().at("journal")->durable;
    if (variant == 0) {
      ASSERT_TRUE(node.image().rot_at("journal", slot + 50, 4));
    } else {
      // A torn write on a device with smaller atomic units: the second half is stale.
      durable.write(slot + 64, Bytes(64, 0));
      node.image().files().at("journal")->current = durable;
    }
    if (variant == 2) {
      // Without HALog 5 there is nothing to roll forward from: commit point 4 it is.
      ASSERT_OK(node.disk().unlink("halog/00000000000000000005.halog"));
    }
    auto journal = node.open();
    ASSERT_OK(journal);
    if (variant == 2) {
      EXPECT_EQ((*journal)->commit_counter(), CommitCounter(4));
    } else {
      // The other slot holds 4; the complete HALog 5 rolls it forward to exactly `last`.
      EXPECT_EQ((*journal)->root(), last);
      EXPECT_FALSE(check_reads(**journal, expected));
    }
    bool noted = false;
    for (const std::string& note : (*journal)->recovery_notes()) {
      noted = noted || note.find("refused") != std::string::npos;
    }
    EXPECT_TRUE(noted);
  }
  // Both slots rotten: the journal refuses to open rather than guess.
  SimNodeDisk node(20);
  {
    auto journal = node.open();
    ASSERT_OK(journal);
    fill(**journal, 3, 4);
  }
  ASSERT_TRUE(node.image().rot_at("journal", 10, 0));
  ASSERT_TRUE(node.image().rot_at("journal", 4096 + 10, 0));
  EXPECT_EQ(node.open().code(), ErrorCode::corruption);
}

TEST(Faults, HALogScanTellsTornFromCorrupt) {
  SimNodeDisk node(30);
  auto journal = node.open();
  ASSERT_OK(journal);
  fill(**journal, 3, 5);
  auto bytes = (*journal)->read_halog(CommitCounter(2));
  ASSERT_OK(bytes);
  const Bytes whole = *bytes;
  const HALogScan complete = HALogReader::scan(whole);
  ASSERT_EQ(complete.state, HALogState::complete) << complete.problem;
  ASSERT_GE(complete.blocks.size(), 1u);
  // Every truncation is torn, with the valid prefix at the last whole entry.
  for (size_t length = 0; length < whole.size(); length += 97) {
    const HALogScan scan = HALogReader::scan(ByteView(whole).first(length));
    EXPECT_EQ(scan.state, HALogState::torn) << length;
    EXPECT_LE(scan.valid_length, length);
    EXPECT_FALSE(scan.closing_root.has_value());
  }
  // A lost closing root: torn, and every block valid.
  const HALogScan no_closing =
      HALogReader::scan(ByteView(whole).first(whole.size() - format::root_block_size_bytes));
  EXPECT_EQ(no_closing.state, HALogState::torn);
  EXPECT_EQ(no_closing.blocks.size(), complete.blocks.size());
  // Any flipped bit before the closing root: corrupt. In the closing root: torn.
  Rng rng(6);
  for (int trial = 0; trial < 300; trial++) {
    Bytes damaged = whole;
    const size_t offset = trial < 250
                              ? rng.uniform(whole.size() - format::root_block_size_bytes)
                              : whole.size() - 1 - rng.uniform(format::root_block_size_bytes);
    damaged[offset] ^= static_cast<uint8_t>(1u << rng.uniform(8));
    const HALogScan scan = HALogReader::scan(damaged);
    const HALogState want = trial < 250 ? HALogState::corrupt : HALogState::torn;
    EXPECT_EQ(scan.state, want) << "offset " << offset << ": " << scan.problem;
    EXPECT_FALSE(HALogReader::parse(damaged).ok());
  }
  // read_halog checks the file on disk (durable once a reopen settled it).
  journal->reset();
  journal = node.open();
  ASSERT_OK(journal);
  ASSERT_TRUE(node.image().rot_at((*journal)->halog_path(CommitCounter(1)), 100, 0));
  EXPECT_EQ((*journal)->read_halog(CommitCounter(1)).code(), ErrorCode::checksum_mismatch);
}

TEST(Faults, AFullDiskLosesNothingCommitted) {
  SimNodeDisk node(40);
  auto opened = node.open();
  ASSERT_OK(opened);
  Journal& journal = **opened;
  const Expected expected = fill(journal, 3, 7);
  const RootBlock committed = journal.root();
  node.image().set_capacity_bytes(node.image().used_bytes() + 20000);
  for (int index = 0; index < 500; index++) {
    ASSERT_OK(journal.put(as_bytes(key_of(index)), as_bytes(value_of(index, 200))));
  }
  auto sealed = journal.seal(Term(1), 0);
  ASSERT_FALSE(sealed.ok());
  EXPECT_EQ(sealed.code(), ErrorCode::no_space);
  // Nothing held, the pending layer kept, the committed state intact.
  EXPECT_FALSE(journal.uncommitted_counter().has_value());
  EXPECT_EQ(journal.pending_count(), 500u);
  EXPECT_EQ(journal.root(), committed);
  EXPECT_FALSE(check_reads(journal, expected));
  EXPECT_FALSE(node.image().files().contains(journal.halog_path(CommitCounter(4))));
  // A follower on a full disk refuses the block and recovers after a rollback.
  SimNodeDisk leader_node(41);
  auto leader = leader_node.open();
  ASSERT_OK(leader);
  fill(**leader, 1, 8);
  SimNodeDisk follower_node(42);
  auto follower = follower_node.open();
  ASSERT_OK(follower);
  follower_node.image().set_capacity_bytes(follower_node.image().used_bytes() + 1000);
  auto first = (*leader)->uncommitted_blocks();
  ASSERT_OK(first);
  auto halog = HALogReader::parse(*(*leader)->read_halog(CommitCounter(1)));
  ASSERT_OK(halog);
  EXPECT_EQ((*follower)->lay_down(halog->block(0)).code(), ErrorCode::no_space);
  ASSERT_OK((*follower)->rollback());
  follower_node.image().set_capacity_bytes(UINT64_MAX);
  EXPECT_OK((*follower)->replay(*halog));
  // Room again: the same pending layer commits.
  node.image().set_capacity_bytes(UINT64_MAX);
  commit_pending(journal);
  EXPECT_EQ(journal.commit_counter(), CommitCounter(4));
}

TEST(Faults, AFailedSyncStopsWritesUntilReopened) {
  // The n-th sync of a commit fails: 1 is PREPARE's, 2 is the one that makes its root durable
  // (sync_committed; in a group, the next write set's PREPARE).
  for (uint32_t failing = 1; failing <= 2; failing++) {
    for (uint64_t seed = 0; seed < 10; seed++) {
      SimNodeDisk node(seed);
      Expected before;
      Expected after;
      {
        auto opened = node.open();
        ASSERT_OK(opened);
        Journal& journal = **opened;
        before = fill(journal, 2, seed);
        after = before;
        for (int index = 0; index < 100; index++) {
          ASSERT_OK(journal.put(as_bytes(key_of(index)), as_bytes(value_of(index, 50))));
          after[key_of(index)] = value_of(index, 50);
        }
        auto sealed = journal.seal(Term(1), 0);
        ASSERT_OK(sealed);
        node.model().faults.fail_sync_countdown = failing;
        Status outcome = journal.prepare(sealed->root);
        if (outcome.ok()) outcome = journal.commit(sealed->root);
        if (outcome.ok()) outcome = journal.sync_committed();
        ASSERT_EQ(outcome.code(), ErrorCode::io_error);
        EXPECT_TRUE(journal.failed());
        EXPECT_EQ(journal.commit(sealed->root).code(), ErrorCode::io_error);
        EXPECT_EQ(journal.seal(Term(1), 0).code(), ErrorCode::io_error);
        // Committed reads still work (the commit itself succeeded when the root's sync failed).
        EXPECT_FALSE(check_reads(journal, failing == 1 ? before : after));
      }
      node.crash();
      auto opened = node.open();
      ASSERT_OK(opened);
      // Only a failure of COMMIT's own sync may leave commit point 3 (its root block may have
      // reached the disk); either way the journal holds one whole commit point.
      const CommitCounter counter = (*opened)->commit_counter();
      if (failing < 2) {
        EXPECT_EQ(counter, CommitCounter(2));
      } else {
        EXPECT_TRUE(counter == CommitCounter(2) || counter == CommitCounter(3));
      }
      EXPECT_FALSE(check_reads(**opened, counter == CommitCounter(2) ? before : after));
      EXPECT_FALSE((*opened)->failed());
    }
  }
}

// A root block that a misdirected write put elsewhere must not be reported committed: the member
// would announce a commit point its restart forgets. The commit fails; the write set stays held.
TEST(Faults, AMisdirectedRootBlockFailsTheCommitAndKeepsTheWriteSetHeld) {
  SimNodeDisk node(53);
  {
    auto opened = node.open();
    ASSERT_OK(opened);
    Journal& journal = **opened;
    fill(journal, 2, 20);
    ASSERT_OK(journal.put(as_bytes("k"), as_bytes("v")));
    auto sealed = journal.seal(Term(1), 0);
    ASSERT_OK(sealed);
    ASSERT_OK(journal.prepare(sealed->root));
    node.model().faults.misdirected_write_probability = 1.0;
    const Status committed = journal.commit(sealed->root);
    node.model().faults.misdirected_write_probability = 0;
    ASSERT_FALSE(committed.ok());
    EXPECT_EQ(committed.code(), ErrorCode::checksum_mismatch);
    EXPECT_TRUE(journal.failed());
    EXPECT_EQ(journal.commit_counter(), CommitCounter(2));
  }
  auto reopened = node.open();
  ASSERT_OK(reopened);
  EXPECT_EQ((*reopened)->commit_counter(), CommitCounter(2));
  EXPECT_EQ((*reopened)->uncommitted_counter(), CommitCounter(3));
}

// A misdirected write put root 3 over root 2 (the other slot) while slot 1 still holds root 1:
// root 3 is the commit point, and open moves it into its own slot, where commit 4 cannot
// overwrite it.
TEST(Faults, ARootBlockInTheOtherSlotIsTheCommitPointAndMovesToItsOwn) {
  SimNodeDisk node(54);
  Bytes root_1;
  RootBlock last;
  {
    auto opened = node.open();
    ASSERT_OK(opened);
    fill(**opened, 1, 30);
    ASSERT_EQ((*opened)->commit_counter(), CommitCounter(1));
    root_1 = node.current_bytes("journal");
    fill(**opened, 2, 31);
    last = (*opened)->root();
    ASSERT_EQ(last.commit_counter, CommitCounter(3));
  }
  auto& file = *node.image().files().at("journal");
  const uint64_t slot_size = format::root_slot_size_bytes;
  const Bytes root_3 = node.current_bytes("journal");
  file.durable.write(0, ByteView(root_3).subspan(slot_size, slot_size));
  file.durable.write(slot_size, ByteView(root_1).subspan(slot_size, slot_size));
  file.current = file.durable;
  {
    auto opened = node.open();
    ASSERT_OK(opened);
    EXPECT_EQ((*opened)->root(), last);
    const auto& notes = (*opened)->recovery_notes();
    EXPECT_TRUE(std::any_of(notes.begin(), notes.end(), [](const std::string& note) {
      return note.find("found in the other slot") != std::string::npos;
    }));
    fill(**opened, 1, 32);
    EXPECT_EQ((*opened)->commit_counter(), CommitCounter(4));
  }
  node.crash(sim::CrashFates{0.0, 1.0, 0.0});
  auto reopened = node.open();
  ASSERT_OK(reopened);
  EXPECT_EQ((*reopened)->commit_counter(), CommitCounter(4));
}

// A root block is written as its whole slot, so a latent sector error there is mended by the
// next commit into that slot instead of failing its read-back.
TEST(Faults, ACommitMendsALatentSectorErrorInItsRootSlot) {
  SimNodeDisk node(55);
  auto opened = node.open();
  ASSERT_OK(opened);
  fill(**opened, 2, 33);
  const CommitCounter next = (*opened)->commit_counter().next();
  node.image().add_latent_error_at("journal", JournalFile::slot_offset(next));
  fill(**opened, 1, 34);
  EXPECT_EQ((*opened)->commit_counter(), next);
  EXPECT_FALSE((*opened)->failed());
}

TEST(Faults, MisdirectedWritesAndBadSectorsSurfaceAsErrors) {
  SimNodeDisk node(50);
  Expected expected;
  {
    auto opened = node.open();
    ASSERT_OK(opened);
    node.model().faults.misdirected_write_probability = 0.2;
    Journal& journal = **opened;
    // Commits may fail (a misdirected root block write leaves nothing valid to read back); what
    // matters is that no read returns wrong data.
    Rng rng(51);
    for (int round = 0; round < 6; round++) {
      for (int index = 0; index < 40; index++) {
        const uint64_t key = rng.uniform(200);
        ASSERT_OK(journal.put(as_bytes(key_of(key)),
                              as_bytes(value_of(key + 7 * static_cast<uint64_t>(round), 100))));
      }
      auto sealed = journal.seal(Term(1), 0);
      if (!sealed.ok()) break;
      if (!journal.commit(sealed->root).ok()) break;
    }
    node.model().faults.misdirected_write_probability = 0;
    for (int index = 0; index < 200; index++) {
      auto got = journal.get(as_bytes(key_of(static_cast<uint64_t>(index))));
      // A value read back is one that was written for this key.
      if (got.ok() && got->has_value()) {
        const std::string_view value = as_text((*got)->bytes);
        const uint64_t written = std::stoull(std::string(value.substr(0, value.find(':'))));
        EXPECT_EQ(value, value_of(written, 100));
        EXPECT_EQ((written - static_cast<uint64_t>(index)) % 7, 0u);
      }
    }
  }
  // Bad sectors in the data region: reads fail with io_error rather than return anything.
  SimNodeDisk bad(52);
  auto opened = bad.open();
  ASSERT_OK(opened);
  expected = fill(**opened, 4, 9);
  const uint64_t end = (*opened)->root().end_offset;
  for (uint64_t offset = format::data_region_begin_offset; offset < end; offset += 4 * 4096) {
    bad.image().add_latent_error_at("journal", offset);
  }
  auto reopened = bad.open();
  ASSERT_OK(reopened);
  EXPECT_TRUE(check_reads(**reopened, expected));
}

}  // namespace
}  // namespace quire::store
