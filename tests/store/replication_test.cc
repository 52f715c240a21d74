// Goal: what the engine relies on between members: a follower that lays down the leader's blocks
// and commits its root ends byte-identical to the leader (journal and HALog); HALog replay does
// the same; a new leader re-proposes a held write set under its own term; a different write set
// is refused; rebuild installs a peer's committed prefix while the peer keeps committing; read
// repair rewrites a rotten record from a peer's copy.
// Method: one SimNodeDisk per member; hashes of committed prefixes and of HALog files.
#include <gtest/gtest.h>

#include "store/file_names.h"
#include "store/write_cache_block.h"
#include "tests/store/store_test_support.h"

namespace quire::store {
namespace {

using testing::commit_pending;
using testing::committed_prefix_hash;
using testing::key_of;
using testing::SimNodeDisk;
using testing::value_of;

struct Member {
  explicit Member(uint64_t seed) : node(seed) {
    auto opened = node.open();
    QUIRE_ASSERT(opened.ok());
    journal = std::move(opened).value();
  }
  void reopen() {
    journal.reset();
    node.crash(sim::CrashFates{1.0, 0.0, 0.0});
    auto opened = node.open();
    QUIRE_ASSERT_MSG(opened.ok(), opened.error().to_string());
    journal = std::move(opened).value();
  }
  SimNodeDisk node;
  std::unique_ptr<Journal> journal;
};

void put_batch(Journal& journal, uint64_t first, uint64_t count, size_t value_size) {
  for (uint64_t index = first; index < first + count; index++) {
    QUIRE_ASSERT(journal.put(as_bytes(key_of(index)), as_bytes(value_of(index, value_size))).ok());
  }
}

// Leader seals; follower lays every block down, prepares and commits the same root.
void replicate(Journal& leader, Journal& follower, Term term) {
  auto sealed = leader.seal(term, 77);
  QUIRE_ASSERT(sealed.ok());
  for (const Bytes& block : sealed->blocks)
    QUIRE_ASSERT(follower.lay_down(block).ok());
  QUIRE_ASSERT(leader.prepare(sealed->root).ok());
  QUIRE_ASSERT(follower.prepare(sealed->root).ok());
  QUIRE_ASSERT(leader.commit(sealed->root).ok());
  QUIRE_ASSERT(follower.commit(sealed->root).ok());
}

Bytes halog_bytes(Member& member, CommitCounter counter) {
  return member.node.current_bytes(member.journal->halog_path(counter));
}

TEST(Replication, FollowerEndsByteIdentical) {
  Member leader(1);
  Member follower(2);
  for (uint64_t round = 0; round < 12; round++) {
    put_batch(*leader.journal, round * 37, 80 + round * 10, 20 + round * 13);
    if (round % 4 == 3) ASSERT_OK(leader.journal->remove(as_bytes(key_of(round))));
    replicate(*leader.journal, *follower.journal, Term(1 + round / 5));
    ASSERT_EQ(committed_prefix_hash(*leader.journal), committed_prefix_hash(*follower.journal));
    const CommitCounter counter = leader.journal->commit_counter();
    EXPECT_EQ(halog_bytes(leader, counter), halog_bytes(follower, counter));
  }
  // The whole journal files match too, root slots and the preallocated zeros included: the
  // allocated size depends on the data's end alone, sealed whole or laid down block by block.
  EXPECT_EQ(leader.node.current_bytes("journal"), follower.node.current_bytes("journal"));
  EXPECT_TRUE(testing::only_zeros_past(leader.node.current_bytes("journal"),
                                       leader.journal->root().end_offset));
  // The follower reads what the leader wrote.
  auto got = follower.journal->get(as_bytes(key_of(100)));
  ASSERT_OK(got);
  ASSERT_TRUE(got->has_value());
  follower.reopen();
  EXPECT_EQ(committed_prefix_hash(*leader.journal), committed_prefix_hash(*follower.journal));
}

TEST(Replication, HALogReplayEndsByteIdentical) {
  Member leader(3);
  Member behind(4);
  for (uint64_t round = 0; round < 8; round++) {
    put_batch(*leader.journal, round * 50, 120, 40 + round * 50);
    commit_pending(*leader.journal, Term(2), static_cast<int64_t>(round));
  }
  for (uint64_t counter = 1; counter <= 8; counter++) {
    auto bytes = leader.journal->read_halog(CommitCounter(counter));
    ASSERT_OK(bytes);
    auto halog = HALogReader::parse(std::move(bytes).value());
    ASSERT_OK(halog);
    ASSERT_OK(behind.journal->replay(*halog));
    EXPECT_EQ(halog_bytes(leader, CommitCounter(counter)),
              halog_bytes(behind, CommitCounter(counter)));
  }
  EXPECT_EQ(committed_prefix_hash(*leader.journal), committed_prefix_hash(*behind.journal));
  // Replaying out of order is refused and changes nothing.
  auto again = HALogReader::parse(*leader.journal->read_halog(CommitCounter(3)));
  ASSERT_OK(again);
  EXPECT_EQ(behind.journal->replay(*again).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(behind.journal->commit_counter(), CommitCounter(8));
}

TEST(Replication, NewLeaderReProposesUnderItsTerm) {
  Member old_leader(5);
  Member follower(6);
  put_batch(*old_leader.journal, 0, 200, 30);
  auto sealed = old_leader.journal->seal(Term(3), 10);
  ASSERT_OK(sealed);
  for (const Bytes& block : sealed->blocks)
    ASSERT_OK(follower.journal->lay_down(block));
  ASSERT_OK(follower.journal->prepare(sealed->root));
  // The old leader dies; the follower, elected in term 4, re-streams the blocks it holds.
  auto held = follower.journal->uncommitted_blocks();
  ASSERT_OK(held);
  EXPECT_EQ(*held, sealed->blocks);
  RootBlock reproposed = sealed->root;
  reproposed.term = Term(4);
  reproposed.commit_time_ns = 20;
  Member third(7);
  for (const Bytes& block : *held)
    ASSERT_OK(third.journal->lay_down(block));
  ASSERT_OK(third.journal->prepare(reproposed));
  ASSERT_OK(follower.journal->commit(reproposed));
  ASSERT_OK(third.journal->commit(reproposed));
  EXPECT_EQ(follower.journal->root().term, Term(4));
  EXPECT_EQ(committed_prefix_hash(*follower.journal), committed_prefix_hash(*third.journal));
  // A repeated COMMIT is harmless.
  EXPECT_OK(third.journal->commit(reproposed));
  // The old leader, back, rolls back its sealed write set and catches up by replay.
  old_leader.reopen();
  EXPECT_EQ(old_leader.journal->commit_counter(), CommitCounter(0));
  // Its write set survived whole (nothing was lost at the crash): it holds it again.
  EXPECT_EQ(old_leader.journal->uncommitted_counter(),
            std::optional<CommitCounter>(CommitCounter(1)));
  ASSERT_OK(old_leader.journal->rollback());
  auto halog = HALogReader::parse(*follower.journal->read_halog(CommitCounter(1)));
  ASSERT_OK(halog);
  ASSERT_OK(old_leader.journal->replay(*halog));
  EXPECT_EQ(committed_prefix_hash(*old_leader.journal), committed_prefix_hash(*follower.journal));
}

TEST(Replication, AnotherWriteSetIsRefused) {
  Member leader(8);
  Member follower(9);
  put_batch(*leader.journal, 0, 10, 10);
  auto sealed = leader.journal->seal(Term(1), 0);
  ASSERT_OK(sealed);
  // Nothing held yet.
  EXPECT_EQ(follower.journal->prepare(sealed->root).code(), ErrorCode::unavailable);
  ASSERT_OK(follower.journal->lay_down(sealed->blocks.front()));
  // A block of another write set at the same sequence conflicts.
  Member other(10);
  put_batch(*other.journal, 5, 10, 11);
  auto other_sealed = other.journal->seal(Term(1), 0);
  ASSERT_OK(other_sealed);
  EXPECT_EQ(follower.journal->lay_down(other_sealed->blocks.front()).code(),
            ErrorCode::invalid_argument);
  // The same block again is fine (a re-formed pipeline restarts the write set).
  EXPECT_OK(follower.journal->lay_down(sealed->blocks.front()));
  RootBlock wrong = sealed->root;
  wrong.write_set_hash ^= 1;
  EXPECT_EQ(follower.journal->prepare(wrong).code(), ErrorCode::invalid_argument);
  RootBlock moved_tree = sealed->root;
  moved_tree.key_count += 1;
  EXPECT_EQ(leader.journal->commit(moved_tree).code(), ErrorCode::invalid_argument);
  // A damaged block is refused as a checksum failure.
  Bytes damaged = sealed->blocks.front();
  damaged[damaged.size() / 2] ^= 0x10;
  Member fresh(11);
  EXPECT_EQ(fresh.journal->lay_down(damaged).code(), ErrorCode::checksum_mismatch);
  ASSERT_OK(follower.journal->rollback());
  EXPECT_FALSE(follower.journal->uncommitted_counter().has_value());
}

TEST(Replication, RebuildInstallsAPeersCommittedPrefix) {
  Member source(12);
  Member target(13);
  for (uint64_t round = 0; round < 6; round++) {
    put_batch(*source.journal, round * 100, 150, 50);
    commit_pending(*source.journal);
  }
  // The target has a different, older history of its own, and an uncommitted HALog.
  put_batch(*target.journal, 0, 5, 5);
  commit_pending(*target.journal);
  const RootBlock copied_root = source.journal->root();
  ASSERT_OK(target.journal->begin_install(copied_root));
  const uint64_t chunk = 7777;  // Chunks need not align with blocks.
  uint64_t offset = format::data_region_begin_offset;
  bool source_committed_meanwhile = false;
  while (offset < copied_root.end_offset) {
    const uint64_t length = std::min(chunk, copied_root.end_offset - offset);
    auto bytes = source.journal->read_raw(offset, length);
    ASSERT_OK(bytes);
    ASSERT_OK(target.journal->install_chunk(offset, *bytes));
    offset += length;
    if (!source_committed_meanwhile) {
      // The source keeps committing: bytes below copied_root.end_offset never change.
      put_batch(*source.journal, 5000, 100, 70);
      commit_pending(*source.journal);
      source_committed_meanwhile = true;
    }
  }
  // The target still serves its old state until the install finishes.
  EXPECT_EQ(target.journal->commit_counter(), CommitCounter(1));
  EXPECT_EQ(target.journal->installs_finished(), 0u);
  ASSERT_OK(target.journal->finish_install());
  EXPECT_EQ(target.journal->root(), copied_root);
  EXPECT_EQ(target.journal->installs_finished(), 1u);  // Damage read before it is not reported.
  auto view = source.journal->view(copied_root.commit_counter);
  ASSERT_OK(view);
  EXPECT_EQ(view->root(), copied_root);
  auto source_entries = view->scan({}, {}, SIZE_MAX);
  auto target_entries = target.journal->scan({}, {}, SIZE_MAX);
  ASSERT_OK(source_entries);
  ASSERT_OK(target_entries);
  EXPECT_EQ(*source_entries, *target_entries);
  // Historical views of the copied history work on the target.
  auto old_view = target.journal->view(CommitCounter(2));
  ASSERT_OK(old_view);
  // It then resyncs from the source's HALogs.
  auto halog = HALogReader::parse(*source.journal->read_halog(CommitCounter(7)));
  ASSERT_OK(halog);
  ASSERT_OK(target.journal->replay(*halog));
  EXPECT_EQ(committed_prefix_hash(*target.journal), committed_prefix_hash(*source.journal));
  target.reopen();
  EXPECT_EQ(committed_prefix_hash(*target.journal), committed_prefix_hash(*source.journal));
}

TEST(Replication, InstallRefusesDamagedOrIncompleteBytes) {
  Member source(14);
  Member target(15);
  put_batch(*source.journal, 0, 300, 40);
  commit_pending(*source.journal);
  const RootBlock root = source.journal->root();
  auto bytes = source.journal->read_raw(format::data_region_begin_offset,
                                        root.end_offset - format::data_region_begin_offset);
  ASSERT_OK(bytes);
  Bytes damaged = *bytes;
  damaged[damaged.size() / 3] ^= 1;
  ASSERT_OK(target.journal->begin_install(root));
  EXPECT_EQ(target.journal->install_chunk(format::data_region_begin_offset, damaged).code(),
            ErrorCode::checksum_mismatch);
  target.journal->abort_install();
  ASSERT_OK(target.journal->begin_install(root));
  ASSERT_OK(target.journal->install_chunk(format::data_region_begin_offset,
                                          ByteView(*bytes).first(bytes->size() - 10)));
  EXPECT_EQ(target.journal->finish_install().code(), ErrorCode::unavailable);
  target.journal->abort_install();
  EXPECT_EQ(target.journal->commit_counter(), CommitCounter(0));
  EXPECT_EQ(target.journal->installs_finished(), 0u);  // Refused installs replaced nothing.
  // A crash during an install leaves the old journal.
  ASSERT_OK(target.journal->begin_install(root));
  target.reopen();
  EXPECT_EQ(target.journal->commit_counter(), CommitCounter(0));
  EXPECT_FALSE(target.node.image().files().contains("journal.install"));
}

// A rebuild's root block that a misdirected write put elsewhere (fuzz seed 900059): the install
// must fail before its rename, or the member's good journal is replaced by one whose root slots
// are both unusable, which it cannot open again, while it goes on committing into the old file.
TEST(Replication, InstallWhoseRootBlockIsMisdirectedReplacesNothing) {
  Member source(18);
  Member target(19);
  put_batch(*source.journal, 0, 300, 40);
  commit_pending(*source.journal);
  put_batch(*source.journal, 300, 300, 40);
  commit_pending(*source.journal);
  put_batch(*target.journal, 0, 5, 5);
  commit_pending(*target.journal);
  const uint64_t target_hash = committed_prefix_hash(*target.journal);
  const RootBlock root = source.journal->root();
  auto bytes = source.journal->read_raw(format::data_region_begin_offset,
                                        root.end_offset - format::data_region_begin_offset);
  ASSERT_OK(bytes);
  ASSERT_OK(target.journal->begin_install(root));
  ASSERT_OK(target.journal->install_chunk(format::data_region_begin_offset, *bytes));
  target.node.model().faults.misdirected_write_probability = 1.0;
  const Status finished = target.journal->finish_install();
  target.node.model().faults.misdirected_write_probability = 0;
  EXPECT_EQ(finished.code(), ErrorCode::checksum_mismatch);
  target.journal->abort_install();
  EXPECT_FALSE(target.journal->failed());  // The old journal was never touched.
  EXPECT_EQ(target.journal->installs_finished(), 0u);
  EXPECT_EQ(target.journal->commit_counter(), CommitCounter(1));
  EXPECT_FALSE(target.node.image().files().contains("journal.install"));
  // It opens again as it was, and a second try installs.
  target.reopen();
  EXPECT_EQ(target.journal->commit_counter(), CommitCounter(1));
  EXPECT_EQ(committed_prefix_hash(*target.journal), target_hash);
  ASSERT_OK(target.journal->begin_install(root));
  ASSERT_OK(target.journal->install_chunk(format::data_region_begin_offset, *bytes));
  ASSERT_OK(target.journal->finish_install());
  EXPECT_EQ(target.journal->root(), root);
  target.reopen();
  EXPECT_EQ(committed_prefix_hash(*target.journal), committed_prefix_hash(*source.journal));
}

TEST(Replication, ReadRepairRewritesARottenRecord) {
  Member leader(16);
  Member follower(17);
  put_batch(*leader.journal, 0, 400, 300);  // Out of line: 300 > 64 inline bytes.
  replicate(*leader.journal, *follower.journal, Term(1));
  const std::string key = key_of(123);
  auto before = follower.journal->get(as_bytes(key));
  ASSERT_OK(before);
  // Find the record of that value and rot one bit of it on the follower.
  const Bytes& file = follower.node.current_bytes("journal");
  const std::string value = value_of(123, 300);
  const auto found = std::search(file.begin(), file.end(), value.begin(), value.end());
  ASSERT_NE(found, file.end());
  const uint64_t rotten_offset = static_cast<uint64_t>(found - file.begin()) + 5;
  ASSERT_TRUE(follower.node.image().rot_at("journal", rotten_offset, 3));
  auto failed = follower.journal->get(as_bytes(key));
  ASSERT_FALSE(failed.ok());
  ASSERT_EQ(failed.code(), ErrorCode::checksum_mismatch);
  const std::optional<Address> address = failed_address(failed.error());
  ASSERT_TRUE(address.has_value()) << failed.error().to_string();
  EXPECT_LE(address->offset, rotten_offset);
  EXPECT_GT(address->end(), rotten_offset);
  // Wrong bytes are refused; the peer's copy repairs it.
  auto good = leader.journal->read_raw(address->offset, address->length);
  ASSERT_OK(good);
  Bytes bad = *good;
  bad[7] ^= 1;
  EXPECT_EQ(follower.journal->repair(address->offset, bad).code(), ErrorCode::checksum_mismatch);
  ASSERT_OK(follower.journal->repair(address->offset, *good));
  auto after = follower.journal->get(as_bytes(key));
  ASSERT_OK(after);
  EXPECT_EQ(**after, **before);
  EXPECT_EQ(committed_prefix_hash(*leader.journal), committed_prefix_hash(*follower.journal));
}

// A latent sector error under the end of one block and the start of the next: a repair of the
// first block alone cannot mend it (a partial-sector write makes the device read the rest
// first), a repair of a span that covers the whole sector does.
TEST(Replication, RepairWritesWholeSectorsAndMendsALatentSectorError) {
  Member leader(18);
  Member follower(19);
  for (uint64_t batch = 0; batch < 4; batch++) {
    put_batch(*leader.journal, batch * 100, 100, 300);
    replicate(*leader.journal, *follower.journal, Term(1));
  }
  constexpr uint64_t sector = io::disk_sector_size_bytes;
  const uint64_t committed = follower.journal->root().end_offset;
  auto block_at = [&](uint64_t offset) {
    auto header = leader.journal->read_raw(offset, format::write_cache_block_header_size_bytes);
    EXPECT_OK(header);
    auto peeked = peek_write_cache_block_header(*header);
    EXPECT_OK(peeked);
    return *leader.journal->read_raw(offset, peeked->length);
  };
  // The first block that ends inside a sector with a block after it.
  uint64_t first = format::data_region_begin_offset;
  Bytes block = block_at(first);
  while ((first + block.size()) % sector == 0 || first + block.size() >= committed) {
    first += block.size();
    ASSERT_LT(first, committed);
    block = block_at(first);
  }
  const uint64_t bad_sector = (first + block.size()) / sector * sector;
  follower.node.image().add_latent_error_at("journal", bad_sector);
  EXPECT_EQ(follower.journal->read_raw(first, block.size()).code(), ErrorCode::io_error);
  EXPECT_EQ(follower.journal->repair(first, block).code(), ErrorCode::io_error);
  Bytes span = block;
  while (first + span.size() < std::min(bad_sector + sector, committed)) {
    const Bytes next = block_at(first + span.size());
    span.insert(span.end(), next.begin(), next.end());
  }
  ASSERT_OK(follower.journal->repair(first, span));
  EXPECT_OK(follower.journal->read_raw(first, span.size()));
  EXPECT_EQ(committed_prefix_hash(*leader.journal), committed_prefix_hash(*follower.journal));
}

}  // namespace
}  // namespace quire::store
