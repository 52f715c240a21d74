// Input: everything that can happen to a replica. The driver feeds one at a time to
// Replica::step(); completions of effects come back as inputs. See docs/protocol.md.
#pragma once

#include <optional>
#include <variant>
#include <vector>

#include "engine/core/message.h"
#include "store/root_block.h"

namespace quire::engine::core {

// One tick of the driver's clock.
struct Tick {};

struct Received {
  Envelope envelope;
};

// Leader: client transactions wait in the pending layer.
struct PendingWork {};

// Answer to SealWriteSet or ReproposeWriteSet: the write set is written locally (journal and
// HALog, unsynced).
struct WriteSetSealed {
  store::RootBlock root;
  std::vector<SharedBytes> blocks;
};
// Answer to SealWriteSet when nothing could be sealed (the pending layer emptied, or the local
// write failed and the pending layer was failed back to its clients).
struct SealSkipped {};

// Completions of PrepareWriteSet, CommitWriteSet and ReplayHALog. A failed commit or replay is
// not an input: the driver stops the node (the journal refuses writes after a failed sync).
struct PrepareDone {
  store::RootBlock root;
  bool ok = false;
};
struct CommitDone {
  store::RootBlock root;
};
// A LayDownBlock failed (no space, I/O): the held write set is gone (the driver rolled it back).
struct LayDownFailed {
  CommitCounter counter;
};

// Resync: the HALog of `root.commit_counter` arrived from `peer` (bytes kept by the driver).
struct HALogFetched {
  NodeId peer;
  store::RootBlock root;  // Its closing root block.
  SharedBytes halog;
};
enum class FetchFailure : uint8_t {
  unreachable,  // No answer, or the connection broke.
  not_yet,      // The peer has not committed that counter.
  missing,      // The peer purged that HALog or holds it corrupt.
};
struct HALogFetchFailed {
  NodeId peer;
  CommitCounter counter;
  FetchFailure failure = FetchFailure::unreachable;
};
// A fetched HALog did not replay (it does not follow this commit point, or its bytes do not
// check): nothing changed; the peer is treated as lacking it.
struct ReplayFailed {
  NodeId peer;
  CommitCounter counter;
  // The failure was this member's own (a full disk), not the HALog's: retry later, from anyone.
  bool local = false;
};
// Rebuild: the committed prefix of `peer` up to `root` is installed here.
struct RebuildDone {
  NodeId peer;
  store::RootBlock root;
};
struct RebuildFailed {
  NodeId peer;
};

// Committed bytes here fail their checksum and no peer supplied a good copy (read repair or the
// scrubber asked every member): this member leaves the quorum and rebuilds (docs/protocol.md,
// "Catch-up", on read repair).
struct DataDamaged {
  uint64_t offset = 0;
};

// Leader: a linearizable read wants confirmation that this member still leads.
struct ReadRequested {
  uint64_t read_id = 0;
};

using Input = std::variant<Tick, Received, PendingWork, WriteSetSealed, SealSkipped, PrepareDone,
                           CommitDone, LayDownFailed, HALogFetched, HALogFetchFailed, ReplayFailed,
                           RebuildDone, RebuildFailed, DataDamaged, ReadRequested>;

const char* input_name(const Input& input);

}  // namespace quire::engine::core
