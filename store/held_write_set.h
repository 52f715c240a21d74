// HeldWriteSet: the one uncommitted write set a journal holds, sealed by this member as leader or
// laid down block by block as follower: where its blocks are, their running write-set hash, the
// HALog being written for it, and how far the two-phase commit has gone. Memory only; after a
// crash, open builds one again from a whole write set past the committed end (or in its HALog),
// not prepared: prepare syncs again before this member may vote.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "io/base/checksum.h"
#include "store/halog_writer.h"
#include "store/root_block.h"
#include "store/write_cache_block.h"

namespace quire::store {

class HeldWriteSet {
 public:
  enum class Origin { sealed, laid_down };

  // `halog` may be null: a roll-forward at open replays an HALog that already exists.
  HeldWriteSet(Origin origin, CommitCounter commit_counter, uint64_t begin_offset,
               std::unique_ptr<HALogWriter> halog)
      : origin_(origin),
        commit_counter_(commit_counter),
        begin_offset_(begin_offset),
        end_offset_(begin_offset),
        halog_(std::move(halog)) {}

  // Registers the next block, already written at its offset. REQUIRES: it continues the set.
  void add_block(const WriteCacheBlockHeader& header, ByteView block) {
    QUIRE_ASSERT(!complete());
    QUIRE_ASSERT(header.commit_counter == commit_counter_);
    QUIRE_ASSERT(header.sequence == blocks_.size());
    QUIRE_ASSERT(header.file_offset == end_offset_);
    QUIRE_ASSERT(blocks_.empty() || header.term == term_);
    QUIRE_ASSERT(header.length == block.size());
    term_ = header.term;
    blocks_.push_back(header.address());
    block_checksums_.push_back(load_le<uint64_t>(block.data() + format::block_field::checksum));
    hash_.update(block);
    end_offset_ += block.size();
    last_seen_ = header.last_in_write_set();
  }

  // Whether the block with this header and bytes is the one already held at its sequence.
  bool holds_same_block(const WriteCacheBlockHeader& header, ByteView block) const {
    QUIRE_ASSERT(header.sequence < blocks_.size());
    return blocks_[header.sequence] == header.address() &&
           block_checksums_[header.sequence] ==
               load_le<uint64_t>(block.data() + format::block_field::checksum);
  }

  Origin origin() const { return origin_; }
  CommitCounter commit_counter() const { return commit_counter_; }
  uint64_t begin_offset() const { return begin_offset_; }
  uint64_t end_offset() const { return end_offset_; }
  Term term() const { return term_; }
  const std::vector<Address>& blocks() const { return blocks_; }
  bool complete() const { return last_seen_; }
  uint64_t write_set_hash() const { return hash_.digest(); }
  HALogWriter* halog() { return halog_.get(); }
  void attach_halog(std::unique_ptr<HALogWriter> halog) {
    QUIRE_ASSERT(halog_ == nullptr);
    halog_ = std::move(halog);
  }

  // The root block sealed (leader) or prepared (both); commit must match it but for term/time.
  const std::optional<RootBlock>& proposed() const { return proposed_; }
  void set_proposed(const RootBlock& root) { proposed_ = root; }
  bool prepared() const { return prepared_; }
  void set_prepared() { prepared_ = true; }

 private:
  Origin origin_;
  CommitCounter commit_counter_;
  uint64_t begin_offset_;
  uint64_t end_offset_;
  Term term_;
  std::vector<Address> blocks_;
  std::vector<uint64_t> block_checksums_;
  Checksummer hash_;
  bool last_seen_ = false;
  std::unique_ptr<HALogWriter> halog_;
  std::optional<RootBlock> proposed_;
  bool prepared_ = false;
};

}  // namespace quire::store
