// WriteCache: the leader's buffer that packs the records of one write set into write-cache
// blocks (write_cache_block.h) at consecutive file offsets, starting at the committed end.
// Records never cross a block: when one does not fit what is left of the current block, the
// block is sealed (short) and a new one begins. In memory only; the journal writes the blocks.
#pragma once

#include <cstdint>
#include <vector>

#include "io/base/bytes.h"
#include "io/base/ids.h"
#include "store/address.h"
#include "store/format.h"

namespace quire::store {

class WriteCache {
 public:
  // REQUIRES: block_size_bytes within the format's bounds.
  WriteCache(uint64_t begin_offset, Term term, CommitCounter commit_counter,
             uint32_t block_size_bytes);

  // The largest record payload a block can carry.
  static size_t payload_capacity_bytes(uint32_t block_size_bytes);

  // Appends a record and returns its address (final: blocks are laid out as they fill).
  // REQUIRES: payload.size() <= payload_capacity_bytes(block size).
  Address append(format::RecordKind kind, ByteView payload);

  // Seals the last block, flagging it last in the write set, and hands over every block.
  // REQUIRES: at least one record was appended; called once.
  std::vector<Bytes> finish();

  // The offset just past the last record appended.
  uint64_t end_offset() const;

 private:
  void seal_current(bool last);

  uint64_t next_block_offset_;
  Term term_;
  CommitCounter commit_counter_;
  uint32_t block_size_bytes_;
  Bytes current_;  // The open block: header space, then records.
  uint32_t current_record_count_ = 0;
  std::vector<Bytes> sealed_;
  bool finished_ = false;
};

}  // namespace quire::store
