// HALogReader: validates a whole HALog file (layout in halog_writer.h) and hands out its root
// blocks and blocks for replay or for sending to a peer.
//
// Torn or corrupt (docs/format.md, "HALog files"): when the file ends in a valid closing root
// block that describes the bytes before it, any failure before it is reported `corrupt`. In a
// settled HALog (synced at an open, docs/format.md) that is rot or a misdirected write; in one
// written since, a crash that kept the closing root but not an earlier write looks the same, and
// recovery rebuilds it from the journal either way. When the file does not end so, it is `torn`:
// a write set that never committed, or one whose end a crash lost; the scan reports where the
// valid prefix ends. A rotten closing root block cannot be told from a lost one, and is reported
// torn. Bytes that pass their checksums but do not fit together (a wrong counter, sequence,
// offset or write-set hash) are corrupt in either case.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/base/bytes.h"
#include "io/base/ids.h"
#include "io/base/result.h"
#include "io/disk.h"
#include "store/root_block.h"

namespace quire::store {

enum class HALogState { complete, torn, corrupt };
const char* halog_state_name(HALogState state);

struct HALogScan {
  HALogState state = HALogState::torn;
  std::string problem;           // Empty when complete.
  uint64_t valid_length = 0;     // Bytes of the valid prefix (whole entries).
  CommitCounter commit_counter;  // From the header, when it is valid.
  std::optional<RootBlock> opening_root;
  std::optional<RootBlock> closing_root;  // When complete.
  uint64_t block_bytes = 0;               // Bytes of the valid blocks.
  // [offset in the file, length) of each valid block, in order.
  std::vector<std::pair<uint64_t, uint64_t>> blocks;
  uint64_t write_set_hash = 0;   // XXH3 of the valid blocks.
  bool last_block_seen = false;  // The valid blocks end with the write set's last block.
};

class HALogReader {
 public:
  // Scans untrusted bytes of an HALog file; never fails, reports.
  static HALogScan scan(ByteView file_bytes);

  // A complete HALog. Errors: corruption ("torn: ..." for an incomplete file, or a structural
  // fault), checksum_mismatch (a corrupt file).
  static Result<HALogReader> parse(Bytes file_bytes);
  // Reads and parses the file at `path`. Errors: as parse(), plus not_found and io_error.
  // Suspends.
  static Result<HALogReader> read(io::Disk& disk, std::string_view path);

  CommitCounter commit_counter() const { return closing_root_.commit_counter; }
  const RootBlock& opening_root() const { return opening_root_; }
  const RootBlock& closing_root() const { return closing_root_; }
  size_t block_count() const { return blocks_.size(); }
  ByteView block(size_t index) const;
  // The whole file, as a peer would receive it.
  ByteView bytes() const { return bytes_; }

 private:
  HALogReader() = default;

  Bytes bytes_;
  RootBlock opening_root_;
  RootBlock closing_root_;
  std::vector<std::pair<uint64_t, uint64_t>> blocks_;
};

// Reads a whole file into memory. Suspends.
Result<Bytes> read_whole_file(io::Disk& disk, std::string_view path);

}  // namespace quire::store
