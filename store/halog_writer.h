// HALogWriter: writes the HALog file of one commit point, the unit of resync, incremental backup
// and restore. Every member writes one for every write set it holds: the leader at seal, a
// follower as it lays blocks down, a replay as it replays. They are byte-identical everywhere.
//
// Layout (docs/format.md, "HALog files"), in the order it is written:
//   header (64 bytes): magic "QUIRE-HL", u16 version, u16 header size, u32 zero,
//     u64 commit counter N, zeros, u64 XXH3 of bytes [0, 56);
//   opening root block: the committed root block N-1 the write set applies to (128 bytes);
//   the write set's blocks, each exactly as in the journal (self-checksummed, self-delimiting);
//   closing root block: root block N as committed (128 bytes), written at COMMIT.
// Crash at each step: before PREPARE's sync, any suffix may be lost or torn (the file is
// incomplete; recovery deletes an HALog past the journal's commit point). After it, header,
// opening root and blocks are durable. The closing root is appended at COMMIT but not synced on
// its own: if a crash loses it while the journal's root block N survived, recovery appends it
// again from the journal (Journal::open).
//
// Suspends (every call writes through io::File).
#pragma once

#include <memory>
#include <string>

#include "io/base/bytes.h"
#include "io/base/ids.h"
#include "io/base/result.h"
#include "io/disk.h"
#include "store/root_block.h"

namespace quire::store {

class HALogWriter {
 public:
  // Creates (or empties) the file at `path` and writes the header and the opening root block,
  // unsynced. REQUIRES: opening.commit_counter + 1 == the write set's counter.
  static Result<std::unique_ptr<HALogWriter>> create(io::Disk& disk, std::string path,
                                                     const RootBlock& opening);

  // Reopens the HALog of an uncommitted write set found whole at recovery, to append its closing
  // root block later: keeps the first `valid_length` bytes (header, opening root, blocks).
  static Result<std::unique_ptr<HALogWriter>> reopen(io::Disk& disk, std::string path,
                                                     CommitCounter commit_counter,
                                                     uint64_t valid_length);

  // Appends one block (already checked by the caller), unsynced.
  Status append_block(ByteView block);
  // Appends the closing root block, unsynced. REQUIRES: not closed yet.
  Status close(const RootBlock& closing);
  // Makes everything appended so far durable. Errors: io_error (the data may be gone).
  Status sync();

  CommitCounter commit_counter() const { return commit_counter_; }
  const std::string& path() const { return path_; }
  uint64_t size_bytes() const { return size_bytes_; }
  bool closed() const { return closed_; }

 private:
  HALogWriter(std::unique_ptr<io::File> file, std::string path, CommitCounter commit_counter)
      : file_(std::move(file)), path_(std::move(path)), commit_counter_(commit_counter) {}
  Status append(ByteView bytes);

  std::unique_ptr<io::File> file_;
  std::string path_;
  CommitCounter commit_counter_;
  uint64_t size_bytes_ = 0;
  bool closed_ = false;
};

// The header of the HALog of commit point `commit_counter`.
Bytes encode_halog_header(CommitCounter commit_counter);

}  // namespace quire::store
