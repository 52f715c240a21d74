// CommittedDigest: one number for a member's committed state, so that an operator or a test can
// see that the members of a group hold the same bytes without copying their journals. Members
// lay the same blocks at the same offsets (docs/format.md), so at one commit point their
// committed data regions are byte for byte equal, and so are their digests; rot that the
// scrubber has not mended yet shows as a differing digest.
#pragma once

#include <cstdint>

#include "io/base/ids.h"
#include "io/base/result.h"
#include "store/journal.h"

namespace quire::store {

struct CommittedDigest {
  CommitCounter commit_counter;  // The commit point the digest is of.
  uint64_t end_offset = 0;       // Its data region is [data_region_begin_offset, end_offset).
  uint64_t bytes_hash = 0;       // XXH3 of the data region's raw bytes.
};

// Reads the committed data region as of the commit point current when called, in chunks of a
// few MiB, so memory stays bounded whatever the journal's size. It reads every committed byte:
// it costs what a scrub pass costs, without the pacing. Suspends. Errors: those of
// Journal::read_raw.
Result<CommittedDigest> digest_committed_bytes(Journal& journal);

}  // namespace quire::store
