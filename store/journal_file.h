// JournalFile: the journal's file on disk: two root-block slots at its head and the append-only
// data region after them (docs/format.md, "Journal file").
//
//   [0, 4096)       slot 0: the root block of an even commit counter, then zeros
//   [4096, 8192)    slot 1: the root block of an odd commit counter, then zeros
//   [8192, 20480)   prepared slots 0, 1 and the mirror 2: the last two prepared records and a
//                   copy of the newest (prepared_record.h)
//   [20480, end)    write-cache blocks, back to back, in commit order
//
// The root block of commit N goes into slot N % 2, so the slot of the last commit point is never
// overwritten by the next commit: a crash while writing root N+1 leaves root N intact. Open picks
// the valid slot with the higher counter (newest_root); anything past its end offset belongs to
// a write set that never committed and is truncated away by the journal.
//
// A new journal is written whole under journal.install (commit point 0 in slot 0, zeros in slot
// 1), synced, and renamed into place, so that a journal file that exists always has a valid root.
// A rebuild's journal.install (prefix_install.h) also reads its root slot back before the rename:
// a root block that a misdirected write put elsewhere must fail the install, not replace a good
// journal with one that has no usable root.
// Suspends (every call goes through io::File).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "io/base/bytes.h"
#include "io/base/result.h"
#include "io/disk.h"
#include "store/prepared_record.h"
#include "store/root_block.h"

namespace quire::store {

class JournalFile {
 public:
  // Writes a journal holding `root` (and nothing in the data region) at `install_path`, synced,
  // then renames it to `path`. Used for commit point 0.
  static Status create(io::Disk& disk, const std::string& install_path, const std::string& path,
                       const RootBlock& root);
  static Result<std::unique_ptr<JournalFile>> open(io::Disk& disk, const std::string& path);

  // The valid root block with the highest counter whose data fits the file. `notes` gets a line
  // for each slot that was refused. One found in the other slot (a misdirected write put it over
  // its predecessor) is moved into its own slot and synced. Errors: corruption when no slot
  // holds a usable root block; invalid_argument when a slot holds a sound root block of another
  // format version (a journal this build cannot read); the move's write or sync error.
  Result<RootBlock> newest_root(std::vector<std::string>& notes);

  // Writes `root` into slot counter % 2 (unsynced). REQUIRES: encoded root fits a slot.
  Status write_root(const RootBlock& root);
  // Reads `root`'s slot back. Errors: checksum_mismatch when it does not hold `root` (a
  // misdirected write put it elsewhere), or the read's error.
  Status verify_root(const RootBlock& root);
  // Writes `record` into prepared slot sequence % 2 and the mirror slot, unsynced, and reads both
  // back. Errors: io_error (a copy reads back different: a misdirected write), the write's.
  Status write_prepared(const PreparedRecord& record);
  // The valid prepared records (at most three copies). `notes` gets a line for each slot refused.
  std::vector<PreparedRecord> prepared_records(std::vector<std::string>& notes);

  // The same two on a file that is not the journal yet: a rebuild's journal.install.
  static Status write_root_into(io::File& file, const RootBlock& root);
  static Status verify_root_in(io::File& file, const RootBlock& root);

  Result<size_t> read(uint64_t offset, MutableByteView target) {
    return file_->read(offset, target);
  }
  Status read_exact(uint64_t offset, MutableByteView target) {
    return file_->read_exact(offset, target);
  }
  Status write(uint64_t offset, ByteView source) { return file_->write(offset, source); }
  Status sync() { return file_->sync(); }
  Status truncate(uint64_t size_bytes) { return file_->truncate(size_bytes); }
  Result<uint64_t> size() { return file_->size(); }

  // Shared with RecordReader, which may still hold it while a rebuild swaps files.
  const std::shared_ptr<io::File>& file() const { return file_; }

  static uint64_t slot_offset(CommitCounter counter);

 private:
  explicit JournalFile(std::shared_ptr<io::File> file) : file_(std::move(file)) {}
  Status move_misplaced_root(const RootBlock& root, std::vector<std::string>& notes);

  std::shared_ptr<io::File> file_;
};

}  // namespace quire::store
