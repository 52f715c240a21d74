// Snapshots: a full backup of one commit point: the journal's committed prefix at that point
// (its root block and data region bytes [data region begin, root.end_offset)), compressed with
// zstd in independent frames, in snapshots/<counter>.snap. Snapshot + later HALogs restore any
// commit point in between (restore.h).
//
// Layout (docs/format.md, "Snapshots"):
//   header (192 bytes): magic "QUIRE-SN", u16 version, u16 header size, u32 zero,
//     u64 commit counter, u64 data length, u32 frame size, u32 zero, the root block (128 bytes),
//     zeros, u64 XXH3 of bytes [0, 184);
//   frames, each covering the next `frame size` bytes of data (the last fewer):
//     u32 compressed length, u32 uncompressed length, u64 XXH3 of (those 8 bytes, compressed
//     bytes), then the compressed bytes (one zstd frame);
//   trailer (32 bytes): magic "QUIRE-SE", u64 frame count, u64 XXH3 of all data bytes in order,
//     u64 XXH3 of the trailer's first 24 bytes.
// Written to <counter>.snap.tmp, synced, then renamed: a .snap file is always whole, so any
// failure to read one back is corruption, never a torn write. Blocks are verified as they are
// read from the journal, so rot in the journal is refused rather than copied into a backup.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "io/base/bytes.h"
#include "io/base/ids.h"
#include "io/base/result.h"
#include "io/disk.h"
#include "store/journal.h"
#include "store/root_block.h"

namespace quire::store {

struct SnapshotOptions {
  uint32_t frame_size_bytes = format::snapshot_frame_size_bytes_default;
  int zstd_level = 3;
};

struct SnapshotInfo {
  CommitCounter commit_counter;
  std::string path;
  uint64_t data_length = 0;  // Uncompressed bytes of the data region.
  uint64_t size_bytes = 0;   // Of the snapshot file.
};

// Writes the snapshot of commit point `counter` of `journal` into its snapshot directory. The
// journal may keep committing meanwhile. Errors: not_found (no such commit point),
// checksum_mismatch (a rotten block in the journal), no_space, io_error. Suspends.
Result<SnapshotInfo> write_snapshot(Journal& journal, CommitCounter counter,
                                    const SnapshotOptions& options = {});

// Counters of the complete snapshots in `directory` (a journal's snapshot directory), ascending.
Result<std::vector<CommitCounter>> list_snapshots(io::Disk& disk, std::string_view directory);
std::string snapshot_path(std::string_view directory, CommitCounter counter);

// Reads a snapshot file, checking everything it reads. Suspends.
class SnapshotReader {
 public:
  // Opens and checks the header. Errors: not_found, io_error, checksum_mismatch / corruption.
  static Result<std::unique_ptr<SnapshotReader>> open(io::Disk& disk, std::string path);

  const RootBlock& root() const { return root_; }
  uint64_t data_length() const { return data_length_; }

  // Streams the data region in order to `sink` (offset in the journal, bytes), checking every
  // frame, the trailer and the blocks. Errors: checksum_mismatch / corruption (the first failure,
  // with its place), io_error, or what `sink` returns.
  using Sink = std::function<Status(uint64_t offset, ByteView bytes)>;
  Status read_data(const Sink& sink);
  // read_data with a sink that keeps nothing: a whole-file check.
  Status verify();

 private:
  SnapshotReader(std::unique_ptr<io::File> file, std::string path)
      : file_(std::move(file)), path_(std::move(path)) {}
  Status read_header();
  Error damaged(std::string_view what) const;

  std::unique_ptr<io::File> file_;
  std::string path_;
  uint64_t file_size_ = 0;
  RootBlock root_;
  uint64_t data_length_ = 0;
  uint32_t frame_size_ = 0;
};

}  // namespace quire::store
