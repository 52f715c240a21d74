// BlockStreamVerifier: checks bytes of a journal's data region that arrive in order, in chunks
// of any size (a rebuild from a peer, a snapshot being written or restored): every block must
// verify, sit at the offset its header names, belong to a commit point no later than the one
// being copied, and the stream must end exactly on a block boundary at the expected end. Holds
// at most one incomplete block in memory.
#pragma once

#include <cstdint>

#include "io/base/bytes.h"
#include "io/base/ids.h"
#include "io/base/result.h"

namespace quire::store {

class BlockStreamVerifier {
 public:
  // Bytes from `begin_offset` up to `end_offset`, of commit points <= `commit_counter_max`.
  BlockStreamVerifier(uint64_t begin_offset, uint64_t end_offset, CommitCounter commit_counter_max);

  // The next bytes. Errors: checksum_mismatch / corruption naming the offset, invalid_argument
  // past the end.
  Status feed(ByteView bytes);
  // Errors: unavailable when bytes are missing or a block is unfinished.
  Status finish() const;

  uint64_t next_offset() const { return next_offset_; }

 private:
  uint64_t end_offset_;
  CommitCounter commit_counter_max_;
  uint64_t next_offset_;
  uint64_t buffer_offset_;  // File offset of buffer_[0]: the start of an incomplete block.
  Bytes buffer_;
};

}  // namespace quire::store
