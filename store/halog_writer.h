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
// Durability: none of it is synced on the commit path, and the file is created without a
// directory sync (io::OpenMode::create_or_open_volatile). An HALog is derived data: HALog N is
// root N-1, the journal bytes of write set N and root N, all of which the journal holds durably
// once N commits (and the blocks alone once N is prepared). A crash may therefore lose, tear or
// drop the whole file; Journal::open rebuilds it from the journal (docs/format.md, "Commit
// order, crashes and recovery"). Readers check every byte (halog_reader.h).
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
  // Creates (or empties) the file at `path`, volatile (no directory sync), and writes the header
  // and the opening root block, unsynced. The opening root is that of the write set's counter-1.
  static Result<std::unique_ptr<HALogWriter>> create(io::Disk& disk, std::string path,
                                                     const RootBlock& opening);

  // Appends one block (already checked by the caller), unsynced.
  Status append_block(ByteView block);
  // Appends the closing root block, unsynced. REQUIRES: not closed yet.
  Status close(const RootBlock& closing);

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
// A whole HALog file: header, `opening`, the write set's block bytes exactly as in the journal,
// and `closing` when it is given (an uncommitted write set has none). Unchecked: the caller
// scans the result (HALogReader::scan).
Bytes encode_halog(const RootBlock& opening, ByteView blocks, const RootBlock* closing);

}  // namespace quire::store
