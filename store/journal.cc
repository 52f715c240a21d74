// Journal: open, options and reads. Recovery is in journal_recovery.cc; writes in
// journal_write.cc; HALog management, rebuild and repair in journal_maintenance.cc.
#include "store/journal.h"

#include "io/base/text.h"
#include "store/file_names.h"
#include "store/held_write_set.h"
#include "store/mutation_scope.h"
#include "store/prefix_install.h"
#include "store/write_cache.h"

namespace quire::store {
namespace {

// The largest leaf entry the options allow must fit a node, and a node must fit a block.
size_t leaf_entry_size_bytes_max(const JournalOptions& options) {
  const size_t inline_value =
      format::leaf_inline_value_fixed_size_bytes + options.value_inline_bytes_max;
  const size_t value = std::max(inline_value, format::leaf_out_of_line_value_size_bytes);
  return format::leaf_entry_fixed_size_bytes + options.key_size_bytes_max + value;
}

Error bad_option(std::string_view what) {
  return Error(ErrorCode::invalid_argument, concat("journal options: ", what));
}

Status make_directory_path(io::Disk& disk, const std::string& directory) {
  if (directory.empty()) return ok_status();
  return disk.make_directory(directory);
}

}  // namespace

Bytes commit_index_key(CommitCounter counter) {
  Bytes key(format::commit_index_key_size_bytes);
  for (size_t index = 0; index < key.size(); index++) {
    key[index] = static_cast<uint8_t>(counter.value() >> (8 * (key.size() - 1 - index)));
  }
  return key;
}

Status JournalOptions::validate() const {
  const uint32_t block = write_cache_block_size_bytes;
  if (block < format::write_cache_block_size_bytes_min ||
      block > format::write_cache_block_size_bytes_max) {
    return bad_option(concat("write_cache_block_size_bytes ", block, " outside [",
                             format::write_cache_block_size_bytes_min, ", ",
                             format::write_cache_block_size_bytes_max, "]"));
  }
  if (key_size_bytes_max == 0 || key_size_bytes_max > format::key_size_bytes_max) {
    return bad_option(concat("key_size_bytes_max ", key_size_bytes_max));
  }
  // A branch must hold at least three children of the longest separator, a leaf one entry of
  // the longest key and inline value, and four entries of the commit-record index.
  const size_t branch_need =
      format::branch_header_size_bytes + 3 * branch_child_size_bytes(key_size_bytes_max);
  const size_t index_entry =
      format::leaf_entry_fixed_size_bytes + format::commit_index_key_size_bytes +
      format::leaf_inline_value_fixed_size_bytes + format::root_block_size_bytes;
  const size_t leaf_need =
      format::leaf_header_size_bytes + std::max(leaf_entry_size_bytes_max(*this), 4 * index_entry);
  if (node_size_bytes_max < branch_need || node_size_bytes_max < leaf_need) {
    return bad_option(concat("node_size_bytes_max ", node_size_bytes_max, " below the ",
                             std::max(branch_need, leaf_need),
                             " bytes the key and inline value limits need"));
  }
  const size_t payload = WriteCache::payload_capacity_bytes(block);
  if (node_size_bytes_max > payload) {
    return bad_option(concat("node_size_bytes_max ", node_size_bytes_max,
                             " exceeds a block's record payload of ", payload, " bytes"));
  }
  const uint64_t chunk_count_max = (value_size_bytes_max + payload - 1) / payload;
  if (format::value_index_header_size_bytes + chunk_count_max * format::address_size_bytes >
      payload) {
    return bad_option(concat("value_size_bytes_max ", value_size_bytes_max,
                             " needs more chunks than one value index can list at block size ",
                             block));
  }
  if (node_cache_bytes_max == 0) return bad_option("node_cache_bytes_max is 0");
  if (allocation_step_bytes % io::disk_sector_size_bytes != 0 ||
      allocation_step_bytes > allocation_step_bytes_max) {
    return bad_option(concat("allocation_step_bytes ", allocation_step_bytes,
                             " is not a multiple of ", io::disk_sector_size_bytes, " up to ",
                             allocation_step_bytes_max));
  }
  return ok_status();
}

Journal::Journal(io::Disk& disk, const JournalOptions& options, std::unique_ptr<JournalFile> file,
                 const RootBlock& root)
    : disk_(disk),
      options_(options),
      file_(std::move(file)),
      cache_(options.node_cache_bytes_max),
      reader_(file_->file(), cache_),
      root_(root) {
  reader_.set_cacheable_end(root_.end_offset);
}

Journal::~Journal() = default;

std::string Journal::journal_path() const {
  return join_path(options_.directory, format::journal_file_name);
}

std::string Journal::snapshot_directory() const {
  return join_path(options_.directory, format::snapshot_directory_name);
}

std::string Journal::halog_directory() const {
  return join_path(options_.directory, format::halog_directory_name);
}

std::string Journal::halog_path(CommitCounter counter) const {
  return join_path(halog_directory(), counter_file_name(counter, format::halog_file_suffix));
}

Result<std::unique_ptr<Journal>> Journal::open(io::Disk& disk, const JournalOptions& options) {
  QUIRE_TRY(options.validate());
  QUIRE_TRY(make_directory_path(disk, options.directory));
  QUIRE_TRY(disk.make_directory(join_path(options.directory, format::halog_directory_name)));
  QUIRE_TRY(disk.make_directory(join_path(options.directory, format::snapshot_directory_name)));
  const std::string path = join_path(options.directory, format::journal_file_name);
  const std::string install_path = join_path(options.directory, format::journal_install_file_name);
  std::vector<std::string> notes;
  QUIRE_TRY_ASSIGN(const bool exists, disk.exists(path));
  if (!exists) {
    QUIRE_TRY(JournalFile::create(disk, install_path, path, initial_root_block()));
    notes.push_back("created commit point 0");
  } else {
    QUIRE_TRY_ASSIGN(const bool install_left, disk.exists(install_path));
    if (install_left) {
      // An interrupted rebuild: the journal it was to replace is still whole.
      QUIRE_TRY(disk.unlink(install_path));
      notes.push_back("deleted an unfinished journal.install");
    }
  }
  QUIRE_TRY_ASSIGN(std::unique_ptr<JournalFile> file, JournalFile::open(disk, path));
  QUIRE_TRY_ASSIGN(const RootBlock root, file->newest_root(notes));
  std::unique_ptr<Journal> journal(new Journal(disk, options, std::move(file), root));
  journal->recovery_notes_ = std::move(notes);
  QUIRE_TRY(journal->recover());
  return journal;
}

Status Journal::check_writable() const {
  if (failed_) {
    return Error(ErrorCode::io_error,
                 "the journal failed a sync earlier and refuses writes until it is reopened");
  }
  QUIRE_ASSERT_MSG(install_ == nullptr, "a write while a rebuild is being installed");
  return ok_status();
}

// ---- Reads ----

Result<std::optional<Value>> ReadView::get(ByteView key) const {
  return BTreeReader(*reader_, root_.tree_root).get(key);
}

Result<std::vector<Entry>> ReadView::scan(ByteView begin, ByteView end, size_t limit) const {
  return BTreeReader(*reader_, root_.tree_root).scan(begin, end, limit);
}

ReadView Journal::committed_view() {
  return ReadView(reader_, root_);
}

Result<std::optional<Value>> Journal::get(ByteView key) {
  return committed_view().get(key);
}

Result<std::vector<Entry>> Journal::scan(ByteView begin, ByteView end, size_t limit) {
  return committed_view().scan(begin, end, limit);
}

Result<ReadView> Journal::view(CommitCounter counter) {
  const RootBlock current = root_;  // A commit may land while the lookup suspends.
  if (counter == current.commit_counter) return ReadView(reader_, current);
  if (counter > current.commit_counter) {
    return Error(ErrorCode::not_found,
                 concat("commit point ", counter, " is past the last, ", current.commit_counter));
  }
  BTreeReader index(reader_, current.commit_index_root);
  QUIRE_TRY_ASSIGN(const std::optional<Value> entry, index.get(commit_index_key(counter)));
  if (!entry.has_value()) {
    return Error(ErrorCode::not_found,
                 concat("commit point ", counter, " is not in the commit-record index"));
  }
  QUIRE_TRY_ASSIGN(const RootBlock root, decode_root_block(entry->bytes));
  if (root.commit_counter != counter) {
    return Error(ErrorCode::corruption, concat("the commit-record index maps ", counter,
                                               " to the root block of ", root.commit_counter));
  }
  return ReadView(reader_, root);
}

Address Journal::pending_base_tree() const {
  if (held_ != nullptr && held_->origin() == HeldWriteSet::Origin::sealed) {
    return held_->proposed()->tree_root;
  }
  return root_.tree_root;
}

Result<std::optional<Value>> Journal::get_pending(ByteView key) {
  const CommitCounter sealed_counter =
      held_ != nullptr ? held_->commit_counter() : root_.commit_counter;
  const CommitCounter pending_version =
      sealing_ != nullptr ? sealed_counter.next().next() : sealed_counter.next();
  if (const std::optional<Bytes>* found = pending_.find(key)) {
    if (!found->has_value()) return std::optional<Value>();
    return std::optional<Value>(Value{**found, pending_version});
  }
  if (sealing_ != nullptr) {
    if (const std::optional<Bytes>* found = sealing_->find(key)) {
      if (!found->has_value()) return std::optional<Value>();
      return std::optional<Value>(Value{**found, sealed_counter.next()});
    }
  }
  return BTreeReader(reader_, pending_base_tree()).get(key);
}

}  // namespace quire::store
