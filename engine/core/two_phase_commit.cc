#include "engine/core/two_phase_commit.h"

#include <algorithm>

#include "engine/core/leadership.h"
#include "engine/core/resync.h"
#include "engine/core/write_pipeline.h"
#include "io/base/planted_bug.h"

namespace quire::engine::core::two_phase_commit {
namespace {

void vote(Context& context, const store::RootBlock& root, bool yes) {
  ReplicaState& state = context.state;
  if (state.leader == node_none || state.leader == context.config.self) return;
  const uint32_t blocks_held =
      state.held && state.held->same_write_set(root.commit_counter, root.write_set_hash)
          ? state.held->blocks_held
          : 0;
  context.send(state.leader, PrepareResponse{root.commit_counter, root.write_set_hash, root.term,
                                             yes, blocks_held, state.committed.commit_counter});
}

// Makes the held write set and `root` durable, then votes (on_prepare_done).
void prepare_held(Context& context, const store::RootBlock& root) {
  ReplicaState& state = context.state;
  QUIRE_ASSERT(state.held && state.held->complete());
  QUIRE_ASSERT(!state.preparing && !state.committing);
  state.prepare_waiting.reset();
  state.preparing = true;
  context.emit(PrepareWriteSet{root});  // The write set and the vote, one sync.
}

void maybe_commit(Context& context) {
  InFlightWriteSet& in_flight = *context.state.leading->in_flight;
  // Planted bug: each YES counts twice, so a minority (the leader alone of three) commits.
  const bool won = planted(PlantedBug::vote_counted_twice)
                       ? in_flight.votes.granted_count() * 2 >= context.quorum()
                       : in_flight.votes.won();
  if (in_flight.committing || !in_flight.prepared_here || !won) return;
  in_flight.committing = true;
  context.state.committing = true;
  context.emit(CommitWriteSet{in_flight.root});
}

bool matches_in_flight(const Context& context, const store::RootBlock& root) {
  const ReplicaState& state = context.state;
  return state.is_leader() && state.leading->in_flight && state.leading->in_flight->root == root;
}

void leader_prepare_done(Context& context, const PrepareDone& done) {
  ReplicaState& state = context.state;
  InFlightWriteSet& in_flight = *state.leading->in_flight;
  if (!done.ok) {
    // Its own copy does not check: it cannot commit it. Another leader may (from the followers'
    // copies), so the clients learn nothing certain.
    leadership::become_follower(context, node_none);
    write_pipeline::drop_held(context);
    return;
  }
  state.prepared = done.root;
  state.held->prepared = true;
  in_flight.prepared_here = true;
  in_flight.votes.grant(context.config.self);
  maybe_commit(context);
}

}  // namespace

void maybe_seal(Context& context) {
  ReplicaState& state = context.state;
  if (!state.is_leader()) return;
  LeaderState& leading = *state.leading;
  if (leading.in_flight || leading.sealing || !leading.pending_work) return;
  QUIRE_ASSERT(!state.held);
  leading.sealing = true;
  leading.pending_work = false;
  context.emit(SealWriteSet{state.term});
}

void on_sealed(Context& context, const WriteSetSealed& sealed) {
  ReplicaState& state = context.state;
  const store::RootBlock& root = sealed.root;
  const bool reproposal = state.prepared && root.same_write_set(*state.prepared);
  if (!state.is_leader() || !state.leading->sealing || root.term != state.term) {
    // Sealed for a leadership that ended. A new write set never left this member: it goes. A
    // re-proposed one stays held and prepared, as it was.
    if (!reproposal) context.emit(RollBack{root.commit_counter});
    return;
  }
  LeaderState& leading = *state.leading;
  QUIRE_ASSERT(root.commit_counter == state.next_counter());
  QUIRE_ASSERT(!sealed.blocks.empty() && sealed.blocks.size() == root.write_set_block_count);
  QUIRE_ASSERT(reproposal || !state.held);
  leading.sealing = false;
  const auto block_count = static_cast<uint32_t>(sealed.blocks.size());
  state.held =
      HeldWriteSet{root.commit_counter, root.write_set_hash, block_count, block_count, reproposal};
  leading.in_flight.emplace(InFlightWriteSet{root,
                                             sealed.blocks,
                                             reproposal,
                                             write_pipeline::choose_participants(context),
                                             VoteTally(context.config.member_count()),
                                             false,
                                             false,
                                             state.now,
                                             {}});
  write_pipeline::stream(context);
  for (NodeId participant : leading.in_flight->participants) {
    context.send(participant, Prepare{root});
  }
  state.preparing = true;
  context.emit(PrepareWriteSet{root});
}

void on_seal_skipped(Context& context) {
  ReplicaState& state = context.state;
  if (state.is_leader() && state.leading->sealing) {
    state.leading->sealing = false;
    maybe_seal(context);
  }
}

void on_prepare_response(Context& context, const Envelope& envelope,
                         const PrepareResponse& response) {
  ReplicaState& state = context.state;
  if (!state.is_leader()) return;
  if (response.yes && response.counter == state.committed.commit_counter &&
      response.write_set_hash == state.committed.write_set_hash &&
      response.root_term == state.committed.term && response.root_term == state.term) {
    // A YES that came after this leader decided: like the YES voters counted at the commit, the
    // voter holds the write set prepared under this term and commits it on the Commit or the
    // next write set's first block. Counted now, so that status shows it joined at once instead
    // of after the next heartbeat (whose answer corrects this if it is wrong).
    auto follower = state.leading->followers.find(envelope.from);
    if (follower != state.leading->followers.end()) {
      follower->second.committed = std::max(follower->second.committed, response.counter);
      follower->second.held.reset();
    }
    return;
  }
  if (!state.leading->in_flight) return;
  InFlightWriteSet& in_flight = *state.leading->in_flight;
  if (response.counter != in_flight.root.commit_counter ||
      response.write_set_hash != in_flight.root.write_set_hash ||
      response.root_term != in_flight.root.term) {
    return;  // An answer about another write set, or another root block of it.
  }
  const auto& participants = in_flight.participants;
  if (std::find(participants.begin(), participants.end(), envelope.from) == participants.end()) {
    return;
  }
  if (response.yes) {
    in_flight.votes.grant(envelope.from);
    maybe_commit(context);
    return;
  }
  if (in_flight.committing) return;
  // It lacks blocks (a broken pipeline, a late join, a corrupt frame): send them all again, at
  // most once per heartbeat interval, and only to a member that can take them. A member not at
  // the leader's commit point resyncs first; resending to it would only draw another NO.
  FollowerProgress& progress = state.leading->followers.at(envelope.from);
  progress.committed = response.committed;
  if (response.committed != state.committed.commit_counter) return;
  auto last_resend = in_flight.last_resend.find(envelope.from);
  if (last_resend != in_flight.last_resend.end() &&
      state.now.value() - last_resend->second.value() < context.config.heartbeat_interval_ticks) {
    return;
  }
  in_flight.last_resend[envelope.from] = state.now;
  context.mark("write_set_resent_after_no");
  write_pipeline::send_directly(context, envelope.from);
  context.send(envelope.from, Prepare{in_flight.root});
}

void on_leader_tick(Context& context) {
  ReplicaState& state = context.state;
  LeaderState& leading = *state.leading;
  if (!leading.in_flight) {
    maybe_seal(context);
    return;
  }
  InFlightWriteSet& in_flight = *leading.in_flight;
  if (in_flight.committing ||
      state.now.value() - in_flight.sent_at.value() < context.config.prepare_timeout_ticks) {
    return;
  }
  // No majority yet: re-form the pipeline from the members heard from lately and re-send the
  // write set from its start to those that have not voted YES.
  context.mark("pipeline_reformed");
  std::vector<NodeId> participants = write_pipeline::choose_participants(context);
  for (NodeId voter : in_flight.votes.granted_members()) {
    if (voter != context.config.self &&
        std::find(participants.begin(), participants.end(), voter) == participants.end()) {
      participants.push_back(voter);
    }
  }
  std::sort(participants.begin(), participants.end());
  std::vector<NodeId> resend;
  for (NodeId participant : participants) {
    if (!in_flight.votes.granted(participant)) resend.push_back(participant);
  }
  in_flight.participants = resend;
  write_pipeline::stream(context);
  for (NodeId participant : resend)
    context.send(participant, Prepare{in_flight.root});
  in_flight.participants = participants;
}

void on_prepare(Context& context, const Envelope& envelope, const Prepare& prepare) {
  ReplicaState& state = context.state;
  leadership::heard_from_leader(context, envelope.from);
  const store::RootBlock& root = prepare.root;
  if (root.commit_counter == state.committed.commit_counter &&
      root.same_write_set(state.committed)) {
    context.mark("vote_from_committed_copy");
    vote(context, root, true);  // Already committed here: it is durable.
    return;
  }
  if (root.commit_counter != state.next_counter() || state.resync.active || state.committing) {
    vote(context, root, false);
    return;
  }
  if (state.preparing) return;  // The answer to the earlier Prepare will do.
  const bool holds_it =
      state.held && state.held->same_write_set(root.commit_counter, root.write_set_hash);
  if (holds_it && state.held->complete()) {
    if (state.prepared && *state.prepared == root) {
      vote(context, root, true);
      return;
    }
    prepare_held(context, root);
    return;
  }
  context.mark("prepare_waits_for_blocks");
  state.prepare_waiting = root;
  state.prepare_waiting_since = state.now;
}

void on_write_set_complete(Context& context) {
  ReplicaState& state = context.state;
  if (!state.prepare_waiting || state.preparing) return;
  const store::RootBlock root = *state.prepare_waiting;
  if (state.held->same_write_set(root.commit_counter, root.write_set_hash)) {
    prepare_held(context, root);
  }
}

void on_follower_tick(Context& context) {
  ReplicaState& state = context.state;
  if (!state.prepare_waiting) return;
  if (state.now.value() - state.prepare_waiting_since.value() <
      context.config.prepare_timeout_ticks) {
    return;
  }
  const store::RootBlock root = *state.prepare_waiting;
  state.prepare_waiting.reset();
  vote(context, root, false);  // The leader re-sends what is missing.
}

// Follower: commits the held write set as `root`. The state moves at once: the driver completes
// the commit before it feeds the core anything else, and a failed commit stops the node.
void commit_held(Context& context, const store::RootBlock& root) {
  ReplicaState& state = context.state;
  QUIRE_ASSERT(!state.is_leader() && !state.preparing && !state.committing);
  QUIRE_ASSERT(state.held && state.held->same_write_set(root.commit_counter, root.write_set_hash));
  QUIRE_ASSERT(state.held->complete());
  context.emit(CommitWriteSet{root});
  state.committed = root;
  state.held.reset();
  state.prepared.reset();
  state.prepare_waiting.reset();
}

void on_leader_committed(Context& context, CommitCounter leader_committed) {
  ReplicaState& state = context.state;
  if (!state.prepared || state.preparing || state.committing || state.resync.active) return;
  const store::RootBlock& root = *state.prepared;
  if (root.commit_counter > leader_committed || root.term != state.term) return;
  context.mark("commit_implied_by_leader_progress");
  commit_held(context, root);
}

void on_commit(Context& context, const Envelope& envelope, const Commit& commit) {
  ReplicaState& state = context.state;
  leadership::heard_from_leader(context, envelope.from);
  const store::RootBlock& root = commit.root;
  if (root.commit_counter != state.next_counter() || state.preparing || state.committing ||
      state.resync.active) {
    return;  // Behind: the next heartbeat starts a resync.
  }
  if (!state.held || !state.held->same_write_set(root.commit_counter, root.write_set_hash) ||
      !state.held->complete()) {
    return;
  }
  commit_held(context, root);
}

void on_prepare_done(Context& context, const PrepareDone& done) {
  ReplicaState& state = context.state;
  QUIRE_ASSERT(state.preparing);
  state.preparing = false;
  if (matches_in_flight(context, done.root)) {
    leader_prepare_done(context, done);
    return;
  }
  if (!state.held ||
      !state.held->same_write_set(done.root.commit_counter, done.root.write_set_hash)) {
    return;  // Rolled back meanwhile.
  }
  if (!done.ok) {
    // The bytes laid down do not make this write set (a block went bad on the way to the disk).
    vote(context, done.root, false);
    write_pipeline::drop_held(context);
    return;
  }
  state.prepared = done.root;
  state.held->prepared = true;
  if (state.is_leader()) return;  // Prepared for a leadership that ended; it stays prepared.
  vote(context, done.root, true);
}

void on_commit_done(Context& context, const CommitDone& done) {
  ReplicaState& state = context.state;
  if (!state.committing) {
    QUIRE_ASSERT(state.committed.commit_counter >= done.root.commit_counter);  // Applied early.
    return;
  }
  QUIRE_ASSERT(done.root.commit_counter == state.next_counter());
  state.committing = false;
  if (done.root.term > state.term) leadership::adopt_term(context, done.root.term);
  state.committed = done.root;
  state.held.reset();
  state.prepared.reset();
  state.prepare_waiting.reset();
  if (!state.is_leader()) {
    resync::on_committed(context);
    return;
  }
  LeaderState& leading = *state.leading;
  QUIRE_ASSERT(leading.in_flight && leading.in_flight->root == done.root);
  for (NodeId participant : leading.in_flight->participants) {
    context.send(participant, Commit{done.root});
  }
  // A YES voter holds the write set prepared under this term: it commits it on the Commit, or
  // on the first block of the next write set (on_leader_committed), so it can take part in it.
  for (NodeId voter : leading.in_flight->votes.granted_members()) {
    if (voter == context.config.self) continue;
    FollowerProgress& progress = leading.followers.at(voter);
    progress.committed = std::max(progress.committed, done.root.commit_counter);
    progress.held.reset();
  }
  context.emit(AcknowledgeWriteSet{done.root.commit_counter});
  leading.in_flight.reset();
  leading.ready_for_reads = true;
  maybe_seal(context);
  leadership::confirm_reads(context);
}

void on_lay_down_failed(Context& context, const LayDownFailed& failed) {
  ReplicaState& state = context.state;
  if (!state.held || state.held->counter != failed.counter) return;
  QUIRE_ASSERT(!state.held->prepared);
  // The driver rolled the bytes back; forget the write set (the leader re-sends on our NO).
  state.held.reset();
  if (state.prepare_waiting) {
    const store::RootBlock root = *state.prepare_waiting;
    state.prepare_waiting.reset();
    vote(context, root, false);
  }
}

}  // namespace quire::engine::core::two_phase_commit
