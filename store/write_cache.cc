#include "store/write_cache.h"

#include "store/record.h"
#include "store/write_cache_block.h"

namespace quire::store {

WriteCache::WriteCache(uint64_t begin_offset, Term term, CommitCounter commit_counter,
                       uint32_t block_size_bytes)
    : next_block_offset_(begin_offset),
      term_(term),
      commit_counter_(commit_counter),
      block_size_bytes_(block_size_bytes) {
  QUIRE_ASSERT(block_size_bytes >= format::write_cache_block_size_bytes_min);
  QUIRE_ASSERT(block_size_bytes <= format::write_cache_block_size_bytes_max);
  QUIRE_ASSERT(begin_offset >= format::data_region_begin_offset);
}

size_t WriteCache::payload_capacity_bytes(uint32_t block_size_bytes) {
  QUIRE_ASSERT(block_size_bytes >= format::write_cache_block_size_bytes_min);
  return block_size_bytes - format::write_cache_block_header_size_bytes -
         format::record_header_size_bytes;
}

Address WriteCache::append(format::RecordKind kind, ByteView payload) {
  QUIRE_ASSERT(!finished_);
  const size_t length = record_size_bytes(payload.size());
  QUIRE_ASSERT(payload.size() <= payload_capacity_bytes(block_size_bytes_));
  if (!current_.empty() && current_.size() + length > block_size_bytes_) seal_current(false);
  if (current_.empty()) {
    current_.reserve(block_size_bytes_);
    current_.resize(format::write_cache_block_header_size_bytes, 0);
  }
  const uint64_t offset = next_block_offset_ + current_.size();
  append_record(current_, offset, kind, payload);
  current_record_count_++;
  QUIRE_ASSERT(current_.size() <= block_size_bytes_);
  return Address{offset, static_cast<uint32_t>(length)};
}

void WriteCache::seal_current(bool last) {
  QUIRE_ASSERT(current_record_count_ > 0);
  WriteCacheBlockHeader header;
  header.record_count = current_record_count_;
  header.term = term_;
  header.commit_counter = commit_counter_;
  header.sequence = static_cast<uint32_t>(sealed_.size());
  header.flags = last ? format::block_flag_last_in_write_set : 0;
  header.file_offset = next_block_offset_;
  header.length = static_cast<uint32_t>(current_.size());
  seal_write_cache_block(current_, header);
  next_block_offset_ += current_.size();
  sealed_.push_back(std::move(current_));
  current_ = Bytes();
  current_record_count_ = 0;
}

std::vector<Bytes> WriteCache::finish() {
  QUIRE_ASSERT(!finished_);
  QUIRE_ASSERT(!current_.empty());
  seal_current(true);
  finished_ = true;
  return std::move(sealed_);
}

uint64_t WriteCache::end_offset() const {
  return next_block_offset_ + current_.size();
}

}  // namespace quire::store
