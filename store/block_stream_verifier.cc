#include "store/block_stream_verifier.h"

#include "io/base/text.h"
#include "store/write_cache_block.h"

namespace quire::store {

BlockStreamVerifier::BlockStreamVerifier(uint64_t begin_offset, uint64_t end_offset,
                                         CommitCounter commit_counter_max)
    : end_offset_(end_offset),
      commit_counter_max_(commit_counter_max),
      next_offset_(begin_offset),
      buffer_offset_(begin_offset) {
  QUIRE_ASSERT(begin_offset <= end_offset);
}

Status BlockStreamVerifier::feed(ByteView bytes) {
  if (bytes.size() > end_offset_ - next_offset_) {
    return Error(ErrorCode::invalid_argument, concat("bytes [", next_offset_, ", +", bytes.size(),
                                                     ") run past the end ", end_offset_));
  }
  next_offset_ += bytes.size();
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  size_t position = 0;
  while (buffer_.size() - position >= format::write_cache_block_header_size_bytes) {
    const ByteView rest = ByteView(buffer_).subspan(position);
    const uint64_t offset = buffer_offset_ + position;
    auto header = peek_write_cache_block_header(rest);
    if (!header.ok()) {
      return Error(ErrorCode::checksum_mismatch,
                   concat("no valid block at ", offset, ": ", header.error().message()));
    }
    if (header->file_offset != offset || header->commit_counter > commit_counter_max_ ||
        header->length > end_offset_ - offset) {
      return Error(
          ErrorCode::checksum_mismatch,
          concat("the block at ", offset, " claims offset ", header->file_offset, ", length ",
                 header->length, " and commit counter ", header->commit_counter));
    }
    if (rest.size() < header->length) break;
    QUIRE_TRY(verify_write_cache_block(rest.first(header->length)));
    position += header->length;
  }
  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(position));
  buffer_offset_ += position;
  return ok_status();
}

Status BlockStreamVerifier::finish() const {
  if (next_offset_ != end_offset_ || !buffer_.empty()) {
    return Error(ErrorCode::unavailable,
                 concat("data incomplete: ", next_offset_, " of ", end_offset_, " bytes, ",
                        buffer_.size(), " of them in an unfinished block"));
  }
  return ok_status();
}

}  // namespace quire::store
