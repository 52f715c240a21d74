// Resync and rebuild decisions of a member that is behind: which HALog to fetch next and from
// whom, what to do with a write set it holds when the committed one arrives, when to give up on a
// peer, and when only a rebuild will do. The driver moves the bytes (FetchHALog, Rebuild); the
// core decides. See docs/protocol.md, "Catch-up".
#pragma once

#include "engine/core/input.h"
#include "engine/core/replica_state.h"

namespace quire::engine::core::resync {

// The leader's committed counter is known to be ahead: start catching up if not already.
void on_leader_progress(Context& context);
// A commit completed here while catching up: fetch the next HALog.
void on_committed(Context& context);
void on_halog_fetched(Context& context, const HALogFetched& fetched);
void on_halog_fetch_failed(Context& context, const HALogFetchFailed& failed);
void on_replay_failed(Context& context, const ReplayFailed& failed);
void on_rebuild_done(Context& context, const RebuildDone& done);
void on_rebuild_failed(Context& context, const RebuildFailed& failed);
// Committed bytes here are damaged and no peer supplied a good copy: leave the quorum (a leader
// steps down) and rebuild from the leader as soon as that is safe.
void on_data_damaged(Context& context, const DataDamaged& damaged);
// Gives up on a peer that makes no progress.
void on_tick(Context& context);

}  // namespace quire::engine::core::resync
