// Bulk transfers between members, outside the core: HALogs for resync, the committed prefix for
// rebuild, single records for read repair. The fetching side returns the core input that reports
// the outcome; the serving side answers from the journal's committed state, which never changes
// below its end offset, so a copy stays consistent while the server goes on committing.
// See docs/protocol.md, "Catch-up".
#pragma once

#include "engine/core/input.h"
#include "engine/driver_stats.h"
#include "engine/transport.h"
#include "io/runtime.h"
#include "io/sync.h"
#include "store/address.h"
#include "store/journal.h"

namespace quire::engine {

// Fetches HALog `counter` from `peer` → HALogFetched or HALogFetchFailed. Suspends.
core::Input fetch_halog_from(Transport& transport, io::Runtime& runtime, NodeId peer,
                             CommitCounter counter, Instant deadline);

// Replaces this member's journal by `peer`'s committed prefix → RebuildDone or RebuildFailed.
// Takes `journal_mutex` around each journal call. Counts its progress into `stats`
// (rebuild_bytes_installed of rebuild_bytes_total). Suspends.
core::Input rebuild_from(Transport& transport, io::Runtime& runtime, store::Journal& journal,
                         io::Mutex& journal_mutex, NodeId peer, uint64_t chunk_bytes,
                         Duration timeout, DriverStats& stats);

// The longest byte range a member serves as one record: above the largest record (values up to
// JournalOptions::value_size_bytes_max, 16 MiB by default) and the scrubber's repair spans.
inline constexpr uint64_t record_fetch_bytes_max = 32u << 20;

// The bytes of the record at `address` (or any committed byte range up to
// record_fetch_bytes_max) as `peer` holds them (unverified: the caller's repair checks them).
// Suspends. Errors: not_found (the peer refused), and the transport's.
Result<Bytes> fetch_record_from(Transport& transport, io::Runtime& runtime, NodeId peer,
                                store::Address address, Instant deadline);

// Serves one bulk request from the journal's committed state. Suspends (disk reads).
wire::BulkResponse serve_bulk(store::Journal& journal, const wire::BulkRequest& request,
                              uint64_t chunk_bytes_max);

}  // namespace quire::engine
