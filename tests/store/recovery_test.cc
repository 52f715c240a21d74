// Goal: recovery's rules now that only the journal is synced on the commit path (docs/format.md,
// "Commit order, crashes and recovery"): a crash at every step of seal / lay_down, prepare and
// commit, under every crash fate, reopens at the last durable commit point; a prepared write
// set is held again from the journal even when its HALog is lost whole; a torn, partial,
// misdirected or mixed tail past the committed end is cut, never trusted; lost, torn and corrupt
// HALogs are rebuilt from the journal byte for byte; purged ones and a rebuilt history's are not.
// Method: members on SimNodeDisks without a runtime; crashes through DiskImage::crash, and
// crash outcomes placed by hand in the disk image where a fate must be exact. A member that never
// crashes is the reference for every HALog's bytes.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <tuple>

#include "store/file_names.h"
#include "store/halog_reader.h"
#include "tests/store/store_test_support.h"

namespace quire::store {
namespace {

using testing::commit_pending;
using testing::key_of;
using testing::SimNodeDisk;
using testing::value_of;

struct Member {
  explicit Member(uint64_t seed) : node(seed) { open(); }
  void open() {
    auto opened = node.open();
    QUIRE_ASSERT_MSG(opened.ok(), opened.error().to_string());
    journal = std::move(opened).value();
  }
  void crash(const sim::CrashFates& fates) {
    journal.reset();
    node.crash(fates);
    open();
  }
  // A clean close and reopen: nothing is lost, and the reopen settles the HALogs.
  void reopen() {
    journal.reset();
    open();
  }
  bool noted(std::string_view text) const {
    for (const std::string& note : journal->recovery_notes()) {
      if (note.find(text) != std::string::npos) return true;
    }
    return false;
  }
  // The journal lives in the data directory itself (small_options): valid with no journal open.
  static std::string halog(uint64_t counter) {
    return join_path(format::halog_directory_name,
                     counter_file_name(CommitCounter(counter), format::halog_file_suffix));
  }
  SimNodeDisk node;
  std::unique_ptr<Journal> journal;
};

void put_batch(Journal& journal, uint64_t first, uint64_t count, size_t value_size) {
  for (uint64_t index = first; index < first + count; index++) {
    QUIRE_ASSERT(journal.put(as_bytes(key_of(index)), as_bytes(value_of(index, value_size))).ok());
  }
}

// Leader seals; follower lays every block down; both prepare and commit.
void replicate(Journal& leader, Journal& follower, Term term) {
  auto sealed = leader.seal(term, 77);
  QUIRE_ASSERT(sealed.ok());
  for (const Bytes& block : sealed->blocks)
    QUIRE_ASSERT(follower.lay_down(block).ok());
  QUIRE_ASSERT(leader.commit(sealed->root).ok());
  QUIRE_ASSERT(follower.commit(sealed->root).ok());
}

// The file as a crash might have left it: durable and current are `bytes`, nothing pending.
void set_file(SimNodeDisk& node, const std::string& path, const Bytes& bytes) {
  auto& files = node.image().files();
  if (!files.contains(path)) files[path] = std::make_shared<sim::FileImage>();
  sim::FileImage& file = *files.at(path);
  file.durable = bytes;
  file.current = bytes;
  file.pending.clear();
  file.name_durable = true;
}

Bytes concatenated(const std::vector<Bytes>& blocks) {
  Bytes bytes;
  for (const Bytes& block : blocks)
    bytes.insert(bytes.end(), block.begin(), block.end());
  return bytes;
}

// Every HALog 1..through reads back complete and equal to the reference member's.
void expect_halogs_equal(Member& subject, Member& reference, uint64_t through) {
  for (uint64_t counter = 1; counter <= through; counter++) {
    auto mine = subject.journal->read_halog(CommitCounter(counter));
    auto theirs = reference.journal->read_halog(CommitCounter(counter));
    ASSERT_OK(mine);
    ASSERT_OK(theirs);
    EXPECT_EQ(*mine, *theirs) << "HALog " << counter;
  }
}

// Counts what costs a device flush: File::sync per path, and the directory syncs the real disk
// makes (a creation other than a volatile one, a rename, an unlink).
class CountingDisk : public io::Disk {
 public:
  explicit CountingDisk(io::Disk& disk) : disk_(disk) {}

  Result<std::unique_ptr<io::File>> open(std::string_view path, io::OpenMode mode) override {
    QUIRE_TRY_ASSIGN(const bool existed, disk_.exists(path));
    QUIRE_TRY_ASSIGN(std::unique_ptr<io::File> file, disk_.open(path, mode));
    if (!synced_size_bytes.contains(std::string(path))) {
      QUIRE_TRY_ASSIGN(synced_size_bytes[std::string(path)], file->size());
    }
    const bool durable_creation =
        mode == io::OpenMode::create_new || mode == io::OpenMode::create_or_open;
    if (!existed && durable_creation) directory_syncs++;
    return std::unique_ptr<io::File>(new CountingFile(std::move(file), *this, std::string(path)));
  }
  Status rename(std::string_view source, std::string_view target) override {
    directory_syncs++;
    return disk_.rename(source, target);
  }
  Status unlink(std::string_view path) override {
    directory_syncs++;
    return disk_.unlink(path);
  }
  Result<std::vector<std::string>> list(std::string_view directory) override {
    return disk_.list(directory);
  }
  Result<bool> exists(std::string_view path) override { return disk_.exists(path); }
  Status make_directory(std::string_view directory) override {
    return disk_.make_directory(directory);
  }

  std::map<std::string, int> file_syncs;
  // Syncs that found the file's size changed since its last sync (or since it was first opened):
  // on a real file system those write the inode too.
  std::map<std::string, int> size_changing_syncs;
  std::map<std::string, uint64_t> synced_size_bytes;
  int directory_syncs = 0;

 private:
  class CountingFile : public io::File {
   public:
    CountingFile(std::unique_ptr<io::File> file, CountingDisk& disk, std::string path)
        : file_(std::move(file)), disk_(disk), path_(std::move(path)) {}
    Result<size_t> read(uint64_t offset, MutableByteView target) override {
      return file_->read(offset, target);
    }
    Status write(uint64_t offset, ByteView source) override { return file_->write(offset, source); }
    Status sync() override {
      disk_.file_syncs[path_]++;
      QUIRE_TRY_ASSIGN(const uint64_t size, file_->size());
      if (disk_.synced_size_bytes[path_] != size) disk_.size_changing_syncs[path_]++;
      disk_.synced_size_bytes[path_] = size;
      return file_->sync();
    }
    Status truncate(uint64_t size_bytes) override { return file_->truncate(size_bytes); }
    Result<uint64_t> size() override { return file_->size(); }

   private:
    std::unique_ptr<io::File> file_;
    CountingDisk& disk_;
    std::string path_;
  };

  io::Disk& disk_;
};

// The point of the design: one commit costs one sync, of the journal (PREPARE's, which also makes
// the previous commit's root slot durable), and no directory sync, on the leader and on a
// follower alike. A growth of the journal's preallocated room adds one, which changes its size;
// PREPARE's never does (APrepareSyncChangesNoFileSizeOnceAllocated).
TEST(Recovery, ACommitSyncsTheJournalOnceAndNothingElse) {
  SimNodeDisk leader_node(20);
  SimNodeDisk follower_node(21);
  CountingDisk leader_disk(leader_node.disk());
  CountingDisk follower_disk(follower_node.disk());
  auto leader = Journal::open(leader_disk, testing::small_options());
  auto follower = Journal::open(follower_disk, testing::small_options());
  ASSERT_OK(leader);
  ASSERT_OK(follower);
  for (uint64_t round = 0; round < 5; round++) {
    leader_disk.file_syncs.clear();
    leader_disk.directory_syncs = 0;
    follower_disk.file_syncs.clear();
    follower_disk.directory_syncs = 0;
    put_batch(**leader, round * 100, 1 + round * 50, 100);
    replicate(**leader, **follower, Term(1));
    for (CountingDisk* disk : {&leader_disk, &follower_disk}) {
      EXPECT_EQ(
          disk->file_syncs,
          (std::map<std::string, int>{{"journal", 1 + disk->size_changing_syncs["journal"]}}));
      EXPECT_EQ(disk->directory_syncs, 0);
      disk->size_changing_syncs.clear();
    }
    EXPECT_TRUE((*leader)->root_unsynced());
    EXPECT_TRUE((*follower)->root_unsynced());
  }
}

// Goal: PREPARE's sync writes no file metadata: the journal's size never changes in it, because
// seal and lay_down grow the file ahead of the blocks (zeros, synced) when less than half a step
// is left. Growth syncs are few (each grows by at least a step), the room ahead stays under 1.5
// steps, and leader and follower files stay byte-identical, zeros included. Method: write sets
// of every size, one larger than a step, through a CountingDisk; sizes read around each prepare.
TEST(Recovery, APrepareSyncChangesNoFileSizeOnceAllocated) {
  SimNodeDisk leader_node(22);
  SimNodeDisk follower_node(23);
  CountingDisk leader_disk(leader_node.disk());
  CountingDisk follower_disk(follower_node.disk());
  const JournalOptions options = testing::small_options();
  auto leader = Journal::open(leader_disk, options);
  auto follower = Journal::open(follower_disk, options);
  ASSERT_OK(leader);
  ASSERT_OK(follower);
  const auto journal_size = [](SimNodeDisk& node) {
    return node.image().files().at("journal")->current.size();
  };
  const uint64_t counts[] = {1, 30, 300, 5, 1000, 2, 80, 1, 1, 400};
  uint64_t first = 0;
  for (const uint64_t count : counts) {
    put_batch(**leader, first, count, 150);
    first += count;
    auto sealed = (*leader)->seal(Term(1), 5);
    ASSERT_OK(sealed);
    for (const Bytes& block : sealed->blocks)
      ASSERT_OK((*follower)->lay_down(block));
    for (auto [node, disk, journal] :
         {std::tuple(&leader_node, &leader_disk, leader->get()),
          std::tuple(&follower_node, &follower_disk, follower->get())}) {
      const uint64_t size_before = journal_size(*node);
      const int syncs_before = disk->file_syncs["journal"];
      const int changing_before = disk->size_changing_syncs["journal"];
      ASSERT_OK(journal->prepare(sealed->root));
      EXPECT_EQ(journal_size(*node), size_before);
      EXPECT_EQ(disk->file_syncs["journal"], syncs_before + 1);
      EXPECT_EQ(disk->size_changing_syncs["journal"], changing_before);
      ASSERT_OK(journal->commit(sealed->root));
      EXPECT_TRUE(testing::only_zeros_past(node->current_bytes("journal"),
                                           journal->root().end_offset, options));
      EXPECT_GE(journal_size(*node),
                journal->root().end_offset + options.allocation_step_bytes / 2);
    }
    EXPECT_EQ(leader_node.current_bytes("journal"), follower_node.current_bytes("journal"));
  }
  ASSERT_GT((*leader)->root().end_offset, 4 * options.allocation_step_bytes);
  for (CountingDisk* disk : {&leader_disk, &follower_disk}) {
    const int growths = disk->size_changing_syncs["journal"];
    EXPECT_GE(growths, 2);
    EXPECT_LE(static_cast<uint64_t>(growths),
              journal_size(leader_node) / options.allocation_step_bytes + 1);
  }
}

// Goal: the zeros preallocation leaves past the committed end are kept by open (no cut, no
// note, held sets held as before), and anything that is not zeros past them goes whole: a later
// write set of the same counter, torn by a crash, must never find an older one's blocks to
// continue it. A latent sector error in the zeros is cut too when this member voted for nothing
// past the end. Method: journal files placed by hand in the disk image.
TEST(Recovery, PreallocatedZerosPastTheEndAreKeptAndAnythingAmongThemIsCut) {
  Member source(8);
  put_batch(*source.journal, 0, 60, 30);
  commit_pending(*source.journal);
  const uint64_t end = source.journal->root().end_offset;
  const Bytes committed = source.node.current_bytes("journal");
  ASSERT_TRUE(testing::only_zeros_past(committed, end));
  ASSERT_GT(committed.size(), end);
  put_batch(*source.journal, 60, 200, 100);
  auto sealed = source.journal->seal(Term(3), 0);
  ASSERT_OK(sealed);
  const Bytes whole = concatenated(sealed->blocks);
  ASSERT_OK(source.journal->rollback());
  const Bytes prefix(committed.begin(), committed.begin() + static_cast<std::ptrdiff_t>(end));
  const auto place = [&](Member& subject, const Bytes& tail, uint64_t size) {
    Bytes journal_bytes = prefix;
    journal_bytes.insert(journal_bytes.end(), tail.begin(), tail.end());
    journal_bytes.resize(size, 0);
    subject.journal.reset();
    set_file(subject.node, "journal", journal_bytes);
  };
  const uint64_t size = end + whole.size() + 3 * 4096;
  {
    SCOPED_TRACE("zeros only");
    Member subject(9);
    place(subject, Bytes(), size);
    subject.open();
    EXPECT_FALSE(subject.journal->uncommitted_counter().has_value());
    EXPECT_FALSE(subject.noted("cut"));
    EXPECT_EQ(subject.node.current_bytes("journal").size(), size);
  }
  {
    SCOPED_TRACE("a whole write set, then zeros");
    Member subject(10);
    place(subject, whole, size);
    subject.open();
    EXPECT_EQ(subject.journal->uncommitted_counter(), std::optional(CommitCounter(2)));
    EXPECT_TRUE(
        testing::only_zeros_past(subject.node.current_bytes("journal"), sealed->root.end_offset));
    ASSERT_OK(subject.journal->prepare(sealed->root));
  }
  {
    SCOPED_TRACE("zeros, then an older write set's last block further on");
    Member subject(11);
    Bytes tail(whole.size() - sealed->blocks.back().size(), 0);
    tail.insert(tail.end(), sealed->blocks.back().begin(), sealed->blocks.back().end());
    place(subject, tail, size);
    subject.open();
    EXPECT_FALSE(subject.journal->uncommitted_counter().has_value());
    EXPECT_TRUE(subject.noted("no whole write set"));
    EXPECT_EQ(subject.node.current_bytes("journal").size(), end);
  }
  {
    SCOPED_TRACE("a latent sector error in the zeros, no vote past the end");
    Member subject(12);
    place(subject, Bytes(), size);
    const uint64_t sector = (end + 4096 - 1) / 4096 * 4096;
    ASSERT_TRUE(subject.node.image().add_latent_error_at("journal", sector));
    subject.open();
    EXPECT_FALSE(subject.journal->uncommitted_counter().has_value());
    EXPECT_EQ(subject.node.current_bytes("journal").size(), end);
    // The next write set goes where the bad sector was: it was freed with the cut.
    put_batch(*subject.journal, 60, 200, 100);
    commit_pending(*subject.journal);
  }
}

enum class Role { leader, follower };
enum class Step {
  laid_down_part,       // Follower only: some blocks of the write set.
  written,              // Seal (leader) or every block laid down (follower).
  prepare_sync_failed,  // PREPARE's sync of the journal failed.
  prepared,
  committed,         // COMMIT wrote the root slot, unsynced: it may or may not reach the disk.
  root_sync_failed,  // The sync of the committed root failed (the next write set's, or idle).
  committed_synced,  // The root slot was synced (sync_committed, or the next prepare's sync).
};

struct CrashCase {
  Role role;
  Step step;
};

class CrashAtEveryStep : public ::testing::TestWithParam<CrashCase> {};

TEST_P(CrashAtEveryStep, ReopensAtTheLastDurableCommitPointUnderEveryFate) {
  const auto [role, step] = GetParam();
  if (role == Role::leader && step == Step::laid_down_part) GTEST_SKIP() << "a seal writes all";
  const std::vector<sim::CrashFates> fates = {
      {1.0, 0.0, 0.0}, {0.0, 1.0, 0.0}, {0.1, 0.1, 1.0}, {1.0, 1.0, 1.0}};
  for (size_t fate_index = 0; fate_index < fates.size(); fate_index++) {
    for (uint64_t seed = 0; seed < 8; seed++) {
      SCOPED_TRACE(::testing::Message() << "fate " << fate_index << " seed " << seed);
      // The subject crashes; the reference never does. Two commit points first, written in the
      // same session as the crash (so their HALogs are not durable yet either).
      Member leader(1000 + seed);
      Member follower(2000 + seed);
      for (uint64_t round = 0; round < 2; round++) {
        put_batch(*leader.journal, round * 50, 120, 60);
        replicate(*leader.journal, *follower.journal, Term(1));
      }
      // Commit point 2's root slot is durable (the driver syncs within two ticks).
      ASSERT_OK(leader.journal->sync_committed());
      ASSERT_OK(follower.journal->sync_committed());
      Member& subject = role == Role::leader ? leader : follower;
      Member& reference = role == Role::leader ? follower : leader;
      put_batch(*leader.journal, 500, 300, 70);
      auto sealed = leader.journal->seal(Term(2), 99);
      ASSERT_OK(sealed);
      ASSERT_GE(sealed->blocks.size(), 2u);
      const size_t laid =
          step == Step::laid_down_part ? sealed->blocks.size() - 1 : sealed->blocks.size();
      for (size_t index = 0; index < laid; index++) {
        ASSERT_OK(follower.journal->lay_down(sealed->blocks[index]));
      }
      // The reference holds and commits the same write set, cleanly.
      if (role == Role::leader) {
        for (size_t index = laid; index < sealed->blocks.size(); index++) {
          ASSERT_OK(follower.journal->lay_down(sealed->blocks[index]));
        }
      }
      ASSERT_OK(reference.journal->commit(sealed->root));
      Journal& journal = *subject.journal;
      if (step == Step::prepare_sync_failed) {
        subject.node.model().faults.fail_sync_countdown = 1;
        EXPECT_EQ(journal.prepare(sealed->root).code(), ErrorCode::io_error);
      }
      if (step >= Step::prepared) ASSERT_OK(journal.prepare(sealed->root));
      if (step >= Step::committed) ASSERT_OK(journal.commit(sealed->root));
      if (step == Step::root_sync_failed) {
        subject.node.model().faults.fail_sync_countdown = 1;
        EXPECT_EQ(journal.sync_committed().code(), ErrorCode::io_error);
      }
      if (step == Step::committed_synced) ASSERT_OK(journal.sync_committed());
      subject.node.model().faults.fail_sync_countdown = 0;

      subject.crash(fates[fate_index]);
      Journal& reopened = *subject.journal;
      const uint64_t committed = reopened.commit_counter().value();
      if (step == Step::committed_synced) {
        EXPECT_EQ(committed, 3u);
      } else if (step == Step::committed || step == Step::root_sync_failed) {
        EXPECT_TRUE(committed == 2 || committed == 3) << committed;
      } else {
        EXPECT_EQ(committed, 2u);
      }
      const bool held = reopened.uncommitted_counter().has_value();
      // A set PREPARE made durable is held again; one never whole never is; with every write
      // kept, a whole unsynced one is too; with every write lost, nothing unsynced survives.
      // A commit whose root a crash lost leaves its write set held (prepare synced it).
      if (committed == 2 && step >= Step::prepared) {
        EXPECT_TRUE(held);
      }
      if (step == Step::laid_down_part) {
        EXPECT_FALSE(held);
      }
      if (step == Step::written && fate_index == 0) {
        EXPECT_TRUE(held);
      }
      if (step == Step::written && fate_index == 1) {
        EXPECT_FALSE(held);
      }
      uint64_t end = reopened.root().end_offset;
      if (held) {
        EXPECT_EQ(*reopened.uncommitted_counter(), CommitCounter(3));
        auto blocks = reopened.uncommitted_blocks();
        ASSERT_OK(blocks);
        EXPECT_EQ(*blocks, sealed->blocks);
        end = sealed->root.end_offset;
        EXPECT_TRUE(subject.node.image().files().contains(subject.halog(3)));
      } else if (committed == 2) {
        EXPECT_FALSE(subject.node.image().files().contains(subject.halog(3)));
      }
      EXPECT_TRUE(testing::only_zeros_past(subject.node.current_bytes("journal"), end));
      expect_halogs_equal(subject, reference, committed);
      // The engine then commits a held set (a re-proposal under a newer term), and every HALog,
      // rebuilt or not, equals the reference's.
      if (held) {
        ASSERT_OK(reopened.commit(sealed->root));
        ASSERT_OK(reopened.sync_committed());
        expect_halogs_equal(subject, reference, 3);
      }
      subject.crash(sim::CrashFates{0.0, 1.0, 0.0});
      EXPECT_FALSE(subject.journal->uncommitted_counter().has_value());
      expect_halogs_equal(subject, reference, subject.journal->commit_counter().value());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(SealPrepareCommit, CrashAtEveryStep,
                         ::testing::Values(CrashCase{Role::leader, Step::written},
                                           CrashCase{Role::leader, Step::prepare_sync_failed},
                                           CrashCase{Role::leader, Step::prepared},
                                           CrashCase{Role::leader, Step::committed},
                                           CrashCase{Role::leader, Step::root_sync_failed},
                                           CrashCase{Role::leader, Step::committed_synced},
                                           CrashCase{Role::follower, Step::laid_down_part},
                                           CrashCase{Role::follower, Step::written},
                                           CrashCase{Role::follower, Step::prepare_sync_failed},
                                           CrashCase{Role::follower, Step::prepared},
                                           CrashCase{Role::follower, Step::committed},
                                           CrashCase{Role::follower, Step::root_sync_failed},
                                           CrashCase{Role::follower, Step::committed_synced}));

// PREPARE syncs the journal only. Its HALog, created without a directory sync and never synced,
// may be lost whole; the blocks past the committed end still hold the write set, and the vote.
TEST(Recovery, APreparedWriteSetSurvivesACrashThatLosesItsHALog) {
  Member leader(1);
  Member follower(2);
  put_batch(*leader.journal, 0, 100, 40);
  replicate(*leader.journal, *follower.journal, Term(1));
  put_batch(*leader.journal, 100, 400, 90);
  auto sealed = leader.journal->seal(Term(1), 5);
  ASSERT_OK(sealed);
  for (const Bytes& block : sealed->blocks)
    ASSERT_OK(follower.journal->lay_down(block));
  ASSERT_OK(follower.journal->prepare(sealed->root));
  follower.crash(sim::CrashFates{0.0, 1.0, 0.0});
  EXPECT_TRUE(follower.noted("from the journal"));
  ASSERT_EQ(follower.journal->uncommitted_counter(), std::optional(CommitCounter(2)));
  auto blocks = follower.journal->uncommitted_blocks();
  ASSERT_OK(blocks);
  EXPECT_EQ(*blocks, sealed->blocks);
  // Its HALog is rebuilt from the blocks (no closing root yet): torn, every block there.
  const HALogScan scan = HALogReader::scan(follower.node.current_bytes(follower.halog(2)));
  EXPECT_EQ(scan.state, HALogState::torn);
  EXPECT_TRUE(scan.last_block_seen);
  // The vote stands: a re-proposal under a new term commits it.
  RootBlock reproposed = sealed->root;
  reproposed.term = Term(2);
  ASSERT_OK(follower.journal->prepare(reproposed));
  ASSERT_OK(follower.journal->commit(reproposed));
  ASSERT_OK(leader.journal->commit(reproposed));
  expect_halogs_equal(follower, leader, 2);
}

// One sync per commit point: the vote for the held write set is its prepared record, durable
// with the blocks. After a crash the journal names it (recovered_prepared), and a re-proposal
// under a newer term writes a new record into the other slot.
TEST(Recovery, ThePreparedRecordIsTheVoteThatSurvivesACrash) {
  Member leader(31);
  Member follower(32);
  put_batch(*leader.journal, 0, 100, 40);
  replicate(*leader.journal, *follower.journal, Term(1));
  ASSERT_OK(follower.journal->sync_committed());
  put_batch(*leader.journal, 100, 50, 90);
  auto sealed = leader.journal->seal(Term(1), 5);
  ASSERT_OK(sealed);
  for (const Bytes& block : sealed->blocks)
    ASSERT_OK(follower.journal->lay_down(block));
  ASSERT_OK(follower.journal->prepare(sealed->root));
  RootBlock reproposed = sealed->root;
  reproposed.term = Term(4);
  ASSERT_OK(follower.journal->prepare(reproposed));
  follower.crash(sim::CrashFates{0.0, 1.0, 0.0});
  EXPECT_EQ(follower.journal->recovered_prepared(), std::optional<RootBlock>(reproposed));
  EXPECT_EQ(follower.journal->uncommitted_counter(), std::optional(CommitCounter(2)));
  // Rot in the newest record's alternate slot leaves its mirror; rot in both leaves the vote
  // before it, never none.
  ASSERT_TRUE(follower.node.image().rot_at("journal", prepared_slot_offset(1) + 40, 3));
  follower.crash(sim::CrashFates{0.0, 1.0, 0.0});
  EXPECT_EQ(follower.journal->recovered_prepared(), std::optional<RootBlock>(reproposed));
  EXPECT_TRUE(follower.noted("prepared slot 1 refused"));
  ASSERT_TRUE(follower.node.image().rot_at(  // Slot 1 is still rotten.
      "journal", prepared_slot_offset(format::prepared_mirror_slot) + 40, 3));
  follower.crash(sim::CrashFates{0.0, 1.0, 0.0});
  EXPECT_EQ(follower.journal->recovered_prepared(), std::optional<RootBlock>(sealed->root));
}

// The root slot of commit point N rots (or a crash lost it before its sync) while the journal
// holds the prepared record for N+1, which names root N as committed: open rolls forward to N
// from the record instead of falling back to N-1 and forgetting the vote for N+1.
TEST(Recovery, ALostRootIsRolledForwardFromTheNewestPreparedRecord) {
  Member member(33);
  put_batch(*member.journal, 0, 100, 40);
  commit_pending(*member.journal);
  put_batch(*member.journal, 100, 100, 40);
  const WriteSet second = commit_pending(*member.journal);
  put_batch(*member.journal, 200, 100, 40);
  auto third = member.journal->seal(Term(1), 9);
  ASSERT_OK(third);
  ASSERT_OK(member.journal->prepare(third->root));
  member.journal.reset();
  ASSERT_TRUE(
      member.node.image().rot_at("journal", JournalFile::slot_offset(CommitCounter(2)) + 20, 1));
  member.open();
  EXPECT_TRUE(member.noted("rolled forward to commit point 2 from prepared record"));
  EXPECT_EQ(member.journal->root(), second.root);
  EXPECT_EQ(member.journal->uncommitted_counter(), std::optional(CommitCounter(3)));
  EXPECT_EQ(member.journal->recovered_prepared(), std::optional<RootBlock>(third->root));
  // When the write set's bytes rotted too (and its HALog is gone), open cannot roll forward: it
  // stays at 1, and the vote past 1 + 1 tells the engine this member lost its history
  // (engine/node.cc).
  member.journal.reset();
  ASSERT_TRUE(
      member.node.image().rot_at("journal", JournalFile::slot_offset(CommitCounter(2)) + 20, 1));
  ASSERT_TRUE(member.node.image().rot_at("journal", second.root.write_set_begin_offset + 90, 2));
  member.node.image().files().erase(member.halog(2));  // Else open rolls forward from it.
  member.open();
  EXPECT_TRUE(member.noted("whose write set does not read back"));
  EXPECT_EQ(member.journal->commit_counter(), CommitCounter(1));
  EXPECT_EQ(member.journal->recovered_prepared(), std::optional<RootBlock>(third->root));
}

// Format version 2 changed the journal's head: a journal of another version is refused with a
// message that says so, not taken for a damaged one (which a group member would set aside).
TEST(Recovery, AJournalOfAnotherFormatVersionIsRefusedWithAClearMessage) {
  Member member(34);
  put_batch(*member.journal, 0, 10, 40);
  commit_pending(*member.journal);
  member.journal.reset();
  Bytes bytes = member.node.current_bytes("journal");
  for (uint64_t slot = 0; slot < format::root_slot_count; slot++) {
    uint8_t* root = bytes.data() + slot * format::root_slot_size_bytes;
    store_le<uint16_t>(root + format::root_block_field::version, 1);
    store_le<uint64_t>(root + format::root_block_field::checksum,
                       checksum64(ByteView(root, format::root_block_field::checksum)));
  }
  set_file(member.node, "journal", bytes);
  auto opened = Journal::open(member.node.disk(), testing::small_options());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.code(), ErrorCode::invalid_argument);
  EXPECT_NE(opened.error().message().find("format version 1 and this build reads version 2"),
            std::string::npos)
      << opened.error().message();
}

// A rolled-back write set must not come back from the journal or its HALog after a crash,
// whatever the crash keeps: rollback syncs its truncate before it deletes the HALog.
TEST(Recovery, ARolledBackWriteSetStaysRolledBack) {
  for (const sim::CrashFates fates :
       {sim::CrashFates{1.0, 0.0, 0.0}, sim::CrashFates{0.0, 1.0, 0.0},
        sim::CrashFates{1.0, 1.0, 1.0}}) {
    Member member(3);
    put_batch(*member.journal, 0, 50, 30);
    commit_pending(*member.journal);
    put_batch(*member.journal, 50, 200, 30);
    auto sealed = member.journal->seal(Term(1), 0);
    ASSERT_OK(sealed);
    ASSERT_OK(member.journal->prepare(sealed->root));
    ASSERT_OK(member.journal->rollback());
    member.crash(fates);
    EXPECT_EQ(member.journal->commit_counter(), CommitCounter(1));
    EXPECT_FALSE(member.journal->uncommitted_counter().has_value());
    EXPECT_EQ(member.node.current_bytes("journal").size(), member.journal->root().end_offset);
    EXPECT_FALSE(member.node.image().files().contains(member.halog(2)));
  }
}

// What lies past the committed end is untrusted: only a whole write set N+1 (checksums, counter,
// sequence, offsets, one term, ending with the last block) is held; anything else is cut.
TEST(Recovery, ATornOrForeignTailPastTheCommittedEndIsCut) {
  Member source(4);  // Writes the blocks placed by hand.
  put_batch(*source.journal, 0, 60, 30);
  commit_pending(*source.journal);
  put_batch(*source.journal, 60, 500, 100);
  auto sealed = source.journal->seal(Term(3), 0);
  ASSERT_OK(sealed);
  const std::vector<Bytes>& blocks = sealed->blocks;
  ASSERT_GE(blocks.size(), 3u);
  // The same write set sealed by another leader in another term: same lengths, other headers.
  Member other(5);
  put_batch(*other.journal, 0, 60, 30);
  commit_pending(*other.journal);
  put_batch(*other.journal, 60, 500, 100);
  auto other_sealed = other.journal->seal(Term(4), 0);
  ASSERT_OK(other_sealed);
  ASSERT_EQ(other_sealed->blocks.size(), blocks.size());
  ASSERT_EQ(other_sealed->blocks[1].size(), blocks[1].size());
  ASSERT_OK(source.journal->rollback());
  ASSERT_OK(other.journal->rollback());

  struct Case {
    const char* name;
    bool held;
    std::function<Bytes()> tail;
  };
  const Bytes whole = concatenated(blocks);
  const std::vector<Case> cases = {
      {"whole", true, [&] { return whole; }},
      {"whole, then an older longer tail", true,
       [&] {
         Bytes tail = whole;
         tail.insert(tail.end(), blocks[0].begin(), blocks[0].end());
         return tail;
       }},
      {"the last block missing", false,
       [&] {
         return concatenated({blocks.begin(), blocks.end() - 1});
       }},
      {"the last block cut short", false, [&] { return Bytes(whole.begin(), whole.end() - 100); }},
      {"a sector of block 1 never written", false,
       [&] {
         Bytes tail = whole;
         const size_t at = blocks[0].size() + blocks[1].size() / 2;
         std::fill(tail.begin() + static_cast<std::ptrdiff_t>(at),
                   tail.begin() + static_cast<std::ptrdiff_t>(at + 100), 0);
         return tail;
       }},
      {"one bit flipped", false,
       [&] {
         Bytes tail = whole;
         tail[tail.size() / 2] ^= 4;
         return tail;
       }},
      {"block 1 misdirected a sector further", false,
       [&] {
         Bytes tail = blocks[0];
         tail.resize(tail.size() + 4096, 0);
         tail.insert(tail.end(), blocks[1].begin(), blocks[1].end());
         return tail;
       }},
      {"block 1 from another term's write set", false,
       [&] {
         Bytes tail = blocks[0];
         for (size_t index = 1; index < blocks.size(); index++) {
           const Bytes& block = index == 1 ? other_sealed->blocks[1] : blocks[index];
           tail.insert(tail.end(), block.begin(), block.end());
         }
         return tail;
       }},
      {"blocks of an older write set", false,
       [&] {
         auto committed = source.journal->read_raw(
             source.journal->root().write_set_begin_offset,
             source.journal->root().end_offset - source.journal->root().write_set_begin_offset);
         QUIRE_ASSERT(committed.ok());
         return *committed;
       }},
  };
  const Bytes prefix = source.node.current_bytes("journal");
  for (const Case& each : cases) {
    SCOPED_TRACE(each.name);
    Member subject(6);
    // The committed prefix at commit point 1, as the source holds it, then the tail; no HALog 2.
    Bytes journal_bytes = prefix;
    const Bytes tail = each.tail();
    journal_bytes.insert(journal_bytes.end(), tail.begin(), tail.end());
    subject.journal.reset();
    set_file(subject.node, "journal", journal_bytes);
    subject.open();
    ASSERT_EQ(subject.journal->commit_counter(), CommitCounter(1));
    EXPECT_EQ(subject.journal->uncommitted_counter().has_value(), each.held);
    if (each.held) {
      auto held = subject.journal->uncommitted_blocks();
      ASSERT_OK(held);
      EXPECT_EQ(*held, blocks);
      EXPECT_TRUE(
          testing::only_zeros_past(subject.node.current_bytes("journal"), sealed->root.end_offset));
      EXPECT_TRUE(subject.noted("from the journal"));
    } else {
      EXPECT_EQ(subject.node.current_bytes("journal").size(), subject.journal->root().end_offset);
      EXPECT_EQ(subject.node.image().files().at("journal")->durable.size(),
                subject.journal->root().end_offset);
      EXPECT_TRUE(subject.noted("no whole write set"));
    }
  }
}

// A whole write set that reached the disk in its HALog but not (whole) in the journal, the
// write set never prepared, is held again as before: from the HALog's blocks.
TEST(Recovery, AWholeHALogHoldsTheWriteSetWhenTheJournalsCopyIsTorn) {
  Member member(7);
  put_batch(*member.journal, 0, 60, 30);
  commit_pending(*member.journal);
  put_batch(*member.journal, 60, 500, 100);
  auto sealed = member.journal->seal(Term(1), 0);
  ASSERT_OK(sealed);
  const Bytes halog = member.node.current_bytes(member.halog(2));
  Bytes journal_bytes = member.node.current_bytes("journal");
  // The last block did not all land (zeros, the room allocated ahead, where it should be).
  std::fill(journal_bytes.begin() + static_cast<std::ptrdiff_t>(sealed->root.end_offset - 5000),
            journal_bytes.begin() + static_cast<std::ptrdiff_t>(sealed->root.end_offset), 0);
  member.journal.reset();
  set_file(member.node, "journal", journal_bytes);
  set_file(member.node, member.halog(2), halog);
  member.open();
  EXPECT_TRUE(member.noted("from its HALog"));
  ASSERT_EQ(member.journal->uncommitted_counter(), std::optional(CommitCounter(2)));
  auto blocks = member.journal->uncommitted_blocks();
  ASSERT_OK(blocks);
  EXPECT_EQ(*blocks, sealed->blocks);
  ASSERT_OK(member.journal->commit(sealed->root));
  EXPECT_OK(member.journal->read_halog(CommitCounter(2)));
}

// COMMIT writes the HALog's closing root, then the root slot, then syncs the journal. A crash
// that loses the slot keeps the commit if the complete HALog survived (roll forward), and holds
// the write set again if it did not (the blocks were synced by PREPARE).
TEST(Recovery, ALostRootSlotRollsForwardOrHoldsAgain) {
  for (const bool halog_survived : {true, false}) {
    SCOPED_TRACE(halog_survived ? "HALog survived" : "HALog lost");
    Member member(8);
    put_batch(*member.journal, 0, 60, 30);
    commit_pending(*member.journal);
    member.reopen();  // Commit point 1 and its HALog settled.
    put_batch(*member.journal, 60, 300, 100);
    const WriteSet committed = commit_pending(*member.journal);
    const RootBlock root = member.journal->root();
    const Bytes halog = member.node.current_bytes(member.halog(2));
    Bytes journal_bytes = member.node.current_bytes("journal");
    const uint64_t slot = JournalFile::slot_offset(CommitCounter(2));
    std::fill(journal_bytes.begin() + static_cast<std::ptrdiff_t>(slot),
              journal_bytes.begin() + static_cast<std::ptrdiff_t>(slot + 4096), 0);
    member.journal.reset();
    set_file(member.node, "journal", journal_bytes);
    if (halog_survived) {
      set_file(member.node, member.halog(2), halog);
    } else {
      member.node.image().files().erase(member.halog(2));
    }
    member.open();
    if (halog_survived) {
      EXPECT_TRUE(member.noted("rolled forward to commit point 2"));
      EXPECT_EQ(member.journal->root(), root);
      EXPECT_FALSE(member.journal->uncommitted_counter().has_value());
    } else {
      EXPECT_EQ(member.journal->commit_counter(), CommitCounter(1));
      ASSERT_EQ(member.journal->uncommitted_counter(), std::optional(CommitCounter(2)));
      auto blocks = member.journal->uncommitted_blocks();
      ASSERT_OK(blocks);
      EXPECT_EQ(*blocks, committed.blocks);
      ASSERT_OK(member.journal->commit(root));
    }
    auto bytes = member.journal->read_halog(CommitCounter(2));
    ASSERT_OK(bytes);
    EXPECT_EQ(*bytes, halog);
  }
}

// Open settles the HALogs written since the last open: it rebuilds a missing, torn or corrupt
// one from the journal, byte for byte, and syncs them; one whose journal bytes rotted too is
// reported and left unservable.
TEST(Recovery, OpenRebuildsMissingTornAndCorruptHALogs) {
  Member member(9);
  std::vector<Bytes> written(6);
  for (uint64_t counter = 1; counter <= 5; counter++) {
    put_batch(*member.journal, counter * 100, 150, 80);
    commit_pending(*member.journal);
    written[counter] = member.node.current_bytes(member.halog(counter));
  }
  const RootBlock root = member.journal->root();
  member.journal.reset();
  // As a crash could leave them: 1 intact, 2 torn at its end, 3 with a block sector lost but its
  // closing root kept (the scan calls that corrupt), 4 gone, 5 torn and the journal's copy of
  // write set 5 rotten (its first block; the commit-record index at its end stays readable).
  set_file(member.node, member.halog(1), written[1]);
  set_file(member.node, member.halog(2), Bytes(written[2].begin(), written[2].end() - 300));
  Bytes corrupt = written[3];
  std::fill(corrupt.begin() + 300, corrupt.begin() + 700, 0);
  set_file(member.node, member.halog(3), corrupt);
  member.node.image().files().erase(member.halog(4));
  set_file(member.node, member.halog(5), Bytes(written[5].begin(), written[5].begin() + 100));
  ASSERT_TRUE(member.node.image().rot_at("journal", root.write_set_begin_offset + 100, 1));
  member.open();
  EXPECT_EQ(member.journal->root(), root);
  for (uint64_t counter = 1; counter <= 4; counter++) {
    auto bytes = member.journal->read_halog(CommitCounter(counter));
    ASSERT_OK(bytes);
    EXPECT_EQ(*bytes, written[counter]) << counter;
    EXPECT_EQ(member.node.image().files().at(member.halog(counter))->durable, written[counter]);
  }
  EXPECT_TRUE(member.noted("rebuilt HALog 2 from the journal (torn"));
  EXPECT_TRUE(member.noted("rebuilt HALog 3 from the journal (corrupt"));
  EXPECT_TRUE(member.noted("rebuilt HALog 4 from the journal (missing)"));
  EXPECT_TRUE(member.noted("cannot be rebuilt from the journal"));
  EXPECT_FALSE(member.journal->read_halog(CommitCounter(5)).ok());
}

// Settling is not allowed to keep the journal from opening: a failed sync of an HALog stops it
// there, leaves the mark before that HALog, and the next open finishes.
TEST(Recovery, AFailedSyncWhileSettlingLeavesTheRestForTheNextOpen) {
  Member member(14);
  for (uint64_t counter = 1; counter <= 3; counter++) {
    put_batch(*member.journal, counter * 10, 20, 50);
    commit_pending(*member.journal);
  }
  member.journal.reset();
  // Open syncs HALog 1, then HALog 2: that one fails.
  member.node.model().faults.fail_sync_countdown = 2;
  member.open();
  EXPECT_TRUE(member.noted("stopped settling HALogs at 2"));
  EXPECT_EQ(member.journal->commit_counter(), CommitCounter(3));
  EXPECT_FALSE(member.journal->failed());
  const auto mark = [&](uint64_t counter) {
    return member.node.image().files().contains(
        "halog/" + counter_file_name(CommitCounter(counter), format::halog_settled_mark_suffix));
  };
  EXPECT_TRUE(mark(1));
  put_batch(*member.journal, 100, 20, 50);
  commit_pending(*member.journal);
  member.crash(sim::CrashFates{0.0, 1.0, 0.0});
  EXPECT_TRUE(mark(4));
  for (uint64_t counter = 1; counter <= 4; counter++) {
    EXPECT_OK(member.journal->read_halog(CommitCounter(counter)));
  }
}

// fsyncgate: PREPARE's sync fails and drops the write set from the disk, while the page cache
// still shows it. The process restarts (the machine does not): open finds the write set past the
// committed end and holds it; prepare's sync must then really persist it, or a commit would
// point at blocks a crash loses. Across seeds, since the failed sync drops each write by chance.
TEST(Recovery, AWriteSetAFailedSyncDroppedIsWrittenAgainBeforeItIsPrepared) {
  for (uint64_t seed = 0; seed < 12; seed++) {
    Member member(100 + seed);
    put_batch(*member.journal, 0, 50, 40);
    commit_pending(*member.journal);
    put_batch(*member.journal, 100, 80, 300);
    auto sealed = member.journal->seal(Term(1), 2000);
    ASSERT_OK(sealed);
    member.node.model().faults.fail_sync_countdown = 1;
    ASSERT_FALSE(member.journal->prepare(sealed->root).ok());
    member.reopen();  // The process restarts on the same page cache.
    ASSERT_EQ(member.journal->uncommitted_counter(), CommitCounter(2)) << seed;
    ASSERT_OK(member.journal->prepare(sealed->root));
    ASSERT_OK(member.journal->commit(sealed->root));
    ASSERT_OK(member.journal->sync_committed());
    member.crash(sim::CrashFates{0.0, 1.0, 0.0});
    EXPECT_EQ(member.journal->commit_counter(), CommitCounter(2)) << seed;
    EXPECT_EQ(member.journal->root(), sealed->root) << seed;
  }
}

// The settled mark keeps purges: HALogs the engine purged are not rebuilt after a crash, while
// every retained one written since is.
TEST(Recovery, PurgedHALogsAreNotRebuilt) {
  Member member(10);
  for (uint64_t counter = 1; counter <= 8; counter++) {
    put_batch(*member.journal, counter * 10, 20, 50);
    commit_pending(*member.journal);
  }
  ASSERT_OK(member.journal->purge_halogs_through(CommitCounter(5)));
  for (uint64_t counter = 9; counter <= 10; counter++) {
    put_batch(*member.journal, counter * 10, 20, 50);
    commit_pending(*member.journal);
  }
  member.crash(sim::CrashFates{0.0, 1.0, 0.0});
  auto counters = member.journal->halog_counters();
  ASSERT_OK(counters);
  EXPECT_EQ(*counters,
            (std::vector<CommitCounter>{CommitCounter(6), CommitCounter(7), CommitCounter(8),
                                        CommitCounter(9), CommitCounter(10)}));
  for (uint64_t counter = 6; counter <= 10; counter++) {
    EXPECT_OK(member.journal->read_halog(CommitCounter(counter)));
  }
  auto names = member.node.disk().list("halog");
  ASSERT_OK(names);
  EXPECT_EQ(std::count(names->begin(), names->end(),
                       counter_file_name(CommitCounter(10), format::halog_settled_mark_suffix)),
            1);
  EXPECT_EQ(names->size(), 6u);  // Five HALogs and one mark.
}

// A journal from before settled marks: its HALogs were synced, and those missing below the
// lowest were purged. Open takes that as settled, and writes a mark.
TEST(Recovery, AJournalWithoutASettledMarkKeepsItsPurges) {
  Member member(11);
  for (uint64_t counter = 1; counter <= 6; counter++) {
    put_batch(*member.journal, counter * 10, 20, 50);
    commit_pending(*member.journal);
  }
  ASSERT_OK(member.journal->purge_halogs_through(CommitCounter(2)));
  member.reopen();
  member.journal.reset();
  member.node.image().files().erase(
      "halog/" + counter_file_name(CommitCounter(6), format::halog_settled_mark_suffix));
  member.node.image().files().erase(member.halog(5));
  member.open();
  EXPECT_TRUE(member.noted("no settled mark: HALogs up to 2 are taken as settled"));
  EXPECT_TRUE(member.noted("rebuilt HALog 5 from the journal (missing)"));
  auto counters = member.journal->halog_counters();
  ASSERT_OK(counters);
  EXPECT_EQ(counters->front(), CommitCounter(3));
  EXPECT_EQ(counters->size(), 4u);
}

// After a rebuild the member never held the copied commit points' HALogs: a crash does not make
// it write them all, while the HALogs it writes afterwards are rebuilt as usual.
TEST(Recovery, ARebuildDoesNotRecreateTheCopiedHistory) {
  Member source(12);
  Member target(13);
  for (uint64_t round = 0; round < 5; round++) {
    put_batch(*source.journal, round * 100, 100, 50);
    commit_pending(*source.journal);
  }
  const RootBlock root = source.journal->root();
  ASSERT_OK(target.journal->begin_install(root));
  auto bytes = source.journal->read_raw(format::data_region_begin_offset,
                                        root.end_offset - format::data_region_begin_offset);
  ASSERT_OK(bytes);
  ASSERT_OK(target.journal->install_chunk(format::data_region_begin_offset, *bytes));
  ASSERT_OK(target.journal->finish_install());
  put_batch(*source.journal, 900, 100, 50);
  commit_pending(*source.journal);
  auto halog = HALogReader::parse(*source.journal->read_halog(CommitCounter(6)));
  ASSERT_OK(halog);
  ASSERT_OK(target.journal->replay(*halog));
  ASSERT_OK(target.journal->sync_committed());
  target.crash(sim::CrashFates{0.0, 1.0, 0.0});
  EXPECT_EQ(target.journal->commit_counter(), CommitCounter(6));
  auto counters = target.journal->halog_counters();
  ASSERT_OK(counters);
  EXPECT_EQ(*counters, std::vector<CommitCounter>{CommitCounter(6)});
  auto mine = target.journal->read_halog(CommitCounter(6));
  ASSERT_OK(mine);
  EXPECT_EQ(*mine, Bytes(halog->bytes().begin(), halog->bytes().end()));
}

}  // namespace
}  // namespace quire::store
