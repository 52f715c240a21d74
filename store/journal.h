// Journal: the store as the replication engine sees it. One journal file (journal_file.h), its
// HALog directory (halog_writer.h) and its snapshot directory, all on one io::Disk, under
// JournalOptions::directory. See store/README.md ("API for the engine") and docs/format.md.
//
// States. The journal holds a committed state (root(), the last commit point), and on top of it
// at most one uncommitted write set ("held"): sealed by this member as leader, or laid down block
// by block as follower. On a leader a pending layer of puts and removes sits on top of both.
//
//   leader:   put/remove ... seal(term, time) -> WriteSet   [more puts go into a new pending layer]
//             prepare(root) -> commit(root)  |  rollback()
//   follower: lay_down(block) ... prepare(root) -> commit(root)  |  rollback()
//   resync:   replay(HALogReader)            rebuild: begin_install / install_chunk /
//   finish_install
//
// Durability. seal and lay_down write unsynced, to the journal and to the HALog. prepare writes
// the prepared record and syncs the journal (the write set's blocks past the committed end and
// the vote are then durable: a member may vote YES). commit appends the closing root block to
// the HALog and writes the root block into its slot, unsynced: the root is durable at the next
// sync of the journal. One sync per commit point. HALogs are never synced on that path, nor their
// creation (derived data: open rebuilds them from the journal). rollback truncates to the
// committed end and syncs, so a rolled-back write set never comes back. Below the committed end
// offset no byte ever changes (only the root and prepared slots at the head are rewritten); the
// journal never reclaims space.
//
// Preallocation. The file's size is not the end of its data: seal and lay_down first grow it
// with zeros, synced, to a multiple of JournalOptions::allocation_step_bytes at least half a step
// past the bytes they are about to write, so that prepare's sync overwrites allocated blocks and
// changes no file metadata. Open keeps those zeros and cuts anything else past the end.
//
// Failed syncs. A sync that fails may have dropped the data it was asked to persist (Linux
// fsync semantics). The journal then refuses every further write with io_error (failed() is
// true) until it is reopened, which recovers from what the disk really holds.
//
// Recovery (open, journal_recovery.cc): picks the valid root slot with the highest counter N,
// then:
//   - HALog N+1 complete (its closing root is written at COMMIT, after the quorum decided):
//     replayed, rolling the journal forward to N+1; the rules then apply to N+2.
//   - A whole write set N+1 past the committed end (every block checks and continues the last,
//     up to the block flagged last) is held again, as if laid down (uncommitted_counter() ==
//     N+1), because this member may have voted YES for it (PREPARE synced it). Failing that, an
//     HALog N+1 holding every block does the same. The engine commits it, re-proposes it or
//     rolls it back. Zeros past the committed end (the room preallocation grew) are kept;
//     anything else there is cut (truncated and synced), zeros around it included.
//   - HALogs past what is held are deleted.
//   - The HALogs written since the last open are settled: synced when whole, rebuilt from the
//     journal when a crash lost, tore or damaged them; then the settled mark moves to N.
// The committed state after open is exactly the last durable commit point. recovery_notes()
// says what open did.
//
// Fibers. Every call that returns Result or Status may suspend (it goes through io::Disk).
// Mutating calls (seal, lay_down, prepare, commit, rollback, replay, the install calls, repair,
// purge) must not overlap one another: the engine's driver serializes them (asserted). put and
// remove never suspend and may be called while a seal is suspended (they go into a fresh pending
// layer). Reads of committed state (get, scan, view, read_raw, read_halog) may run from other
// fibers at any time: committed bytes never change, so they need no lock. get_pending must not
// overlap commit or rollback. A ReadView stays valid while the Journal lives.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/base/bytes.h"
#include "io/base/checksum.h"
#include "io/base/ids.h"
#include "io/base/result.h"
#include "io/disk.h"
#include "store/btree.h"
#include "store/btree_update.h"
#include "store/halog_reader.h"
#include "store/halog_writer.h"
#include "store/journal_file.h"
#include "store/node_cache.h"
#include "store/pending_layer.h"
#include "store/record_reader.h"
#include "store/root_block.h"

namespace quire::store {

struct JournalOptions {
  // Where the journal lives on the disk; "" is the data directory itself. Created if missing
  // (one level).
  std::string directory;
  // The size of the write-cache blocks this member fills as leader. Followers accept any.
  uint32_t write_cache_block_size_bytes = format::write_cache_block_size_bytes_default;
  // The largest encoded B+tree node; must fit a block.
  uint32_t node_size_bytes_max = 4096;
  // Values up to this size live in their leaf; longer ones go out of line into chunk records.
  uint32_t value_inline_bytes_max = 512;
  uint32_t key_size_bytes_max = 1024;
  uint64_t value_size_bytes_max = 16u << 20;
  // The bound of the decoded-node cache.
  uint64_t node_cache_bytes_max = 64u << 20;
  // The journal file is kept at least half this many bytes past the end of the data written
  // into it, grown to the next multiple of the step by writing zeros and syncing them, so that
  // the sync of a commit's PREPARE changes no file metadata (docs/format.md, "Journal file").
  // Less than 1.5 steps of zeros lie past the data. 0: no preallocation, the file grows with each
  // write set (each PREPARE's sync then writes the inode too). A multiple of the sector size, at
  // most allocation_step_bytes_max.
  uint64_t allocation_step_bytes = 16u << 20;
  // A bound on the zeros one growth writes (and syncs) on some commit's path.
  static constexpr uint64_t allocation_step_bytes_max = 1u << 30;

  // Errors: invalid_argument naming the first setting out of bounds.
  Status validate() const;
};

// One write set as the leader streams it: the exact bytes of each block, in order, and the root
// block it proposes (term and commit time as sealed; a new leader may re-propose the same blocks
// under its own term).
struct WriteSet {
  CommitCounter commit_counter;
  std::vector<Bytes> blocks;
  RootBlock root;
};

class Journal;
class HeldWriteSet;
class PrefixInstall;

// A read-only view of one commit point. Cheap to copy. REQUIRES: the Journal outlives it.
class ReadView {
 public:
  const RootBlock& root() const { return root_; }
  Result<std::optional<Value>> get(ByteView key) const;
  // Entries with begin <= key < end (empty end: no bound) in key order, at most `limit`.
  Result<std::vector<Entry>> scan(ByteView begin, ByteView end, size_t limit) const;

 private:
  friend class Journal;
  ReadView(RecordReader& reader, const RootBlock& root) : reader_(&reader), root_(root) {}

  RecordReader* reader_;
  RootBlock root_;
};

class Journal {
 public:
  // Opens (and recovers) the journal under options.directory, creating commit point 0 when there
  // is none. Errors: invalid_argument (options), corruption (no usable root block: rebuild from
  // a peer), io_error.
  static Result<std::unique_ptr<Journal>> open(io::Disk& disk, const JournalOptions& options);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // ---- Committed state ----
  const RootBlock& root() const { return root_; }
  CommitCounter commit_counter() const { return root_.commit_counter; }
  Result<std::optional<Value>> get(ByteView key);
  Result<std::vector<Entry>> scan(ByteView begin, ByteView end, size_t limit);
  ReadView committed_view();
  // The commit point `counter` (historical reads). Errors: not_found past the commit counter
  // (or an index entry missing), checksum_mismatch from the commit-record index.
  Result<ReadView> view(CommitCounter counter);

  // ---- Leader: the pending layer ----
  // Errors: invalid_argument (key or value too long). Versions: a pending write will carry the
  // counter of the write set it is sealed into.
  Status put(ByteView key, ByteView value);
  Status remove(ByteView key);
  // The key as the next seal would leave it: pending layer, then the sealed write set, then the
  // committed state. A pending value's version is the counter it will commit at.
  Result<std::optional<Value>> get_pending(ByteView key);
  bool has_pending() const { return !pending_.empty(); }
  // Drops the pending layer and keeps any held write set (a leader that lost its leadership:
  // what it sealed may still commit, what it did not seal surely will not). Never suspends.
  // REQUIRES: no seal in progress.
  void discard_pending() {
    QUIRE_ASSERT(sealing_ == nullptr);
    pending_.clear();
  }
  uint64_t pending_size_bytes() const { return pending_.size_bytes(); }
  size_t pending_count() const { return pending_.size(); }
  // Turns the pending layer into write set commit_counter()+1: writes its blocks (unsynced) to
  // the journal and to HALog counter+1, and returns them with the proposed root block. Puts
  // after this go into a fresh pending layer on top of the sealed tree. On an error nothing is
  // held and the pending layer is kept. REQUIRES: no uncommitted write set is held (commit or
  // roll back the last one first). Errors: no_space, io_error, invalid_argument (a value too
  // long for the block size), checksum_mismatch (a node read on the way).
  Result<WriteSet> seal(Term term, int64_t commit_time_ns);

  // ---- Follower ----
  // Checks one block of write set commit_counter()+1 (checksum, counter, sequence and offset
  // continuity, one term per write set) and writes it at its offset in the journal and to the
  // HALog of that counter (unsynced). A block already held with equal bytes is accepted again
  // (a re-formed pipeline restarts the write set). Errors: checksum_mismatch / corruption
  // (bad block), invalid_argument (a block that does not continue the held write set, or
  // conflicts with it), no_space, io_error.
  // REQUIRES: nothing sealed by this member and no pending layer (roll back first).
  Status lay_down(ByteView block);

  // ---- Both: two-phase commit ----
  // The counter of the held uncommitted write set, if any.
  std::optional<CommitCounter> uncommitted_counter() const;
  // Checks that the held write set is whole and is the one `proposed` describes (counter, begin
  // and end offsets, block count, write-set hash; for a sealed or already prepared one, the same
  // trees), reads it back, writes the prepared record naming `proposed` and the committed root,
  // and syncs the journal once: afterwards the write set and the vote for `proposed` survive a
  // crash (recovered_prepared()). The sync also makes an unsynced committed root durable.
  // Errors: unavailable (nothing or not all held), invalid_argument (another write set),
  // checksum_mismatch (the write set reads back different), io_error (then failed()).
  Status prepare(const RootBlock& proposed);
  // Commits the held write set as `root`, which may differ from the proposal only in term and
  // commit time: appends it to the HALog, writes it into its slot and reads it back, without a
  // sync: the root becomes durable at the next sync of the journal (the next prepare, replay or
  // rollback, or sync_committed()). A crash before that takes the journal back one commit point
  // with this write set held again and its prepared record (docs/format.md). Syncs the write set
  // first if prepare was not called. A repeated commit of the current root is accepted. Errors:
  // as prepare, plus no_space (the HALog append; nothing changed, commit may be retried).
  Status commit(const RootBlock& root);
  // Whether the committed root was written after the journal's last sync.
  bool root_unsynced() const { return root_unsynced_; }
  // Makes an unsynced committed root durable (a sync of the journal); nothing while a rebuild is
  // being installed (it replaces the file). Errors: io_error (then failed()).
  Status sync_committed();
  // The root block of the newest prepared record open found: the vote this member last made
  // durably. The engine compares it with uncommitted_counter() to hold or roll back, and with
  // commit_counter() to see whether a committed root was lost.
  const std::optional<RootBlock>& recovered_prepared() const { return recovered_prepared_; }
  // Drops the held write set and the pending layer: truncates to the committed end, syncs, and
  // deletes the HALog of the uncommitted counter. Errors: io_error (then failed()).
  Status rollback();
  // The blocks of the held write set, exactly as written (a new leader re-streams them).
  Result<std::vector<Bytes>> uncommitted_blocks();

  // ---- Resync: HALogs ----
  // Counters of the HALog files present, ascending (includes an uncommitted one being written).
  Result<std::vector<CommitCounter>> halog_counters();
  // The whole HALog file of a committed counter, checked complete. Errors: not_found,
  // corruption (torn), checksum_mismatch (corrupt), io_error.
  Result<Bytes> read_halog(CommitCounter counter);
  // Applies a complete HALog of commit point commit_counter()+1: lays its blocks down, writes
  // this member's own (identical) HALog, commits its closing root block. The journal ends
  // byte-identical to the writer's. Errors: invalid_argument (the HALog does not follow this
  // commit point), and those of lay_down and commit. REQUIRES: nothing held or pending.
  Status replay(const HALogReader& halog);
  // Deletes the HALogs of counters <= `counter` and moves the settled mark past them, so that
  // open does not rebuild them. REQUIRES: counter <= commit_counter().
  Status purge_halogs_through(CommitCounter counter);
  std::string halog_path(CommitCounter counter) const;

  // ---- Rebuild and read repair ----
  // Bytes [offset, offset + length) of the committed data region, unverified (the receiver
  // checks the blocks). Errors: invalid_argument outside [data region begin, committed end).
  Result<Bytes> read_raw(uint64_t offset, uint64_t length);
  // Rewrites committed bytes in place after checking them: `bytes` must be exactly one record
  // that verifies at `offset` (read repair of a record whose checksum failed), or one or more
  // whole blocks starting at `offset`. It writes whole sectors (a partial write cannot mend a
  // latent sector error), the bytes around `bytes` read here. Then syncs. Errors:
  // checksum_mismatch / corruption (the bytes do not check), invalid_argument (not inside the
  // committed region), io_error (a sector around `bytes` cannot be read: repair a wider span).
  Status repair(uint64_t offset, ByteView bytes);
  // Rebuild: replaces this journal by a peer's committed prefix at `root`. Chunks of the peer's
  // data region [format::data_region_begin_offset, root.end_offset) arrive in order through
  // install_chunk (any sizes); blocks are verified as they complete. finish_install writes the
  // root block, syncs and renames the new file into place, then deletes HALogs past root's
  // counter. Until then the old journal keeps serving reads; abort_install (or a crash) leaves it
  // as it was. The peer keeps committing meanwhile: its committed bytes never change.
  // REQUIRES: nothing held or pending.
  Status begin_install(const RootBlock& root);
  Status install_chunk(uint64_t offset, ByteView bytes);
  Status finish_install();
  void abort_install();

  // ---- Status ----
  bool failed() const { return failed_; }
  // A rebuild is being installed (begin_install ... finish_install): no other write may start.
  bool installing() const { return install_ != nullptr; }
  // Rebuilds installed since open: a reader that saw damage before one must not report it after.
  uint64_t installs_finished() const { return installs_finished_; }
  const std::vector<std::string>& recovery_notes() const { return recovery_notes_; }
  const JournalOptions& options() const { return options_; }
  io::Disk& disk() { return disk_; }
  NodeCache& node_cache() { return cache_; }
  std::string journal_path() const;
  std::string snapshot_directory() const;

 private:
  Journal(io::Disk& disk, const JournalOptions& options, std::unique_ptr<JournalFile> file,
          const RootBlock& root);

  // journal.cc: reads.
  Status check_writable() const;
  Address pending_base_tree() const;
  std::string halog_directory() const;

  // journal_recovery.cc: recovery at open, and settling HALogs.
  Status recover();
  Status load_settled_mark();
  Status roll_forward();
  Status recover_write_set_past_end();
  Result<std::vector<Bytes>> read_write_set_past_end(uint64_t file_size);
  std::vector<Bytes> read_write_set_in_halog();
  Status hold_write_set(const std::vector<Bytes>& blocks, bool in_journal);
  // Whether [begin, end) of the file reads back as zeros (an unreadable sector does not).
  bool reads_as_zeros(uint64_t begin, uint64_t end);
  Status delete_halogs_past(CommitCounter last_kept);
  // Settles the HALogs (after, through]; returns the last counter settled (a failure stops it).
  CommitCounter settle_halogs(CommitCounter after, CommitCounter through);
  Status settle_halog(CommitCounter counter);
  Status make_root_durable();
  Result<Bytes> halog_from_journal(CommitCounter counter);
  // `bytes` for [offset, +size) with the rest of the sectors it touches read from the file.
  Result<Bytes> widen_to_sectors(uint64_t offset, ByteView bytes);
  Status write_settled_mark(CommitCounter counter);

  // journal_write.cc: write sets and the two-phase commit.
  Result<WriteSet> seal_layer(const PendingLayer& layer, Term term, int64_t commit_time_ns);
  Status lay_down_block(ByteView block, bool write_halog);
  Status check_proposal(const RootBlock& proposed) const;
  // Syncs the held write set and, with `vote`, the prepared record naming it (one sync).
  Status make_durable(const RootBlock* vote);
  Status write_prepared_record(const RootBlock& vote);
  Status roll_forward_to_recorded_commit();
  // Reads the held write set back from the file and checks its hash.
  Status verify_held_bytes();
  // XXH3 of the file's bytes [begin, end), read in bounded chunks. Errors: the read's.
  Result<uint64_t> hash_of_range(uint64_t begin, uint64_t end);
  Status commit_held(const RootBlock& root);
  Status sync_journal();
  // Before bytes up to `data_end` are written: when the file ends less than half an allocation
  // step past it, writes zeros up to a step past it and syncs. Errors: the sync's (then
  // failed()); a failed write of zeros is no error (the room ahead is an optimization).
  Status allocate_through(uint64_t data_end);
  Status drop_held();
  Status replay_blocks(const HALogReader& halog, bool write_halog);

  io::Disk& disk_;
  JournalOptions options_;
  std::unique_ptr<JournalFile> file_;
  NodeCache cache_;
  RecordReader reader_;
  RootBlock root_;
  std::unique_ptr<HeldWriteSet> held_;
  PendingLayer pending_;
  const PendingLayer* sealing_ = nullptr;  // The layer a seal in progress is writing.
  std::unique_ptr<PrefixInstall> install_;
  uint64_t installs_finished_ = 0;
  // Every HALog of a counter up to this one is durable and checked, or was purged on purpose;
  // the ones past it were written since and may not be (recovery settles them). Mirrors the
  // settled mark in the HALog directory.
  CommitCounter settled_through_;
  bool failed_ = false;
  bool mutating_ = false;
  bool root_unsynced_ = false;
  // The prepared records: the newest one open found, the last one written, the next sequence.
  std::optional<RootBlock> recovered_prepared_;
  std::optional<PreparedRecord> last_prepared_record_;
  uint64_t next_prepared_sequence_ = 0;
  std::vector<std::string> recovery_notes_;
};

// The commit-record index key of `counter`: 8 bytes, big-endian, so key order is counter order.
Bytes commit_index_key(CommitCounter counter);

}  // namespace quire::store
