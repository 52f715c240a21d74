// Restore: rebuilds a journal at a chosen commit point from a backup: the newest snapshot at or
// before that point, rolled forward by the HALogs after it, one commit point at a time.
//
// Everything is checked before anything is written: the snapshot (every frame and block), and
// every HALog from the snapshot's counter + 1 up to the target (complete, and each one's opening
// root block equal to the previous closing one). A missing HALog (a gap), a torn or corrupt file,
// or a chain that does not link is refused with an error naming the file, and the target is left
// as it was. Then the target journal is created: the snapshot is installed like a rebuild
// (Journal::begin_install) and the HALogs are replayed, so the result is byte-identical to the
// journal that wrote them at that commit point, HALogs included. Suspends.
#pragma once

#include <string>

#include "io/base/ids.h"
#include "io/base/result.h"
#include "io/disk.h"
#include "store/journal.h"

namespace quire::store {

struct RestoreSource {
  io::Disk* disk = nullptr;
  // A journal directory (or a backup of one): its snapshots/ and halog/ are read.
  std::string directory;
};

// Restores commit point `target_counter` from `source` into a new journal under
// `target_options.directory` on `target_disk`. Errors: not_found (no snapshot at or before the
// target; a missing HALog: a gap), corruption / checksum_mismatch (a torn or corrupt file, a
// broken chain), already_exists (a journal is already there), invalid_argument (target equals
// source), io_error, no_space.
Result<RootBlock> restore(const RestoreSource& source, CommitCounter target_counter,
                          io::Disk& target_disk, const JournalOptions& target_options);

}  // namespace quire::store
