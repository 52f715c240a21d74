// Journal: HALogs (resync), rebuild from a peer's committed prefix, and read repair.
// Open and reads are in journal.cc; write sets and the two-phase commit in journal_write.cc.
#include "io/base/text.h"
#include "store/file_names.h"
#include "store/held_write_set.h"
#include "store/journal.h"
#include "store/mutation_scope.h"
#include "store/prefix_install.h"
#include "store/record.h"
#include "store/write_cache_block.h"

namespace quire::store {
namespace {

// Checks that `bytes` are whole blocks, back to back, the first at `offset`.
Status verify_blocks_at(uint64_t offset, ByteView bytes) {
  size_t position = 0;
  while (position < bytes.size()) {
    const ByteView rest = bytes.subspan(position);
    QUIRE_TRY_ASSIGN(const WriteCacheBlockHeader header, peek_write_cache_block_header(rest));
    if (header.length > rest.size() || header.file_offset != offset + position) {
      return Error(ErrorCode::corruption,
                   concat("repair bytes at ", offset + position, " are not a whole block there"));
    }
    QUIRE_TRY(verify_write_cache_block(rest.first(header.length)));
    position += header.length;
  }
  return ok_status();
}

}  // namespace

// ---- HALogs ----

Result<std::vector<CommitCounter>> Journal::halog_counters() {
  QUIRE_TRY_ASSIGN(const std::vector<std::string> names, disk_.list(halog_directory()));
  std::vector<CommitCounter> counters;
  for (const std::string& name : names) {
    if (auto counter = parse_counter_file_name(name, format::halog_file_suffix)) {
      counters.push_back(*counter);
    }
  }
  // Zero-padded names list in counter order.
  QUIRE_ASSERT(std::is_sorted(counters.begin(), counters.end()));
  return counters;
}

Result<Bytes> Journal::read_halog(CommitCounter counter) {
  if (counter > root_.commit_counter || counter.value() == 0) {
    return Error(ErrorCode::not_found, concat("no committed HALog ", counter));
  }
  QUIRE_TRY_ASSIGN(const HALogReader halog, HALogReader::read(disk_, halog_path(counter)));
  return Bytes(halog.bytes().begin(), halog.bytes().end());
}

Status Journal::replay(const HALogReader& halog) {
  MutationScope scope(mutating_);
  QUIRE_TRY(check_writable());
  QUIRE_ASSERT_MSG(held_ == nullptr && pending_.empty(),
                   "replay with an uncommitted write set or a pending layer: roll back first");
  return replay_blocks(halog, true);
}

Status Journal::replay_blocks(const HALogReader& halog, bool write_halog) {
  if (!(halog.opening_root() == root_)) {
    return Error(ErrorCode::invalid_argument,
                 concat("HALog ", halog.commit_counter(), " does not follow commit point ",
                        root_.commit_counter, " of this journal"));
  }
  for (size_t index = 0; index < halog.block_count(); index++) {
    Status laid = lay_down_block(halog.block(index), write_halog);
    if (!laid.ok()) {
      if (held_ != nullptr) (void)drop_held();
      return laid;
    }
  }
  Status proposal = check_proposal(halog.closing_root());
  if (!proposal.ok()) {
    (void)drop_held();
    return proposal;
  }
  QUIRE_TRY(make_durable(nullptr));
  return commit_held(halog.closing_root());
}

Status Journal::purge_halogs_through(CommitCounter counter) {
  MutationScope scope(mutating_);
  QUIRE_ASSERT(counter <= root_.commit_counter);
  QUIRE_TRY_ASSIGN(const std::vector<CommitCounter> counters, halog_counters());
  for (const CommitCounter each : counters) {
    if (each > counter) break;
    Status unlinked = disk_.unlink(halog_path(each));
    if (!unlinked.ok() && unlinked.code() != ErrorCode::not_found) return unlinked;
  }
  // Gone on purpose: open() must not rebuild them. One rename in the HALog directory.
  if (counter > settled_through_) QUIRE_TRY(write_settled_mark(counter));
  return ok_status();
}

// ---- Rebuild and read repair ----

Result<Bytes> Journal::read_raw(uint64_t offset, uint64_t length) {
  const uint64_t end = root_.end_offset;
  if (offset < format::data_region_begin_offset || offset > end || length > end - offset) {
    return Error(ErrorCode::invalid_argument,
                 concat("raw read [", offset, ", +", length, ") outside the committed data [",
                        format::data_region_begin_offset, ", ", end, ")"));
  }
  const std::shared_ptr<io::File> file = file_->file();
  Bytes bytes(length);
  QUIRE_TRY(file->read_exact(offset, bytes));
  return bytes;
}

Status Journal::repair(uint64_t offset, ByteView bytes) {
  MutationScope scope(mutating_);
  QUIRE_TRY(check_writable());
  const uint64_t end = root_.end_offset;
  if (offset < format::data_region_begin_offset || offset > end || bytes.size() > end - offset ||
      bytes.empty()) {
    return Error(ErrorCode::invalid_argument,
                 concat("repair [", offset, ", +", bytes.size(), ") outside the committed data"));
  }
  const bool is_block =
      bytes.size() >= 8 && load_le<uint64_t>(bytes.data()) == format::write_cache_block_magic;
  if (is_block) {
    QUIRE_TRY(verify_blocks_at(offset, bytes));
  } else {
    if (bytes.size() > UINT32_MAX) return Error(ErrorCode::invalid_argument, "record too long");
    QUIRE_TRY(verify_record(Address{offset, static_cast<uint32_t>(bytes.size())}, bytes));
  }
  // The same bytes every replica holds there: rewriting them keeps "committed bytes never
  // change" true of the content. Whole sectors: a partial write cannot mend a latent sector
  // error (the device must read the rest of the sector first), so the edges are read here.
  QUIRE_TRY_ASSIGN(const Bytes sectors, widen_to_sectors(offset, bytes));
  const uint64_t sectors_begin = offset / io::disk_sector_size_bytes * io::disk_sector_size_bytes;
  Status written = file_->write(sectors_begin, sectors);
  if (!written.ok()) {
    failed_ = true;
    return written;
  }
  return sync_journal();
}

Result<Bytes> Journal::widen_to_sectors(uint64_t offset, ByteView bytes) {
  constexpr uint64_t sector = io::disk_sector_size_bytes;
  const uint64_t begin = offset / sector * sector;
  const uint64_t end = offset + bytes.size();
  // The last sector may reach past the committed end: into this member's held write set (read
  // like the rest), or into nothing (zeros, as a file that ends there reads).
  const uint64_t finish = (end + sector - 1) / sector * sector;
  QUIRE_ASSERT(begin >= format::data_region_begin_offset);
  Bytes sectors(finish - begin, 0);
  const std::shared_ptr<io::File> file = file_->file();
  QUIRE_TRY_ASSIGN(const uint64_t file_size, file->size());
  const uint64_t kept_end =
      std::min(finish, held_ != nullptr ? std::max(file_size, end) : root_.end_offset);
  Status read = file->read_exact(begin, MutableByteView(sectors).first(offset - begin));
  if (read.ok() && kept_end > end) {
    read = file->read_exact(end, MutableByteView(sectors).subspan(end - begin, kept_end - end));
  }
  if (!read.ok()) {
    return Error(ErrorCode::io_error,
                 concat("repair [", offset, ", ", end, ") shares a sector that cannot be read (",
                        read.error().message(), "): repair a span that covers it"));
  }
  std::copy(bytes.begin(), bytes.end(),
            sectors.begin() + static_cast<std::ptrdiff_t>(offset - begin));
  return sectors;
}

Status Journal::begin_install(const RootBlock& root) {
  MutationScope scope(mutating_);
  QUIRE_TRY(check_writable());
  QUIRE_ASSERT_MSG(held_ == nullptr && pending_.empty(),
                   "rebuild with an uncommitted write set or a pending layer: roll back first");
  const auto decoded = decode_root_block(encode_root_block(root));
  if (!decoded.ok()) return Error(ErrorCode::invalid_argument, decoded.error().message());
  QUIRE_TRY_ASSIGN(
      install_, PrefixInstall::begin(
                    disk_, join_path(options_.directory, format::journal_install_file_name), root));
  return ok_status();
}

Status Journal::install_chunk(uint64_t offset, ByteView bytes) {
  MutationScope scope(mutating_);
  QUIRE_ASSERT_MSG(install_ != nullptr, "install_chunk without begin_install");
  return install_->append(offset, bytes);
}

Status Journal::finish_install() {
  MutationScope scope(mutating_);
  QUIRE_ASSERT_MSG(install_ != nullptr, "finish_install without begin_install");
  // A failure up to here leaves the old journal in place, whole: the rebuild is aborted.
  QUIRE_TRY(install_->finish());
  const RootBlock root = install_->root();
  const CommitCounter previous = root_.commit_counter;
  // From the rename on, the file at journal_path() may no longer be the one this object serves
  // from: a failure must not let the member go on committing into a file it will never open
  // again. It refuses writes instead, and the restart opens what the disk holds.
  Status renamed = disk_.rename(install_->path(), journal_path());
  if (!renamed.ok()) {
    failed_ = true;
    return renamed;
  }
  install_.reset();
  auto reopen = [this, &root]() -> Result<std::unique_ptr<JournalFile>> {
    QUIRE_TRY_ASSIGN(std::unique_ptr<JournalFile> file, JournalFile::open(disk_, journal_path()));
    std::vector<std::string> notes;
    QUIRE_TRY_ASSIGN(const RootBlock opened, file->newest_root(notes));
    // finish() read the root block back, and the other slot holds zeros.
    QUIRE_ASSERT(opened == root);
    return file;
  };
  auto reopened = reopen();
  if (!reopened.ok()) {
    failed_ = true;
    return std::move(reopened).error();
  }
  file_ = std::move(*reopened);
  installs_finished_++;
  reader_.replace_file(file_->file());
  cache_.clear();
  root_ = root;
  root_unsynced_ = false;         // finish() synced the new file.
  last_prepared_record_.reset();  // Its prepared slots are zeros.
  reader_.set_cacheable_end(root_.end_offset);
  // HALogs past the installed commit point belong to a history this member no longer holds.
  QUIRE_TRY_ASSIGN(const std::vector<CommitCounter> counters, halog_counters());
  for (const CommitCounter counter : counters) {
    if (counter > root_.commit_counter) QUIRE_TRY(disk_.unlink(halog_path(counter)));
  }
  // This member never held the HALogs of the copied commit points past its own: settle the ones
  // it wrote, and let the mark say the rest are absent on purpose (open() must not rebuild the
  // whole copied history).
  const CommitCounter through = std::min(previous, root_.commit_counter);
  const CommitCounter settled = settle_halogs(std::min(settled_through_, through), through);
  // Short of them (a failed sync), the next open settles the rest, the copied ones included.
  const CommitCounter mark = settled == through ? root_.commit_counter : settled;
  if (settled_through_ != mark) QUIRE_TRY(write_settled_mark(mark));
  return ok_status();
}

void Journal::abort_install() {
  MutationScope scope(mutating_);
  if (install_ == nullptr) return;
  const std::string path = install_->path();
  install_.reset();
  (void)disk_.unlink(path);
}

}  // namespace quire::store
