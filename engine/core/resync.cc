#include "engine/core/resync.h"

#include "engine/core/leadership.h"
#include "engine/core/write_pipeline.h"
#include "io/base/planted_bug.h"

namespace quire::engine::core::resync {
namespace {

void finish(Context& context) {
  ResyncState& resync = context.state.resync;
  resync = ResyncState{};
}

void fetch_next(Context& context) {
  ReplicaState& state = context.state;
  ResyncState& resync = state.resync;
  QUIRE_ASSERT(resync.active && !resync.fetching && !state.committing);
  if (state.committed.commit_counter >= state.leader_committed) {
    finish(context);
    return;
  }
  resync.fetching = true;
  resync.fetching_counter = state.next_counter();
  context.emit(FetchHALog{resync.peer, resync.fetching_counter});
}

// The next member after `current` (cyclically) that is neither this member nor known to lack the
// HALog needed; node_none if there is none.
NodeId next_peer(const Context& context, NodeId current) {
  const std::vector<NodeId>& members = context.config.members;
  size_t start = 0;
  for (size_t index = 0; index < members.size(); index++) {
    if (members[index] == current) start = index;
  }
  for (size_t step = 1; step <= members.size(); step++) {
    const NodeId candidate = members[(start + step) % members.size()];
    if (candidate == context.config.self) continue;
    if (context.state.resync.peers_missing.contains(candidate)) continue;
    return candidate;
  }
  return node_none;
}

void start_rebuild(Context& context) {
  ReplicaState& state = context.state;
  ResyncState& resync = state.resync;
  // Rebuild copies a committed prefix, which every member has: the leader is the safest source.
  // Without a known leader, wait for one (the next heartbeat starts over).
  if (state.leader == node_none) {
    finish(context);
    return;
  }
  resync.peer = state.leader;
  write_pipeline::drop_held(context);
  context.mark("rebuild_started");
  resync.rebuilding = true;
  resync.fetching = true;
  resync.last_progress = state.now;
  context.emit(Rebuild{resync.peer});
}

// A damaged member rebuilds from the leader once its own vote can no longer matter: a prepared
// write set the leader has not committed yet may need this member's YES to stay decided.
void rebuild_damaged(Context& context) {
  ReplicaState& state = context.state;
  QUIRE_ASSERT(state.damaged);
  if (state.role != Role::follower || state.leader == node_none) return;
  if (state.resync.rebuilding || state.preparing || state.committing) return;
  if (state.prepared && state.leader_committed < state.prepared->commit_counter) return;
  if (state.damaged_rebuild_failed_at &&
      state.now.value() - state.damaged_rebuild_failed_at->value() <
          context.config.catch_up_stall_ticks) {
    return;
  }
  context.mark("damaged_member_rebuilds");
  state.resync = ResyncState{};  // A HALog fetch under way is forgotten: its answer is ignored.
  state.resync.active = true;
  start_rebuild(context);
}

bool is_outstanding(const Context& context, NodeId peer, CommitCounter counter) {
  const ResyncState& resync = context.state.resync;
  return resync.active && resync.fetching && !resync.rebuilding && resync.peer == peer &&
         resync.fetching_counter == counter;
}

}  // namespace

void on_leader_progress(Context& context) {
  ReplicaState& state = context.state;
  if (state.role != Role::follower || state.leader == node_none) return;
  if (state.damaged) {
    rebuild_damaged(context);
    return;
  }
  if (state.resync.active || state.preparing || state.committing) return;
  if (state.committed.commit_counter >= state.leader_committed) return;
  if (planted(PlantedBug::resync_never_starts)) return;  // Planted bug: it stays behind.
  context.mark("resync_started");
  state.resync.active = true;
  state.resync.peer = state.leader;
  state.resync.peers_missing.clear();
  state.resync.last_progress = state.now;
  fetch_next(context);
}

void on_committed(Context& context) {
  ReplicaState& state = context.state;
  if (!state.resync.active) {
    on_leader_progress(context);
    return;
  }
  state.resync.last_progress = state.now;
  fetch_next(context);
}

void on_halog_fetched(Context& context, const HALogFetched& fetched) {
  ReplicaState& state = context.state;
  if (!is_outstanding(context, fetched.peer, fetched.root.commit_counter)) return;
  state.resync.fetching = false;
  state.resync.last_progress = state.now;
  const store::RootBlock& root = fetched.root;
  if (state.held) {
    if (state.held->same_write_set(root.commit_counter, root.write_set_hash) &&
        state.held->complete()) {
      // The write set we hold (maybe prepared, maybe our vote made it commit) is the committed
      // one: keep its bytes and commit it.
      context.mark("resync_commits_held_write_set");
      state.committing = true;
      context.emit(CommitWriteSet{root});
      return;
    }
    // Another write set committed at this counter, so ours did not: it may go.
    write_pipeline::drop_held(context);
  }
  state.committing = true;
  context.emit(ReplayHALog{fetched.peer, fetched.halog, root});
}

void on_replay_failed(Context& context, const ReplayFailed& failed) {
  ReplicaState& state = context.state;
  ResyncState& resync = state.resync;
  QUIRE_ASSERT(state.committing);
  state.committing = false;
  if (!resync.active || failed.counter != state.next_counter()) return;
  if (failed.local) {
    finish(context);  // Our disk is full: the next heartbeat tries again.
    return;
  }
  // Its copy does not replay here: as good as missing there.
  resync.peers_missing.insert(failed.peer);
  resync.peer = next_peer(context, failed.peer);
  if (resync.peer == node_none) {
    start_rebuild(context);
    return;
  }
  fetch_next(context);
}

void on_halog_fetch_failed(Context& context, const HALogFetchFailed& failed) {
  ReplicaState& state = context.state;
  ResyncState& resync = state.resync;
  if (!is_outstanding(context, failed.peer, failed.counter)) return;
  resync.fetching = false;
  switch (failed.failure) {
    case FetchFailure::not_yet:
      if (resync.peer == state.leader || state.leader == node_none) {
        finish(context);  // Our idea of the leader's progress is stale; the next heartbeat tells.
        return;
      }
      [[fallthrough]];  // A peer behind us lacks it too, for now.
    case FetchFailure::missing:
      if (failed.failure == FetchFailure::missing) context.mark("halog_missing_at_peer");
      resync.peers_missing.insert(resync.peer);
      resync.peer = next_peer(context, resync.peer);
      if (resync.peer == node_none) {
        start_rebuild(context);
        return;
      }
      break;
    case FetchFailure::unreachable: {
      // Try the next peer at the next tick, not at once: with every peer down, an immediate
      // retry would spin.
      const NodeId next = next_peer(context, resync.peer);
      if (next != node_none) resync.peer = next;
      return;
    }
  }
  fetch_next(context);
}

void on_rebuild_done(Context& context, const RebuildDone& done) {
  ReplicaState& state = context.state;
  ResyncState& resync = state.resync;
  if (!resync.rebuilding || done.peer != resync.peer) return;
  QUIRE_ASSERT(done.root.commit_counter >= state.committed.commit_counter);
  QUIRE_ASSERT(!state.held && !state.prepared);
  if (done.root.term > state.term) leadership::adopt_term(context, done.root.term);
  state.committed = done.root;
  state.damaged = false;       // Every committed byte came from the leader, checked.
  state.history_lost = false;  // And the driver removed the journal-lost marker before this.
  state.damaged_rebuild_failed_at.reset();
  resync.rebuilding = false;
  resync.fetching = false;
  resync.peers_missing.clear();
  resync.last_progress = state.now;
  state.leader_committed = std::max(state.leader_committed, done.root.commit_counter);
  fetch_next(context);
}

void on_rebuild_failed(Context& context, const RebuildFailed& failed) {
  ReplicaState& state = context.state;
  ResyncState& resync = state.resync;
  if (!resync.rebuilding || failed.peer != resync.peer) return;
  // The leader's copy may be damaged too until its scrubber mends it: do not retry at once.
  if (state.damaged) state.damaged_rebuild_failed_at = state.now;
  finish(context);  // The next heartbeat starts over.
}

void on_data_damaged(Context& context, const DataDamaged& damaged) {
  ReplicaState& state = context.state;
  // A group of one has nobody to rebuild from: it goes on serving what it can read.
  if (context.config.member_count() == 1) return;
  // A rebuild under way replaces every committed byte, checked as it arrives.
  if (state.resync.rebuilding) return;
  if (!state.damaged) {
    context.mark("data_damaged");
    state.damaged = true;
  }
  (void)damaged;
  if (state.role != Role::follower) {
    // A leader that cannot read its committed state cannot serve it; a candidate would become
    // one. Another member leads while this one rebuilds.
    if (state.is_leader()) context.mark("damaged_leader_steps_down");
    leadership::become_follower(context, node_none);
    return;
  }
  rebuild_damaged(context);
}

void on_tick(Context& context) {
  ReplicaState& state = context.state;
  ResyncState& resync = state.resync;
  if (resync.active && !resync.fetching && !resync.rebuilding && !state.committing) {
    fetch_next(context);  // A retry after an unreachable peer.
    return;
  }
  if (!resync.active || !resync.fetching || resync.rebuilding) return;
  if (state.now.value() - resync.last_progress.value() < context.config.catch_up_stall_ticks)
    return;
  // No answer from this peer: ask another (a late answer from it is ignored).
  resync.fetching = false;
  resync.last_progress = state.now;
  const NodeId next = next_peer(context, resync.peer);
  if (next != node_none) resync.peer = next;
  fetch_next(context);
}

}  // namespace quire::engine::core::resync
