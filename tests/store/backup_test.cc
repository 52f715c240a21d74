// Goal: snapshots and restore: a snapshot plus the HALogs after it restores every commit point
// in between, equal to the live journal's view there, byte for byte; a gap, a torn or a corrupt
// file is refused and the target is left untouched. And the quorum-state file: double slots,
// a torn store falls back to the previous state.
// Method: a live journal on one SimNodeDisk, restores into other directories and other disks.
#include <gtest/gtest.h>

#include "store/file_names.h"
#include "store/quorum_state.h"
#include "store/restore.h"
#include "store/snapshot.h"
#include "tests/store/store_test_support.h"

namespace quire::store {
namespace {

using testing::commit_pending;
using testing::committed_prefix_hash;
using testing::key_of;
using testing::SimNodeDisk;
using testing::small_options;
using testing::value_of;

class Backup : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = live_node_.open();
    ASSERT_OK(opened);
    live_ = std::move(opened).value();
    Rng rng(5);
    for (uint64_t counter = 1; counter <= 20; counter++) {
      for (int index = 0; index < 60; index++) {
        const uint64_t key = rng.uniform(500);
        if (rng.one_in(5)) {
          ASSERT_OK(live_->remove(as_bytes(key_of(key))));
        } else {
          ASSERT_OK(live_->put(as_bytes(key_of(key)), as_bytes(value_of(key, rng.uniform(200)))));
        }
      }
      commit_pending(*live_, Term(1), static_cast<int64_t>(counter));
      if (counter == 5 || counter == 12) {
        SnapshotOptions options;
        options.frame_size_bytes = 10000;
        ASSERT_OK(write_snapshot(*live_, CommitCounter(counter), options));
      }
    }
  }

  RestoreSource source() { return RestoreSource{&live_node_.disk(), ""}; }

  // The restored journal equals the live one at `counter`: same root, same bytes, same reads.
  void expect_equal_to_live(Journal& restored, CommitCounter counter) {
    auto view = live_->view(counter);
    ASSERT_OK(view);
    ASSERT_EQ(restored.root(), view->root());
    const uint64_t length = view->root().end_offset - format::data_region_begin_offset;
    auto live_bytes = live_->read_raw(format::data_region_begin_offset, length);
    auto restored_bytes = restored.read_raw(format::data_region_begin_offset, length);
    ASSERT_OK(live_bytes);
    ASSERT_OK(restored_bytes);
    EXPECT_EQ(*live_bytes, *restored_bytes);
    auto live_entries = view->scan({}, {}, SIZE_MAX);
    auto restored_entries = restored.scan({}, {}, SIZE_MAX);
    ASSERT_OK(live_entries);
    ASSERT_OK(restored_entries);
    EXPECT_EQ(*live_entries, *restored_entries);
  }

  SimNodeDisk live_node_{1};
  std::unique_ptr<Journal> live_;
};

TEST_F(Backup, RestoresEveryCommitPointFromTheFirstSnapshotOn) {
  EXPECT_EQ(*list_snapshots(live_node_.disk(), "snapshots"),
            (std::vector<CommitCounter>{CommitCounter(5), CommitCounter(12)}));
  for (uint64_t counter = 5; counter <= 20; counter++) {
    SimNodeDisk target(100 + counter);
    auto root = restore(source(), CommitCounter(counter), target.disk(), small_options());
    ASSERT_OK(root);
    EXPECT_EQ(root->commit_counter, CommitCounter(counter));
    auto opened = target.open();
    ASSERT_OK(opened);
    expect_equal_to_live(**opened, CommitCounter(counter));
    // The restored member holds the HALogs it replayed, identical to the live ones.
    const uint64_t snapshot = counter >= 12 ? 12 : 5;
    for (uint64_t replayed = snapshot + 1; replayed <= counter; replayed++) {
      const std::string path = (*opened)->halog_path(CommitCounter(replayed));
      EXPECT_EQ(target.current_bytes(path), live_node_.current_bytes(path));
    }
  }
}

TEST_F(Backup, RestoresIntoAnotherDirectoryOfTheSameDisk) {
  JournalOptions options = small_options();
  options.directory = "restored";
  ASSERT_OK(restore(source(), CommitCounter(15), live_node_.disk(), options));
  auto opened = Journal::open(live_node_.disk(), options);
  ASSERT_OK(opened);
  expect_equal_to_live(**opened, CommitCounter(15));
  // Twice into the same place is refused.
  EXPECT_EQ(restore(source(), CommitCounter(15), live_node_.disk(), options).code(),
            ErrorCode::already_exists);
}

TEST_F(Backup, RefusesAGapAndChangesNothing) {
  ASSERT_OK(live_node_.disk().unlink(live_->halog_path(CommitCounter(15))));
  SimNodeDisk target(7);
  auto refused = restore(source(), CommitCounter(17), target.disk(), small_options());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), ErrorCode::not_found);
  EXPECT_NE(refused.error().message().find("gap"), std::string::npos);
  EXPECT_TRUE(target.image().files().empty());
  // Before the gap is fine.
  EXPECT_OK(restore(source(), CommitCounter(14), target.disk(), small_options()));
  // Before the first snapshot there is nothing to start from.
  SimNodeDisk early(8);
  EXPECT_EQ(restore(source(), CommitCounter(4), early.disk(), small_options()).code(),
            ErrorCode::not_found);
}

TEST_F(Backup, RefusesACorruptOrTornHALog) {
  // Reopened, the live journal has settled (synced) its HALogs: rot strikes durable bytes.
  live_.reset();
  auto reopened = live_node_.open();
  ASSERT_OK(reopened);
  live_ = std::move(reopened).value();
  Rng rng(9);
  const std::string path = live_->halog_path(CommitCounter(8));
  auto& image = live_node_.image();
  const uint64_t size = image.files().at(path)->durable.size();
  ASSERT_TRUE(image.rot_at(path, rng.uniform(size - 128), 2));
  SimNodeDisk target(10);
  auto corrupt = restore(source(), CommitCounter(9), target.disk(), small_options());
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.code(), ErrorCode::checksum_mismatch) << corrupt.error().to_string();
  EXPECT_TRUE(target.image().files().empty());
  // Torn: the tail of HALog 18 is gone.
  const std::string torn_path = live_->halog_path(CommitCounter(18));
  image.files().at(torn_path)->current.resize(200);
  image.files().at(torn_path)->durable.resize(200);
  auto torn = restore(source(), CommitCounter(19), target.disk(), small_options());
  ASSERT_FALSE(torn.ok());
  EXPECT_EQ(torn.code(), ErrorCode::corruption);
  EXPECT_NE(torn.error().message().find("torn"), std::string::npos);
  EXPECT_TRUE(target.image().files().empty());
}

TEST_F(Backup, RotAnywhereInASnapshotIsDetected) {
  const std::string path = snapshot_path("snapshots", CommitCounter(12));
  auto& image = live_node_.image();
  const uint64_t size = image.files().at(path)->durable.size();
  Rng rng(11);
  for (int trial = 0; trial < 60; trial++) {
    const uint64_t offset = trial < 40 ? rng.uniform(size) : size - 1 - rng.uniform(64);
    const unsigned bit = static_cast<unsigned>(rng.uniform(8));
    ASSERT_TRUE(image.rot_at(path, offset, bit));
    auto reader = SnapshotReader::open(live_node_.disk(), path);
    const bool detected = !reader.ok() || !(*reader)->verify().ok();
    EXPECT_TRUE(detected) << "bit " << bit << " at " << offset << " of " << size;
    SimNodeDisk target(200 + static_cast<uint64_t>(trial));
    EXPECT_FALSE(restore(source(), CommitCounter(13), target.disk(), small_options()).ok());
    ASSERT_TRUE(image.rot_at(path, offset, bit));  // Heal it for the next trial.
  }
  auto reader = SnapshotReader::open(live_node_.disk(), path);
  ASSERT_OK(reader);
  EXPECT_OK((*reader)->verify());
}

TEST_F(Backup, SnapshotOfARottenJournalIsRefused) {
  auto& image = live_node_.image();
  // Rot a byte in the data region of commit point 3: the snapshot of 10 copies it, and refuses.
  auto view = live_->view(CommitCounter(3));
  ASSERT_OK(view);
  ASSERT_TRUE(image.rot_at("journal", view->root().end_offset - 40, 0));
  auto written = write_snapshot(*live_, CommitCounter(10));
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.code(), ErrorCode::checksum_mismatch);
  EXPECT_FALSE(image.files().contains(snapshot_path("snapshots", CommitCounter(10))));
  EXPECT_FALSE(image.files().contains(snapshot_path("snapshots", CommitCounter(10)) + ".tmp"));
}

TEST(QuorumStateFile, StoresAndLoads) {
  SimNodeDisk node(20);
  {
    auto file = QuorumStateFile::open(node.disk(), "quorum_state");
    ASSERT_OK(file);
    EXPECT_EQ((*file)->state(), QuorumState{});
    ASSERT_OK((*file)->store(QuorumState{Term(7), NodeId(3)}));
    ASSERT_OK((*file)->store(QuorumState{Term(8), NodeId(2)}));
  }
  node.crash();
  auto file = QuorumStateFile::open(node.disk(), "quorum_state");
  ASSERT_OK(file);
  EXPECT_EQ((*file)->state(), (QuorumState{Term(8), NodeId(2)}));
  EXPECT_EQ((*file)->sequence(), 2u);
}

// A latent sector error in the newest record's alternate slot: the mirror holds the vote. The
// next store writes whole slots, which mends the sector.
TEST(QuorumStateFile, AnUnreadableSlotFallsBackToTheMirrorAndTheNextStoreMendsIt) {
  SimNodeDisk node(21);
  {
    auto file = QuorumStateFile::open(node.disk(), "quorum_state");
    ASSERT_OK(file);
    ASSERT_OK((*file)->store(QuorumState{Term(4), NodeId(1)}));
    ASSERT_OK((*file)->store(QuorumState{Term(5), NodeId(2)}));  // Slot 0.
  }
  node.image().add_latent_error_at("quorum_state", 0);
  auto file = QuorumStateFile::open(node.disk(), "quorum_state");
  ASSERT_OK(file);
  EXPECT_EQ((*file)->state(), (QuorumState{Term(5), NodeId(2)}));
  ASSERT_OK((*file)->store(QuorumState{Term(6), NodeId(2)}));  // Slot 1.
  ASSERT_OK((*file)->store(QuorumState{Term(7), NodeId(3)}));  // Slot 0.
  Bytes slot(64);
  EXPECT_OK(node.disk().open("quorum_state", io::OpenMode::read_only).value()->read_exact(0, slot));
}

TEST(QuorumStateFile, ALostOrRottenStoreFallsBack) {
  for (uint64_t seed = 0; seed < 20; seed++) {
    SimNodeDisk node(seed);
    {
      auto file = QuorumStateFile::open(node.disk(), "quorum_state");
      ASSERT_OK(file);
      ASSERT_OK((*file)->store(QuorumState{Term(4), NodeId(1)}));
      // The next store's sync fails: its write may or may not have reached the disk.
      node.model().faults.fail_sync_countdown = 1;
      EXPECT_EQ((*file)->store(QuorumState{Term(5), NodeId(2)}).code(), ErrorCode::io_error);
      EXPECT_TRUE((*file)->failed());
      EXPECT_EQ((*file)->store(QuorumState{Term(6), NodeId(2)}).code(), ErrorCode::io_error);
    }
    node.crash();
    auto file = QuorumStateFile::open(node.disk(), "quorum_state");
    ASSERT_OK(file);
    const Term term = (*file)->state().current_term;
    EXPECT_TRUE(term == Term(4) || term == Term(5));
  }
  // A rotten newest slot: the previous record comes back.
  SimNodeDisk node(99);
  {
    auto file = QuorumStateFile::open(node.disk(), "quorum_state");
    ASSERT_OK(file);
    ASSERT_OK((*file)->store(QuorumState{Term(4), NodeId(1)}));
    ASSERT_OK((*file)->store(QuorumState{Term(5), NodeId(2)}));
  }
  // Rot in the newest record's alternate slot: its mirror still holds it (a vote must not be
  // forgotten: falling back to term 4 here would let this member vote twice in term 5).
  ASSERT_TRUE(node.image().rot_at("quorum_state", 0 * 4096 + 30, 1));  // Sequence 2: slot 0.
  auto file = QuorumStateFile::open(node.disk(), "quorum_state");
  ASSERT_OK(file);
  EXPECT_EQ((*file)->state().current_term, Term(5));
  EXPECT_EQ((*file)->state().voted_for, NodeId(2));
  // Every copy rotten: refused, not forgotten.
  ASSERT_TRUE(node.image().rot_at("quorum_state", 1 * 4096 + 30, 1));
  ASSERT_TRUE(node.image().rot_at("quorum_state", 2 * 4096 + 30, 1));
  EXPECT_EQ(QuorumStateFile::open(node.disk(), "quorum_state").code(), ErrorCode::corruption);
}

}  // namespace
}  // namespace quire::store
