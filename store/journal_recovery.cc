// Journal: recovery at open, and settling HALogs (docs/format.md, "Commit order, crashes and
// recovery"). Open and reads are in journal.cc; write sets and the two-phase commit in
// journal_write.cc; HALog management, rebuild and repair in journal_maintenance.cc.
//
// On the commit path only the journal is synced, once per commit point: at PREPARE (the write
// set's blocks past the committed end, the prepared record naming its root, and the previous
// commit's root slot, all under one sync). COMMIT writes the root slot without a sync. HALogs are
// written unsynced and created without a directory sync, because each is derived data: HALog N
// is root N-1, the journal bytes of write set N and root N. Recovery therefore trusts the journal
// and rebuilds HALogs from it:
//   1. The newest prepared record names the committed root it was written under: a decided
//      commit point. If that root is one past the root open took, and its write set reads back,
//      it is written into its slot again (its commit had not been synced, or the slot rotted).
//   2. A complete HALog N+1 (its closing root is appended at COMMIT only, after the quorum
//      decided) rolls the journal forward, whatever else a crash kept of that file: every entry
//      checks, and the closing root names the blocks' hash.
//   3. A whole write set N+1 past the committed end (blocks of counter N+1, contiguous from the
//      committed end, one term, checksums holding, ending with the block flagged last) is held
//      again: PREPARE synced it there, so a YES vote outlives a crash. Failing that, an HALog N+1
//      holding every block does (it may have reached the disk although nothing made it). Anything
//      else past the committed end is a torn or partial tail, and is cut, never trusted.
//   4. HALogs past what is held are deleted.
//   5. The HALogs written since the last open, (settled mark, N], are settled: a complete one is
//      synced; a missing, torn or corrupt one is rebuilt from the journal (its blocks checked
//      against root N's commit-record index) and synced. Then the settled mark moves to N, which
//      also makes their names durable (the mark is renamed in the same directory). A failure
//      there (a failed sync) stops settling and leaves the mark before that HALog: derived data
//      never keeps the journal from opening.
//   6. The root block is written again and synced (make_root_durable).
#include <algorithm>

#include "io/base/text.h"
#include "store/file_names.h"
#include "store/held_write_set.h"
#include "store/journal.h"
#include "store/mutation_scope.h"
#include "store/write_cache_block.h"

namespace quire::store {

Status Journal::recover() {
  QUIRE_TRY(load_settled_mark());
  QUIRE_TRY(roll_forward_to_recorded_commit());
  QUIRE_TRY(roll_forward());
  QUIRE_TRY(recover_write_set_past_end());
  const CommitCounter committed = root_.commit_counter;
  QUIRE_TRY(delete_halogs_past(held_ != nullptr ? committed.next() : committed));
  const CommitCounter settled = settle_halogs(std::min(settled_through_, committed), committed);
  if (settled_through_ != settled) QUIRE_TRY(write_settled_mark(settled));
  return make_root_durable();
}

Status Journal::make_root_durable() {
  // The root block open trusts may exist only in the page cache: a commit whose sync failed
  // stopped the process, not the machine, and the failed fsync marked the page clean. Written
  // again and synced, it is on the disk before this member announces or serves anything at it.
  Status done = file_->write_root(root_);
  if (done.ok()) done = file_->sync();
  if (done.ok()) done = file_->verify_root(root_);
  if (!done.ok()) failed_ = true;
  return done;
}

Status Journal::load_settled_mark() {
  QUIRE_TRY_ASSIGN(const std::vector<std::string> names, disk_.list(halog_directory()));
  std::optional<CommitCounter> mark;
  std::optional<CommitCounter> lowest_halog;
  for (const std::string& name : names) {
    if (auto counter = parse_counter_file_name(name, format::halog_settled_mark_suffix)) {
      mark = std::max(mark.value_or(*counter), *counter);
    } else if (auto halog = parse_counter_file_name(name, format::halog_file_suffix)) {
      if (!lowest_halog.has_value()) lowest_halog = *halog;  // Names list in counter order.
    }
  }
  if (mark.has_value()) {
    settled_through_ = *mark;
    return ok_status();
  }
  // No mark: a new journal; or one from before settled marks, whose HALogs were all synced
  // (those missing below the lowest were purged). Written now, so that a journal always has
  // one before its first commit.
  CommitCounter settled = root_.commit_counter;
  if (lowest_halog.has_value() && lowest_halog->value() > 0) {
    settled = std::min(settled, CommitCounter(lowest_halog->value() - 1));
  }
  if (lowest_halog.has_value() || settled.value() > 0) {
    recovery_notes_.push_back(
        concat("no settled mark: HALogs up to ", settled, " are taken as settled"));
  }
  return write_settled_mark(settled);
}

Status Journal::roll_forward_to_recorded_commit() {
  std::vector<PreparedRecord> records = file_->prepared_records(recovery_notes_);
  if (records.empty()) return ok_status();
  const PreparedRecord newest = *std::max_element(
      records.begin(), records.end(),
      [](const PreparedRecord& a, const PreparedRecord& b) { return a.sequence < b.sequence; });
  next_prepared_sequence_ = newest.sequence + 1;
  last_prepared_record_ = newest;
  recovered_prepared_ = newest.prepared;
  // The record was written only once its committed root had committed here: that commit point
  // was decided. Its root slot is unsynced until the next sync of the journal (commit()), so a
  // crash, or rot in the slot, may have lost it; its write set was synced before it, and lies
  // right past the root open took.
  const RootBlock& decided = newest.committed;
  if (decided.commit_counter != root_.commit_counter.next() ||
      decided.write_set_begin_offset != root_.end_offset) {
    return ok_status();
  }
  QUIRE_TRY_ASSIGN(const uint64_t size, file_->size());
  const Result<uint64_t> hash =
      size >= decided.end_offset ? hash_of_range(decided.write_set_begin_offset, decided.end_offset)
                                 : Result<uint64_t>(Error(ErrorCode::corruption, "short"));
  if (!hash.ok() || *hash != decided.write_set_hash) {
    // Its bytes rotted too: the engine sees the vote past the commit point and rebuilds.
    recovery_notes_.push_back(concat("prepared record ", newest.sequence, " names commit point ",
                                     decided.commit_counter,
                                     ", whose write set does not read back"));
    return ok_status();
  }
  Status written = file_->write_root(decided);
  if (written.ok()) written = file_->sync();
  if (written.ok()) written = file_->verify_root(decided);
  if (!written.ok()) {
    // The committed bytes are fine: not corruption, which would set the journal aside.
    return Error(ErrorCode::io_error,
                 concat("rolling forward to commit point ", decided.commit_counter,
                        " failed: ", written.error().message()));
  }
  root_ = decided;
  reader_.set_cacheable_end(root_.end_offset);
  recovery_notes_.push_back(concat("rolled forward to commit point ", decided.commit_counter,
                                   " from prepared record ", newest.sequence,
                                   " (its root block had not reached the disk, or rotted)"));
  return ok_status();
}

Status Journal::roll_forward() {
  for (;;) {
    const CommitCounter next = root_.commit_counter.next();
    const std::string path = halog_path(next);
    QUIRE_TRY_ASSIGN(const bool exists, disk_.exists(path));
    if (!exists) return ok_status();
    Result<Bytes> bytes = read_whole_file(disk_, path);
    if (!bytes.ok()) {
      // Derived data: the journal's own bytes decide (recover_write_set_past_end).
      recovery_notes_.push_back(
          concat("HALog ", next, " is unreadable: ", bytes.error().message()));
      return ok_status();
    }
    const HALogScan scan = HALogReader::scan(*bytes);
    if (scan.state != HALogState::complete || !(*scan.opening_root == root_)) return ok_status();
    // The closing root block is appended at COMMIT only, after the quorum decided: the journal
    // lost its root block (a crash before it was durable, or a rotten slot). What lies past the
    // committed end is at most this write set's blocks: lay them down again.
    QUIRE_TRY_ASSIGN(const HALogReader halog, HALogReader::parse(std::move(bytes).value()));
    QUIRE_TRY(file_->truncate(root_.end_offset));
    MutationScope scope(mutating_);
    const Status replayed = replay_blocks(halog, false);
    if (!replayed.ok()) {
      // A write fault while laying the blocks down again (a misdirected write reads back short)
      // says nothing about the committed bytes: not corruption, which would have the engine set
      // the journal aside. The next open tries again.
      return Error(ErrorCode::io_error, concat("rolling forward to commit point ", next,
                                               " failed: ", replayed.error().message()));
    }
    recovery_notes_.push_back(concat("rolled forward to commit point ", next, " from its HALog"));
  }
}

Status Journal::recover_write_set_past_end() {
  QUIRE_TRY_ASSIGN(const uint64_t size, file_->size());
  QUIRE_ASSERT(size >= root_.end_offset);  // newest_root() refuses a root past the file.
  Result<std::vector<Bytes>> in_journal = std::vector<Bytes>();
  if (size > root_.end_offset) in_journal = read_write_set_past_end(size);
  if (in_journal.ok() && !in_journal->empty()) return hold_write_set(*in_journal, true);
  // The journal's copy is not whole (never prepared) or not readable: an HALog holding every
  // block may still have reached the disk.
  const std::vector<Bytes> in_halog = read_write_set_in_halog();
  if (!in_halog.empty()) return hold_write_set(in_halog, false);
  // Only a vote past the commit point can lie behind bytes there (a YES is sent after PREPARE's
  // sync made its prepared record durable). Without one, unreadable bytes are cut like any other
  // untrusted tail: with preallocation the scan reads past the end at every open, and a latent
  // sector error in the zeros (or in a last sector the committed data shares) must not keep the
  // member from starting.
  const bool voted_past_end =
      recovered_prepared_.has_value() && recovered_prepared_->commit_counter > root_.commit_counter;
  if (!in_journal.ok() && voted_past_end) {
    // A write set this member may have voted YES for could be behind the unreadable bytes:
    // stop rather than forget the vote.
    return Error(in_journal.code(),
                 concat("reading what lies past commit point ", root_.commit_counter, ": ",
                        in_journal.error().message()));
  }
  // Zeros past the end are the room preallocation left (allocate_through) and are kept. Anything
  // else goes, all of it: a later write set of the same counter and term, torn by a crash, must
  // never find an older one's blocks continuing it.
  if (size > root_.end_offset && !reads_as_zeros(root_.end_offset, size)) {
    QUIRE_TRY(file_->truncate(root_.end_offset));
    QUIRE_TRY(file_->sync());
    recovery_notes_.push_back(
        concat("cut ", size - root_.end_offset, " bytes past commit point ", root_.commit_counter,
               in_journal.ok()
                   ? " (no whole write set)"
                   : concat(" (unreadable: ", in_journal.error().message(), "; no vote past it)")));
  }
  return ok_status();
}

bool Journal::reads_as_zeros(uint64_t begin, uint64_t end) {
  QUIRE_ASSERT(begin <= end);
  constexpr uint64_t chunk_bytes = 1u << 20;
  Bytes bytes;
  for (uint64_t offset = begin; offset < end; offset += bytes.size()) {
    bytes.assign(std::min(chunk_bytes, end - offset), 0);
    // An unreadable sector is no zero: cut, its truncate frees the sector.
    if (!file_->read_exact(offset, bytes).ok()) return false;
    if (std::any_of(bytes.begin(), bytes.end(), [](uint8_t byte) { return byte != 0; })) {
      return false;
    }
  }
  return true;
}

Result<std::vector<Bytes>> Journal::read_write_set_past_end(uint64_t file_size) {
  // Untrusted bytes: a crash before PREPARE's sync may have kept, lost or torn any of them, and
  // a misdirected write may have put a block where it does not belong. Only blocks that check
  // and continue one another count; the first that does not ends the scan.
  const CommitCounter expected = root_.commit_counter.next();
  std::vector<Bytes> blocks;
  uint64_t offset = root_.end_offset;
  Term term;
  while (file_size - offset >= format::write_cache_block_header_size_bytes) {
    Bytes head(format::write_cache_block_header_size_bytes);
    QUIRE_TRY(file_->read_exact(offset, head));
    const auto header = peek_write_cache_block_header(head);
    if (!header.ok() || header->length > file_size - offset) break;
    Bytes block(header->length);
    QUIRE_TRY(file_->read_exact(offset, block));
    if (!verify_write_cache_block(block).ok()) break;
    if (header->commit_counter != expected || header->sequence != blocks.size() ||
        header->file_offset != offset || (!blocks.empty() && header->term != term)) {
      break;
    }
    term = header->term;
    offset += header->length;
    blocks.push_back(std::move(block));
    if (header->last_in_write_set()) return blocks;
  }
  return std::vector<Bytes>();  // Not whole: a tail that never got prepared.
}

std::vector<Bytes> Journal::read_write_set_in_halog() {
  const CommitCounter next = root_.commit_counter.next();
  const std::string path = halog_path(next);
  Result<Bytes> bytes = read_whole_file(disk_, path);
  if (!bytes.ok()) return {};
  const HALogScan scan = HALogReader::scan(*bytes);
  // Complete HALogs rolled forward already; torn ones are the scan's valid prefix.
  const bool whole = scan.state == HALogState::torn && scan.last_block_seen &&
                     scan.opening_root.has_value() && *scan.opening_root == root_;
  if (!whole) return {};
  std::vector<Bytes> blocks;
  for (const auto& [offset, length] : scan.blocks) {
    const ByteView block = ByteView(*bytes).subspan(offset, length);
    blocks.emplace_back(block.begin(), block.end());
  }
  return blocks;
}

Status Journal::hold_write_set(const std::vector<Bytes>& blocks, bool in_journal) {
  QUIRE_ASSERT(held_ == nullptr && !blocks.empty());
  const CommitCounter counter = root_.commit_counter.next();
  uint64_t end = root_.end_offset;
  for (const Bytes& block : blocks)
    end += block.size();
  QUIRE_TRY_ASSIGN(const uint64_t size, file_->size());
  // Bytes past the write set other than preallocated zeros are a longer, older tail; bytes under
  // it are rewritten below.
  if (!in_journal || (size > end && !reads_as_zeros(end, size))) {
    QUIRE_TRY(file_->truncate(in_journal ? end : root_.end_offset));
    QUIRE_TRY(file_->sync());
  }
  // The HALog is rebuilt from the blocks: whatever a crash left of it is not trusted.
  QUIRE_TRY_ASSIGN(std::unique_ptr<HALogWriter> halog,
                   HALogWriter::create(disk_, halog_path(counter), root_));
  auto held = std::make_unique<HeldWriteSet>(HeldWriteSet::Origin::laid_down, counter,
                                             root_.end_offset, std::move(halog));
  // Room first, as lay_down makes it: prepare's sync must not have to grow the file.
  QUIRE_TRY(allocate_through(end));
  for (const Bytes& block : blocks) {
    const auto header = verify_write_cache_block(block);
    QUIRE_ASSERT(header.ok());  // Checked by the scan that found it.
    // Written again even when read from the journal: a process that restarted after a failed
    // fsync reads the page cache, whose pages the failed fsync marked clean although the disk
    // never got them. Only a new write makes them dirty, so that prepare's sync persists them.
    QUIRE_TRY(file_->write(header->file_offset, block));
    QUIRE_TRY(held->halog()->append_block(block));
    held->add_block(*header, block);
  }
  QUIRE_ASSERT(held->complete() && held->end_offset() == end);
  held_ = std::move(held);
  // Not prepared: the bytes are not durable yet, so prepare() syncs before this member may vote.
  recovery_notes_.push_back(concat("holds the whole uncommitted write set ", counter, " again (",
                                   blocks.size(), " blocks, from ",
                                   in_journal ? "the journal" : "its HALog", ")"));
  return ok_status();
}

Status Journal::delete_halogs_past(CommitCounter last_kept) {
  QUIRE_TRY_ASSIGN(const std::vector<CommitCounter> counters, halog_counters());
  for (const CommitCounter counter : counters) {
    if (counter <= last_kept) continue;
    QUIRE_TRY(disk_.unlink(halog_path(counter)));
    recovery_notes_.push_back(
        concat("deleted HALog ", counter, " past commit point ", root_.commit_counter));
  }
  return ok_status();
}

CommitCounter Journal::settle_halogs(CommitCounter after, CommitCounter through) {
  QUIRE_ASSERT(through <= root_.commit_counter);
  CommitCounter settled = after;
  for (CommitCounter counter = after.next(); counter <= through; counter = counter.next()) {
    const Status done = settle_halog(counter);
    if (!done.ok()) {
      // Derived data must not keep the journal from opening. The file may have lost what it was
      // given (a failed sync), and the mark stays before it: the next open tries again.
      recovery_notes_.push_back(
          concat("stopped settling HALogs at ", counter, ": ", done.error().message()));
      break;
    }
    settled = counter;
  }
  return settled;
}

Status Journal::settle_halog(CommitCounter counter) {
  QUIRE_ASSERT(counter.value() >= 1 && counter <= root_.commit_counter);
  const std::string path = halog_path(counter);
  QUIRE_TRY_ASSIGN(const bool exists, disk_.exists(path));
  std::string why = "missing";
  if (exists) {
    const Result<Bytes> bytes = read_whole_file(disk_, path);
    if (bytes.ok()) {
      const HALogScan scan = HALogReader::scan(*bytes);
      if (scan.state == HALogState::complete) {
        // Whole, as commit wrote it: make it durable, if it closes with this journal's root of
        // that counter (a rebuild from a peer may have replaced the history it belongs to).
        const Result<ReadView> committed = view(counter);
        if (!committed.ok() || *scan.closing_root == committed->root()) {
          QUIRE_TRY_ASSIGN(const std::unique_ptr<io::File> file,
                           disk_.open(path, io::OpenMode::read_write));
          return file->sync();
        }
        why = "of another history than the journal's";
      } else {
        why = concat(halog_state_name(scan.state), ": ", scan.problem);
      }
    } else {
      why = concat("unreadable: ", bytes.error().message());
    }
  }
  const Result<Bytes> rebuilt = halog_from_journal(counter);
  if (!rebuilt.ok()) {
    // Reads of the journal at that place fail too: read repair will mend the journal, and the
    // HALog stays unservable (read_halog refuses it) until it is purged.
    recovery_notes_.push_back(concat("HALog ", counter, " is ", why,
                                     ", and cannot be rebuilt from the journal (",
                                     rebuilt.error().message(), "): not servable"));
    return ok_status();
  }
  QUIRE_TRY_ASSIGN(const std::unique_ptr<io::File> file,
                   disk_.open(path, io::OpenMode::create_or_open_volatile));
  QUIRE_TRY(file->truncate(0));
  QUIRE_TRY(file->write(0, *rebuilt));
  QUIRE_TRY(file->sync());
  recovery_notes_.push_back(concat("rebuilt HALog ", counter, " from the journal (", why, ")"));
  return ok_status();
}

Result<Bytes> Journal::halog_from_journal(CommitCounter counter) {
  QUIRE_ASSERT(counter.value() >= 1 && counter <= root_.commit_counter);
  // Root N-1 is final when write set N is sealed and lies in the commit-record index; root N as
  // committed is the journal's root or, for older ones, the index entry written by write set N+1.
  QUIRE_TRY_ASSIGN(const ReadView closing, view(counter));
  QUIRE_TRY_ASSIGN(const ReadView opening, view(CommitCounter(counter.value() - 1)));
  const RootBlock& root = closing.root();
  Bytes blocks(root.end_offset - root.write_set_begin_offset);
  QUIRE_TRY(file_->read_exact(root.write_set_begin_offset, blocks));
  Bytes halog = encode_halog(opening.root(), blocks, &root);
  // The same checks as any HALog read: every block's checksum, counter, sequence, offset and
  // term, and the closing root's block count and write-set hash.
  const HALogScan scan = HALogReader::scan(halog);
  if (scan.state != HALogState::complete || !(*scan.closing_root == root) ||
      !(*scan.opening_root == opening.root())) {
    return Error(
        scan.state == HALogState::corrupt ? ErrorCode::checksum_mismatch : ErrorCode::corruption,
        concat("write set ", counter, " in the journal does not check: ", scan.problem));
  }
  return halog;
}

Status Journal::write_settled_mark(CommitCounter counter) {
  QUIRE_TRY_ASSIGN(const std::vector<std::string> names, disk_.list(halog_directory()));
  const std::string target = counter_file_name(counter, format::halog_settled_mark_suffix);
  std::vector<std::string> marks;
  for (const std::string& name : names) {
    if (parse_counter_file_name(name, format::halog_settled_mark_suffix).has_value()) {
      marks.push_back(name);
    }
  }
  // Renaming the old mark (or creating the first) is one durable directory change: the names of
  // the HALogs settled before it, created without a directory sync, are durable with it.
  const auto found = std::find(marks.begin(), marks.end(), target);
  if (found != marks.end()) {
    marks.erase(found);
  } else if (!marks.empty()) {
    QUIRE_TRY(disk_.rename(join_path(halog_directory(), marks.back()),
                           join_path(halog_directory(), target)));
    marks.pop_back();
  } else {
    QUIRE_TRY(disk_.open(join_path(halog_directory(), target), io::OpenMode::create_new));
  }
  for (const std::string& stale : marks) {
    QUIRE_TRY(disk_.unlink(join_path(halog_directory(), stale)));
  }
  settled_through_ = counter;
  return ok_status();
}

}  // namespace quire::store
