// Two-phase commit of a write set's root block. Phase one: every participant makes the write set
// and the proposed root block durable and votes; phase two: with a majority of YES (the leader
// counts), the root block is written everywhere. See docs/protocol.md, "The write path".
#pragma once

#include "engine/core/input.h"
#include "engine/core/replica_state.h"

namespace quire::engine::core::two_phase_commit {

// Leader.
// Asks the driver to seal the pending layer when nothing is in flight.
void maybe_seal(Context& context);
void on_sealed(Context& context, const WriteSetSealed& sealed);
void on_seal_skipped(Context& context);
void on_prepare_response(Context& context, const Envelope& envelope,
                         const PrepareResponse& response);
void on_leader_tick(Context& context);

// Follower.
void on_prepare(Context& context, const Envelope& envelope, const Prepare& prepare);
void on_commit(Context& context, const Envelope& envelope, const Commit& commit);
// The leader of the current term says it committed through `leader_committed`: a write set this
// member prepared under that leader's term at or below it is the one it committed (a leader
// proposes one root per counter per term), so it commits here too without waiting for Commit.
void on_leader_committed(Context& context, CommitCounter leader_committed);
// The last block of the held write set arrived: a waiting Prepare can go ahead.
void on_write_set_complete(Context& context);
void on_follower_tick(Context& context);

// Both.
void on_prepare_done(Context& context, const PrepareDone& done);
// The write set of `root` is committed here (CommitWriteSet or ReplayHALog completed).
void on_commit_done(Context& context, const CommitDone& done);
void on_lay_down_failed(Context& context, const LayDownFailed& failed);

}  // namespace quire::engine::core::two_phase_commit
