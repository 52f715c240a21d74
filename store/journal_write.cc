// Journal: write sets and the two-phase commit (seal, lay_down, prepare, commit, rollback).
// Open and reads are in journal.cc; HALogs, rebuild and repair in journal_maintenance.cc.
#include "io/base/planted_bug.h"
#include "io/base/text.h"
#include "store/held_write_set.h"
#include "store/journal.h"
#include "store/mutation_scope.h"
#include "store/write_cache.h"

namespace quire::store {
namespace {

Error not_continuing(const WriteCacheBlockHeader& header, std::string_view why) {
  return Error(ErrorCode::invalid_argument,
               concat("block ", header.sequence, " of write set ", header.commit_counter, " at ",
                      header.file_offset, " ", why));
}

}  // namespace

Status Journal::put(ByteView key, ByteView value) {
  if (key.size() > options_.key_size_bytes_max) {
    return Error(ErrorCode::invalid_argument,
                 concat("key of ", key.size(), " bytes exceeds ", options_.key_size_bytes_max));
  }
  if (value.size() > options_.value_size_bytes_max) {
    return Error(ErrorCode::invalid_argument, concat("value of ", value.size(), " bytes exceeds ",
                                                     options_.value_size_bytes_max));
  }
  pending_.put(key, value);
  return ok_status();
}

Status Journal::remove(ByteView key) {
  if (key.size() > options_.key_size_bytes_max) {
    return Error(ErrorCode::invalid_argument,
                 concat("key of ", key.size(), " bytes exceeds ", options_.key_size_bytes_max));
  }
  pending_.remove(key);
  return ok_status();
}

Result<WriteSet> Journal::seal(Term term, int64_t commit_time_ns) {
  MutationScope scope(mutating_);
  QUIRE_TRY(check_writable());
  QUIRE_ASSERT_MSG(held_ == nullptr, "seal while an uncommitted write set is held");
  QUIRE_ASSERT(sealing_ == nullptr);
  // Puts that arrive while the seal suspends go into a fresh layer (get_pending sees both).
  PendingLayer layer = std::move(pending_);
  pending_.clear();
  sealing_ = &layer;
  Result<WriteSet> sealed = seal_layer(layer, term, commit_time_ns);
  sealing_ = nullptr;
  if (!sealed.ok()) {
    layer.absorb(pending_);
    pending_ = std::move(layer);
  }
  return sealed;
}

Result<WriteSet> Journal::seal_layer(const PendingLayer& layer, Term term, int64_t commit_time_ns) {
  const RootBlock base = root_;
  const CommitCounter counter = base.commit_counter.next();
  WriteCache cache(base.end_offset, term, counter, options_.write_cache_block_size_bytes);
  const TreeShape data_shape{options_.node_size_bytes_max, options_.value_inline_bytes_max,
                             options_.write_cache_block_size_bytes};
  BTreeUpdate data(reader_, cache, data_shape, counter);
  const std::vector<Mutation> mutations = layer.mutations();
  QUIRE_TRY_ASSIGN(const Address tree_root, data.apply(base.tree_root, mutations));

  // Every write set records the commit point before it in the commit-record index: root N-1 is
  // final (committed) when write set N is sealed, whereas root N is not (its term may change).
  TreeShape index_shape = data_shape;
  index_shape.value_inline_bytes_max = static_cast<uint32_t>(format::root_block_size_bytes);
  BTreeUpdate index(reader_, cache, index_shape, counter);
  const Bytes index_key = commit_index_key(base.commit_counter);
  const EncodedRootBlock index_value = encode_root_block(base);
  const Mutation index_entry{index_key, false, index_value};
  QUIRE_TRY_ASSIGN(const Address index_root,
                   index.apply(base.commit_index_root, std::span(&index_entry, 1)));

  std::vector<Bytes> blocks = cache.finish();
  Checksummer hash;
  for (const Bytes& block : blocks)
    hash.update(block);
  const int64_t key_count = static_cast<int64_t>(base.key_count) + data.key_count_delta();
  QUIRE_ASSERT(key_count >= 0);
  RootBlock proposed;
  proposed.commit_counter = counter;
  proposed.commit_time_ns = commit_time_ns;
  proposed.term = term;
  proposed.write_set_begin_offset = base.end_offset;
  proposed.end_offset = cache.end_offset();
  proposed.write_set_block_count = blocks.size();
  proposed.write_set_hash = hash.digest();
  proposed.tree_root = tree_root;
  proposed.commit_index_root = index_root;
  proposed.key_count = static_cast<uint64_t>(key_count);

  // Before anything is held: a failed sync there leaves nothing to drop.
  QUIRE_TRY(allocate_through(proposed.end_offset));
  auto halog = HALogWriter::create(disk_, halog_path(counter), base);
  if (!halog.ok()) {
    (void)disk_.unlink(halog_path(counter));  // Perhaps created before the failure; else absent.
    return std::move(halog).error();
  }
  auto held = std::make_unique<HeldWriteSet>(HeldWriteSet::Origin::sealed, counter, base.end_offset,
                                             std::move(halog).value());
  for (const Bytes& block : blocks) {
    const auto header = peek_write_cache_block_header(block);
    QUIRE_ASSERT(header.ok());
    Status written_ok = file_->write(header->file_offset, block);
    if (written_ok.ok()) written_ok = held->halog()->append_block(block);
    if (!written_ok.ok()) {
      held_ = std::move(held);
      const Status dropped = drop_held();
      (void)dropped;  // A failed truncate marks the journal failed; the write error matters more.
      return std::move(written_ok).error();
    }
    held->add_block(*header, block);
  }
  QUIRE_ASSERT(held->complete());
  QUIRE_ASSERT(held->end_offset() == proposed.end_offset);
  QUIRE_ASSERT(held->write_set_hash() == proposed.write_set_hash);
  held->set_proposed(proposed);
  held_ = std::move(held);
  for (const auto& [offset, node] : data.written_nodes())
    cache_.insert(offset, node);
  for (const auto& [offset, node] : index.written_nodes())
    cache_.insert(offset, node);
  return WriteSet{counter, std::move(blocks), proposed};
}

Status Journal::lay_down(ByteView block) {
  MutationScope scope(mutating_);
  QUIRE_TRY(check_writable());
  QUIRE_ASSERT_MSG(held_ == nullptr || held_->origin() == HeldWriteSet::Origin::laid_down,
                   "lay_down over a write set this member sealed: roll it back first");
  QUIRE_ASSERT_MSG(pending_.empty(), "lay_down with a pending layer: roll it back first");
  return lay_down_block(block, true);
}

Status Journal::lay_down_block(ByteView block, bool write_halog) {
  QUIRE_TRY_ASSIGN(const WriteCacheBlockHeader header, verify_write_cache_block(block));
  const CommitCounter expected = root_.commit_counter.next();
  if (header.commit_counter != expected) {
    return not_continuing(header, concat("is not of the next commit point, ", expected));
  }
  if (held_ != nullptr) {
    if (header.sequence < held_->blocks().size()) {
      if (held_->holds_same_block(header, block)) return ok_status();
      return not_continuing(header, "conflicts with the block held at that sequence");
    }
    if (held_->complete() || header.sequence != held_->blocks().size() ||
        header.file_offset != held_->end_offset() ||
        (!held_->blocks().empty() && header.term != held_->term())) {
      return not_continuing(header,
                            concat("does not continue the held write set (", held_->blocks().size(),
                                   " blocks to ", held_->end_offset(), ")"));
    }
  } else {
    if (header.sequence != 0 || header.file_offset != root_.end_offset) {
      return not_continuing(header,
                            concat("does not start at the committed end ", root_.end_offset));
    }
    std::unique_ptr<HALogWriter> halog;
    if (write_halog) {
      QUIRE_TRY_ASSIGN(halog, HALogWriter::create(disk_, halog_path(expected), root_));
    }
    held_ = std::make_unique<HeldWriteSet>(HeldWriteSet::Origin::laid_down, expected,
                                           root_.end_offset, std::move(halog));
  }
  QUIRE_TRY(allocate_through(header.file_offset + block.size()));
  QUIRE_TRY(file_->write(header.file_offset, block));
  if (held_->halog() != nullptr) QUIRE_TRY(held_->halog()->append_block(block));
  held_->add_block(header, block);
  return ok_status();
}

Status Journal::allocate_through(uint64_t data_end) {
  // The journal's size is not the end of its data: past the data lie zeros, written and synced
  // here a step at a time, before the blocks that need them. A block written there overwrites
  // allocated, written file blocks, so PREPARE's sync carries data only: no size, no extent
  // conversion (fallocate alone would leave unwritten extents, whose conversion at the first
  // write is metadata that sync must journal). Growing before the blocks are written (not
  // after) keeps this sync from making a write set durable before PREPARE: what a crash leaves
  // of one stays what it was without preallocation.
  const uint64_t step = options_.allocation_step_bytes;
  if (step == 0) return ok_status();
  QUIRE_TRY_ASSIGN(const uint64_t size, file_->size());
  if (size >= data_end + step / 2) return ok_status();
  // To a multiple of the step: then the size is a function of the data's end alone, whether the
  // write set was sealed here whole or laid down block by block, and the members' files stay
  // byte-identical.
  const uint64_t target = (data_end + step / 2 + step - 1) / step * step;
  QUIRE_ASSERT(target > size && target >= data_end + step / 2);
  QUIRE_ASSERT(target - data_end < step / 2 + step);
  constexpr uint64_t chunk_bytes_max = 1u << 20;
  const Bytes zeros(std::min(chunk_bytes_max, target - size), 0);
  for (uint64_t offset = size; offset < target;) {
    const uint64_t length = std::min<uint64_t>(zeros.size(), target - offset);
    if (!file_->write(offset, ByteView(zeros).first(length)).ok()) {
      // Best effort: a full disk (or a failed write) leaves less room ahead, and nothing depends
      // on it. Unsynced, the part written rides on the next sync; the blocks' own writes grow
      // the file, or report no_space, as without preallocation.
      return ok_status();
    }
    offset += length;
  }
  return sync_journal();
}

std::optional<CommitCounter> Journal::uncommitted_counter() const {
  if (held_ == nullptr) return std::nullopt;
  return held_->commit_counter();
}

Status Journal::check_proposal(const RootBlock& proposed) const {
  if (held_ == nullptr || held_->commit_counter() != proposed.commit_counter) {
    return Error(ErrorCode::unavailable,
                 concat("no write set of commit point ", proposed.commit_counter, " is held"));
  }
  const HeldWriteSet& held = *held_;
  if (!held.complete()) {
    return Error(ErrorCode::unavailable,
                 concat("only ", held.blocks().size(), " blocks of write set ",
                        proposed.commit_counter, " are held, not its last"));
  }
  const bool matches = proposed.write_set_begin_offset == held.begin_offset() &&
                       proposed.end_offset == held.end_offset() &&
                       proposed.write_set_block_count == held.blocks().size() &&
                       proposed.write_set_hash == held.write_set_hash() &&
                       (!held.proposed().has_value() || held.proposed()->same_write_set(proposed));
  if (!matches) {
    return Error(ErrorCode::invalid_argument,
                 concat("root block of commit point ", proposed.commit_counter,
                        " describes another write set than the one held"));
  }
  // Addresses inside the write set's range: the same checks as a root block read from disk.
  const auto encoded = encode_root_block(proposed);
  const auto decoded = decode_root_block(encoded);
  if (!decoded.ok()) return Error(ErrorCode::invalid_argument, decoded.error().message());
  return ok_status();
}

Status Journal::sync_journal() {
  Status synced = file_->sync();
  if (!synced.ok()) {
    failed_ = true;
    return synced;
  }
  root_unsynced_ = false;  // The sync covered the root slot too.
  return synced;
}

Status Journal::sync_committed() {
  MutationScope scope(mutating_);
  // A rebuild being installed replaces this file, root slot and all: nothing to keep here.
  if (!root_unsynced_ || install_ != nullptr) return ok_status();
  QUIRE_TRY(check_writable());
  return sync_journal();
}

Status Journal::make_durable(const RootBlock* vote) {
  QUIRE_ASSERT(held_ != nullptr);
  const bool recorded = vote == nullptr || (last_prepared_record_.has_value() &&
                                            last_prepared_record_->prepared == *vote);
  if (held_->prepared() && recorded) return ok_status();
  // A YES vote says "the write set is on my disk". What arrived was checked, but a misdirected
  // write may have put it elsewhere: read it back before anything names it.
  if (!held_->prepared()) QUIRE_TRY(verify_held_bytes());
  if (!recorded) QUIRE_TRY(write_prepared_record(*vote));
  // The journal alone, once: its blocks past the committed end and the prepared record are what
  // open() holds again after a crash. The HALog is derived from them and rebuilt by open().
  QUIRE_TRY(sync_journal());
  held_->set_prepared();
  return ok_status();
}

Result<uint64_t> Journal::hash_of_range(uint64_t begin, uint64_t end) {
  constexpr uint64_t chunk_bytes = 1u << 20;
  Checksummer checksummer;
  for (uint64_t offset = begin; offset < end;) {
    Bytes bytes(std::min(chunk_bytes, end - offset));
    QUIRE_TRY(file_->read_exact(offset, bytes));
    checksummer.update(bytes);
    offset += bytes.size();
  }
  return checksummer.digest();
}

Status Journal::verify_held_bytes() {
  QUIRE_TRY_ASSIGN(const uint64_t hash, hash_of_range(held_->begin_offset(), held_->end_offset()));
  if (hash != held_->write_set_hash()) {
    return Error(ErrorCode::checksum_mismatch, concat("write set ", held_->commit_counter(),
                                                      " reads back different from what was ",
                                                      "written at ", held_->begin_offset()));
  }
  return ok_status();
}

Status Journal::write_prepared_record(const RootBlock& vote) {
  // Into the slot of the record before the last, so that a torn write leaves the last one: a
  // vote whose sync did not finish was never sent, the one before it may have been.
  const PreparedRecord record{next_prepared_sequence_++, vote, root_};
  const Status written = file_->write_prepared(record);
  if (!written.ok()) {
    failed_ = true;  // The slot may hold part of it.
    return written;
  }
  last_prepared_record_ = record;
  return ok_status();
}

Status Journal::prepare(const RootBlock& proposed) {
  MutationScope scope(mutating_);
  QUIRE_TRY(check_writable());
  QUIRE_TRY(check_proposal(proposed));
  // Planted bug: the YES that follows says "durable" while the write set may sit unsynced.
  if (!planted(PlantedBug::yes_before_durable)) QUIRE_TRY(make_durable(&proposed));
  held_->set_proposed(proposed);
  return ok_status();
}

Status Journal::commit(const RootBlock& root) {
  MutationScope scope(mutating_);
  QUIRE_TRY(check_writable());
  if (root == root_) return ok_status();  // A repeated COMMIT.
  QUIRE_TRY(check_proposal(root));
  // A root block must never reach the disk before its write set: sync that first if needed.
  QUIRE_TRY(make_durable(nullptr));
  return commit_held(root);
}

Status Journal::commit_held(const RootBlock& root) {
  QUIRE_ASSERT(held_ != nullptr && held_->prepared());
  HALogWriter* halog = held_->halog();
  // The HALog first: a crash between the two may leave a complete HALog that open() rolls
  // forward. No sync of its own: open() rebuilds a lost or torn HALog from the journal.
  if (halog != nullptr && !halog->closed()) QUIRE_TRY(halog->close(root));
  Status written = file_->write_root(root);
  // Unsynced: the commit was decided on a majority's prepared copies, so a crash that loses
  // this root leaves the write set held and prepared here, and the leader's next word commits it
  // again. The next sync of the journal makes it durable. A root block a misdirected write put
  // elsewhere is caught here, not after a crash.
  if (written.ok()) written = file_->verify_root(root);
  if (!written.ok()) {
    failed_ = true;  // The slot may hold part of the new root block.
    return written;
  }
  QUIRE_ASSERT(root.end_offset == held_->end_offset());
  root_ = root;
  root_unsynced_ = true;
  held_.reset();
  reader_.set_cacheable_end(root_.end_offset);
  return ok_status();
}

Status Journal::rollback() {
  MutationScope scope(mutating_);
  pending_.clear();
  if (held_ == nullptr) return ok_status();
  return drop_held();
}

Status Journal::drop_held() {
  QUIRE_ASSERT(held_ != nullptr);
  const CommitCounter counter = held_->commit_counter();
  held_.reset();
  cache_.evict_from(root_.end_offset);
  if (!failed_) {
    // Synced: open() holds again a whole write set it finds past the committed end, so a rolled
    // back one must be gone for good before the HALog goes (its other source at open).
    Status truncated = file_->truncate(root_.end_offset);
    if (truncated.ok()) truncated = sync_journal();
    if (!truncated.ok()) {
      failed_ = true;
      return truncated;
    }
  }
  Status unlinked = disk_.unlink(halog_path(counter));
  if (!unlinked.ok() && unlinked.code() != ErrorCode::not_found) return unlinked;
  return ok_status();
}

Result<std::vector<Bytes>> Journal::uncommitted_blocks() {
  std::vector<Bytes> blocks;
  if (held_ == nullptr) return blocks;
  const std::vector<Address> addresses = held_->blocks();
  for (const Address& address : addresses) {
    Bytes block(address.length);
    QUIRE_TRY(file_->read_exact(address.offset, block));
    QUIRE_TRY(verify_write_cache_block(block));
    blocks.push_back(std::move(block));
  }
  return blocks;
}

}  // namespace quire::store
