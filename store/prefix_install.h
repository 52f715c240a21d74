// PrefixInstall: receives a peer's committed prefix (rebuild) into journal.install, checking
// every block as its last byte arrives, and finally writes the root block into its slot, syncs
// and reads the slot back. The journal renames the file into place afterwards. Only whole,
// contiguous, verified blocks up to root.end_offset are accepted, so a finished install is a
// journal whose committed bytes equal the peer's, short of write faults of this disk in the data
// region (a misdirected block reads as rot, and the scrubber mends it from a peer); its root
// block is read back, because nothing could mend a journal without one. A crash at any point
// leaves journal.install behind, which open() deletes: the old journal is untouched until the
// rename.
// Suspends (writes through io::File).
#pragma once

#include <memory>
#include <string>

#include "io/base/bytes.h"
#include "io/base/result.h"
#include "io/disk.h"
#include "store/block_stream_verifier.h"
#include "store/root_block.h"

namespace quire::store {

class PrefixInstall {
 public:
  // Creates (or empties) the file at `path` with zeroed root slots.
  static Result<std::unique_ptr<PrefixInstall>> begin(io::Disk& disk, std::string path,
                                                      const RootBlock& root);

  // Bytes [offset, offset + bytes.size()) of the peer's data region. Errors: invalid_argument
  // (not the next offset, or past root.end_offset), checksum_mismatch / corruption (a block
  // that does not verify or does not fit), no_space, io_error.
  Status append(uint64_t offset, ByteView bytes);
  // Checks that the whole prefix arrived, writes the root block, syncs, reads the root block
  // back. Errors: unavailable (bytes missing), checksum_mismatch (the root block is not in its
  // slot: a misdirected write; the file must not be renamed into place), io_error.
  Status finish();

  const RootBlock& root() const { return root_; }
  const std::string& path() const { return path_; }

 private:
  PrefixInstall(std::unique_ptr<io::File> file, std::string path, const RootBlock& root);
  std::unique_ptr<io::File> file_;
  std::string path_;
  RootBlock root_;
  BlockStreamVerifier verifier_;
};

}  // namespace quire::store
