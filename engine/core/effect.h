// Effect: everything the core may ask of the world. The driver executes a step's effects in
// order, each to completion before the next starts, so that an effect listed before a Send is
// durable before the message leaves ("persist before send"). Effects that complete later report
// back as inputs (input.h).
#pragma once

#include <optional>
#include <variant>
#include <vector>

#include "engine/core/message.h"
#include "store/root_block.h"

namespace quire::engine::core {

struct Send {
  Envelope envelope;
};

// Writes the quorum-state file and syncs it: only when the term or the vote changes. The YES
// vote for a write set is made durable by PrepareWriteSet, with the write set.
struct PersistQuorumState {
  Term term;
  NodeId voted_for;
};

// Leader: seal the pending layer into the next write set → WriteSetSealed or SealSkipped.
struct SealWriteSet {
  Term term;
};
// Leader: the held prepared write set again, with a root block of this term → WriteSetSealed.
struct ReproposeWriteSet {
  Term term;
  store::RootBlock prepared;
};

// Follower: write a received block at its offset and append it to its HALog (unsynced).
// Failure → LayDownFailed.
struct LayDownBlock {
  SharedBytes bytes;
  CommitCounter counter;
  uint32_t sequence = 0;
};

// Checks the held write set against `root` and makes it and the vote for `root` durable with one
// sync of the journal (the prepared record) → PrepareDone. A YES may leave once it is done.
struct PrepareWriteSet {
  store::RootBlock root;
};
// Closes the HALog with `root` and writes the root block, unsynced: the root rides on the next
// sync of the journal, or the driver's within two ticks (docs/protocol.md, "One sync per commit
// point") → CommitDone.
struct CommitWriteSet {
  store::RootBlock root;
};
// Drops the held write set: truncate to the committed end, remove its partial HALog.
struct RollBack {
  CommitCounter counter;
};

// Resync and rebuild. The driver fetches in the background and answers with an input.
struct FetchHALog {
  NodeId peer;
  CommitCounter counter;
};
// Replays a fetched HALog onto the journal (lays down its blocks, commits its closing root
// block, writes the same HALog here) → CommitDone, or ReplayFailed.
struct ReplayHALog {
  NodeId peer;
  SharedBytes halog;
  store::RootBlock root;
};
struct Rebuild {
  NodeId peer;
};

// HALogs with counters at or below `through` may be deleted.
struct PurgeHALogs {
  CommitCounter through;
};

// Clients: the transactions of write set `counter` committed.
struct AcknowledgeWriteSet {
  CommitCounter counter;
};
// Clients: leadership is lost. The write set in flight (if any) may still commit (unknown
// outcome); transactions not yet sealed surely did not (not leader).
struct AbandonWriteSets {
  std::optional<CommitCounter> in_flight;
};
// Reads with ids at or below `through` may be served from the committed state.
struct ConfirmReads {
  uint64_t through = 0;
};
// Reads with ids at or below `through` cannot be confirmed here (not leader).
struct RefuseReads {
  uint64_t through = 0;
};

using Effect =
    std::variant<Send, PersistQuorumState, SealWriteSet, ReproposeWriteSet, LayDownBlock,
                 PrepareWriteSet, CommitWriteSet, RollBack, FetchHALog, ReplayHALog, Rebuild,
                 PurgeHALogs, AcknowledgeWriteSet, AbandonWriteSets, ConfirmReads, RefuseReads>;

const char* effect_name(const Effect& effect);

struct Step {
  std::vector<Effect> effects;
  // Named rare states reached during the step (coverage marks, docs/harness.md).
  std::vector<const char*> marks;
};

}  // namespace quire::engine::core
