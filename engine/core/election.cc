#include "engine/core/election.h"

#include "engine/core/leadership.h"
#include "io/base/planted_bug.h"

namespace quire::engine::core::election {
namespace {

// The election restriction: a candidate's history ends at least where this member's does.
bool far_enough(const Position& candidate, const Position& own) {
  if (candidate >= own) return true;
  // Planted bug: a candidate one commit point behind, in the same term, is good enough.
  return planted(PlantedBug::vote_for_candidate_behind) && candidate.term == own.term &&
         candidate.counter.next() == own.counter;
}

void start_election(Context& context) {
  ReplicaState& state = context.state;
  context.mark("election_started");
  state.term = state.term.next();
  state.voted_for = context.config.self;
  state.role = Role::candidate;
  state.leader = node_none;
  state.election_votes.emplace(context.config.member_count());
  state.election_votes->grant(context.config.self);
  reset_timer(context);
  context.persist_quorum_state();  // The vote for itself is durable before anyone sees it.
  if (state.election_votes->won()) {
    leadership::become_leader(context);
    return;
  }
  context.send_to_others(VoteRequest{state.position()});
}

void start_pre_vote(Context& context) {
  ReplicaState& state = context.state;
  state.role = Role::pre_candidate;
  state.leader = node_none;
  state.election_votes.emplace(context.config.member_count());
  state.election_votes->grant(context.config.self);
  reset_timer(context);
  if (state.election_votes->won()) {
    start_election(context);
    return;
  }
  // The envelope carries the term it would campaign in; nobody adopts it.
  for (NodeId member : context.config.members) {
    if (member == context.config.self) continue;
    context.emit(Send{Envelope{context.config.self, member, state.term.next(),
                               PreVoteRequest{state.position()}}});
  }
}

}  // namespace

void reset_timer(Context& context) {
  const ReplicaConfig& config = context.config;
  QUIRE_ASSERT(config.election_timeout_ticks_min < config.election_timeout_ticks_max);
  const uint64_t timeout =
      context.rng.between(config.election_timeout_ticks_min, config.election_timeout_ticks_max - 1);
  context.state.election_deadline = Ticks(context.state.now.value() + timeout);
}

bool hears_a_leader(const Context& context) {
  const ReplicaState& state = context.state;
  if (state.is_leader()) return true;
  if (state.leader == node_none || !state.last_leader_contact) return false;
  return state.now.value() - state.last_leader_contact->value() <
         context.config.election_timeout_ticks_min;
}

void on_tick(Context& context) {
  ReplicaState& state = context.state;
  if (state.is_leader() || state.now < state.election_deadline) return;
  if (state.resync.rebuilding || state.damaged || state.preparing || state.committing) {
    // A member whose journal is being replaced has no history to campaign with, nor has one
    // whose committed bytes are damaged; one that is making a write set durable waits to know
    // its own position.
    reset_timer(context);
    return;
  }
  start_pre_vote(context);
}

void on_pre_vote_request(Context& context, const Envelope& envelope,
                         const PreVoteRequest& request) {
  const ReplicaState& state = context.state;
  const bool granted = envelope.term > state.term && !hears_a_leader(context) &&
                       far_enough(request.position, state.position()) && !state.resync.rebuilding &&
                       !state.history_lost;
  if (!granted && hears_a_leader(context)) context.mark("pre_vote_refused_for_live_leader");
  context.send(envelope.from, PreVoteResponse{granted});
}

void on_pre_vote_response(Context& context, const Envelope& envelope,
                          const PreVoteResponse& response) {
  ReplicaState& state = context.state;
  if (state.role != Role::pre_candidate || !response.granted) return;
  QUIRE_ASSERT(state.election_votes.has_value());
  state.election_votes->grant(envelope.from);
  if (state.election_votes->won()) start_election(context);
}

void on_vote_request(Context& context, const Envelope& envelope, const VoteRequest& request) {
  ReplicaState& state = context.state;
  QUIRE_ASSERT(envelope.term == state.term);  // The preamble adopted or refused other terms.
  const bool free_to_vote = state.voted_for == node_none || state.voted_for == envelope.from;
  const bool granted = free_to_vote && !state.is_leader() &&
                       far_enough(request.position, state.position()) && !state.resync.rebuilding &&
                       !state.history_lost;
  if (granted) {
    state.voted_for = envelope.from;
    reset_timer(context);
    context.persist_quorum_state();  // The vote is durable before the candidate learns of it.
  }
  context.send(envelope.from, VoteResponse{granted});
}

void on_vote_response(Context& context, const Envelope& envelope, const VoteResponse& response) {
  ReplicaState& state = context.state;
  if (state.role != Role::candidate || envelope.term != state.term) return;
  QUIRE_ASSERT(state.election_votes.has_value());
  if (!response.granted) {
    state.election_votes->deny(envelope.from);
    return;
  }
  state.election_votes->grant(envelope.from);
  if (state.election_votes->won()) leadership::become_leader(context);
}

}  // namespace quire::engine::core::election
