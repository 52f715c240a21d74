// QuorumState and QuorumStateFile: the small durable state each member keeps for elections:
// its current term and the member it voted for in that term. The engine stores it before it
// answers a vote (persist before send). The YES vote for a write set is not here: it is the
// journal's prepared record, made durable with the write set by one sync (journal.h).
//
// File layout (docs/format.md, "Quorum state"): three 4096-byte slots; the record of sequence s
// lives in slot s % 2 and, as a mirror, in slot 2:
//   magic "QUIRE-QS", u16 version, u16 record size (192), u32 zero, u64 sequence,
//   u64 current term, u32 voted-for NodeId (0: none), zeros, u64 XXH3 of bytes [0, 184).
// store() writes sequence s+1 into the other alternate slot and into the mirror slot, syncs once,
// and reads both back. A crash or a torn write while storing leaves the previous record intact in
// its alternate slot (and nothing that depended on the new one was sent); rot in one copy of the
// latest record leaves the other. load() picks the valid record with the highest sequence. An
// all-zero slot is empty (never written); a slot that is not all zeros and fails its checksum is
// refused; if no slot is valid but one is non-zero, load fails with corruption rather than forget a
// vote.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "io/base/ids.h"
#include "io/base/result.h"
#include "io/disk.h"
#include "store/root_block.h"

namespace quire::store {

struct QuorumState {
  Term current_term;
  NodeId voted_for = node_none;
  bool operator==(const QuorumState&) const = default;
};

// One member's quorum-state file. Suspends (every call goes through io::Disk).
class QuorumStateFile {
 public:
  // Opens the file at `path` (created empty when absent) and loads it. Errors: corruption (no
  // valid record but a damaged one), io_error.
  static Result<std::unique_ptr<QuorumStateFile>> open(io::Disk& disk, std::string path);

  // The last state stored (a default one for a new file).
  const QuorumState& state() const { return state_; }
  uint64_t sequence() const { return sequence_; }

  // Makes `state` durable. After a failed sync the file refuses stores (failed()) until it is
  // reopened: the write may or may not have reached the disk. Errors: io_error, no_space.
  Status store(const QuorumState& state);
  bool failed() const { return failed_; }

 private:
  QuorumStateFile(std::unique_ptr<io::File> file) : file_(std::move(file)) {}
  Status load();

  std::unique_ptr<io::File> file_;
  QuorumState state_;
  uint64_t sequence_ = 0;
  bool failed_ = false;
};

}  // namespace quire::store
