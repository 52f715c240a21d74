#include "engine/core/replica.h"

#include <algorithm>

#include "engine/core/election.h"
#include "engine/core/leadership.h"
#include "engine/core/resync.h"
#include "engine/core/two_phase_commit.h"
#include "engine/core/write_pipeline.h"
#include "io/base/text.h"

namespace quire::engine::core {
namespace {

template <class... Handlers>
struct Overloaded : Handlers... {
  using Handlers::operator()...;
};
template <class... Handlers>
Overloaded(Handlers...) -> Overloaded<Handlers...>;

}  // namespace

bool ReplicaConfig::is_member(NodeId node) const {
  return std::find(members.begin(), members.end(), node) != members.end();
}

const char* role_name(Role role) {
  switch (role) {
    case Role::follower:
      return "follower";
    case Role::pre_candidate:
      return "pre_candidate";
    case Role::candidate:
      return "candidate";
    case Role::leader:
      return "leader";
  }
  QUIRE_UNREACHABLE();
}

Replica::Replica(const ReplicaConfig& config, const RecoveredState& recovered)
    : config_(config), rng_(config.seed) {
  QUIRE_ASSERT(config_.is_member(config_.self));
  QUIRE_ASSERT(std::is_sorted(config_.members.begin(), config_.members.end()));
  QUIRE_ASSERT(std::adjacent_find(config_.members.begin(), config_.members.end()) ==
               config_.members.end());
  state_.term = recovered.term;
  state_.voted_for = recovered.voted_for;
  state_.committed = recovered.committed;
  if (recovered.prepared) {
    const store::RootBlock& prepared = *recovered.prepared;
    QUIRE_ASSERT(prepared.commit_counter == recovered.committed.commit_counter.next());
    QUIRE_ASSERT(prepared.term <= recovered.term);
    const auto blocks = static_cast<uint32_t>(prepared.write_set_block_count);
    state_.prepared = prepared;
    state_.held =
        HeldWriteSet{prepared.commit_counter, prepared.write_set_hash, blocks, blocks, true};
  }
  state_.purged_through = CommitCounter(0);
  if (recovered.journal_lost && config_.member_count() > 1) {
    state_.damaged = true;
    state_.history_lost = true;
  }
  highest_committed_ = state_.committed.commit_counter;
  highest_term_ = state_.term;
  std::vector<Effect> ignored;
  std::vector<const char*> no_marks;
  Context context(config_, state_, rng_, ignored, no_marks);
  election::reset_timer(context);
  check_invariants();
}

Step Replica::step(const Input& input) {
  Step step;
  Context context(config_, state_, rng_, step.effects, step.marks);
  std::visit(
      Overloaded{
          [&](const Tick&) { tick(context); },
          [&](const Received& received) { receive(context, received.envelope); },
          [&](const PendingWork&) {
            if (!state_.is_leader()) return;
            state_.leading->pending_work = true;
            two_phase_commit::maybe_seal(context);
          },
          [&](const WriteSetSealed& sealed) { two_phase_commit::on_sealed(context, sealed); },
          [&](const SealSkipped&) { two_phase_commit::on_seal_skipped(context); },
          [&](const PrepareDone& done) { two_phase_commit::on_prepare_done(context, done); },
          [&](const CommitDone& done) { two_phase_commit::on_commit_done(context, done); },
          [&](const LayDownFailed& failed) {
            two_phase_commit::on_lay_down_failed(context, failed);
          },
          [&](const HALogFetched& fetched) { resync::on_halog_fetched(context, fetched); },
          [&](const HALogFetchFailed& failed) { resync::on_halog_fetch_failed(context, failed); },
          [&](const ReplayFailed& failed) { resync::on_replay_failed(context, failed); },
          [&](const RebuildDone& done) { resync::on_rebuild_done(context, done); },
          [&](const RebuildFailed& failed) { resync::on_rebuild_failed(context, failed); },
          [&](const DataDamaged& damaged) { resync::on_data_damaged(context, damaged); },
          [&](const ReadRequested& read) { leadership::on_read_requested(context, read.read_id); },
      },
      input);
  leadership::flush(context);
  check_invariants();
  highest_term_ = state_.term;
  highest_committed_ = state_.committed.commit_counter;
  return step;
}

void Replica::tick(Context& context) {
  state_.now = state_.now.next();
  if (state_.is_leader()) {
    leadership::on_leader_tick(context);
    return;
  }
  election::on_tick(context);
  two_phase_commit::on_follower_tick(context);
  resync::on_tick(context);
}

void Replica::receive(Context& context, const Envelope& envelope) {
  QUIRE_ASSERT(envelope.to == config_.self);
  if (!config_.is_member(envelope.from) || envelope.from == config_.self) return;
  const Message& message = envelope.message;
  if (const auto* request = std::get_if<PreVoteRequest>(&message)) {
    // Carries the term it would campaign in; nobody adopts it.
    election::on_pre_vote_request(context, envelope, *request);
    return;
  }
  if (envelope.term > state_.term) {
    // A live leader makes this member deaf to vote requests of higher terms: a member coming back
    // from a partition cannot depose it.
    if (std::holds_alternative<VoteRequest>(message) && election::hears_a_leader(context)) return;
    leadership::adopt_term(context, envelope.term);
  }
  if (envelope.term < state_.term) {
    if (!std::holds_alternative<Refusal>(message) &&
        !std::holds_alternative<PreVoteResponse>(message)) {
      context.send(envelope.from, Refusal{});
    }
    return;
  }
  std::visit(
      Overloaded{
          [&](const PreVoteRequest&) { QUIRE_UNREACHABLE(); },
          [&](const PreVoteResponse& response) {
            election::on_pre_vote_response(context, envelope, response);
          },
          [&](const VoteRequest& request) {
            election::on_vote_request(context, envelope, request);
          },
          [&](const VoteResponse& response) {
            election::on_vote_response(context, envelope, response);
          },
          [&](const Heartbeat& heartbeat) {
            leadership::on_heartbeat(context, envelope, heartbeat);
          },
          [&](const HeartbeatResponse& response) {
            leadership::on_heartbeat_response(context, envelope, response);
          },
          [&](const Block& block) { write_pipeline::on_block(context, envelope, block); },
          [&](const Prepare& prepare) { two_phase_commit::on_prepare(context, envelope, prepare); },
          [&](const PrepareResponse& response) {
            two_phase_commit::on_prepare_response(context, envelope, response);
          },
          [&](const Commit& commit) { two_phase_commit::on_commit(context, envelope, commit); },
          [&](const Refusal&) {},
      },
      message);
}

void Replica::check_invariants() const {
  const ReplicaState& state = state_;
  QUIRE_ASSERT(state.term >= highest_term_);
  QUIRE_ASSERT(state.committed.commit_counter >= highest_committed_);
  QUIRE_ASSERT(state.committed.term <= state.term);
  if (state.held) {
    QUIRE_ASSERT(state.held->counter == state.next_counter());
    QUIRE_ASSERT(state.held->blocks_held <= state.held->block_count);
    QUIRE_ASSERT(state.held->block_count > 0);
  }
  if (state.prepared) {
    QUIRE_ASSERT(state.held.has_value());
    QUIRE_ASSERT(state.held->prepared);
    QUIRE_ASSERT(state.held->complete());
    QUIRE_ASSERT(
        state.held->same_write_set(state.prepared->commit_counter, state.prepared->write_set_hash));
    QUIRE_ASSERT(state.prepared->term <= state.term);
  } else if (state.held) {
    QUIRE_ASSERT(!state.held->prepared);
  }
  QUIRE_ASSERT(state.leading.has_value() == state.is_leader());
  if (state.is_leader()) {
    QUIRE_ASSERT(state.leader == config_.self);
    QUIRE_ASSERT(state.voted_for == config_.self);
    const LeaderState& leading = *state.leading;
    QUIRE_ASSERT(!(leading.in_flight && leading.sealing));
    if (leading.in_flight) {
      const InFlightWriteSet& in_flight = *leading.in_flight;
      QUIRE_ASSERT(in_flight.root.commit_counter == state.next_counter());
      QUIRE_ASSERT(in_flight.root.term == state.term);
      QUIRE_ASSERT(state.held && state.held->same_write_set(in_flight.root.commit_counter,
                                                            in_flight.root.write_set_hash));
      QUIRE_ASSERT(!in_flight.committing || in_flight.prepared_here);
      QUIRE_ASSERT(std::find(in_flight.participants.begin(), in_flight.participants.end(),
                             config_.self) == in_flight.participants.end());
    }
    QUIRE_ASSERT(!state.resync.active);
  }
  if (state.resync.rebuilding) {
    QUIRE_ASSERT(state.resync.active);
    QUIRE_ASSERT(!state.held);
  }
  if (state.damaged) {
    QUIRE_ASSERT(state.role == Role::follower);
    QUIRE_ASSERT(config_.member_count() > 1);
  }
  if (state.history_lost) QUIRE_ASSERT(state.damaged);
}

std::string Replica::describe() const {
  const ReplicaState& state = state_;
  std::string text = concat(role_name(state.role), " term ", state.term, " voted ", state.voted_for,
                            " leader ", state.leader, " committed ", state.committed.commit_counter,
                            " leader_committed ", state.leader_committed, " tick ", state.now);
  if (state.held) {
    text += concat(" held ", state.held->counter, " ", state.held->blocks_held, "/",
                   state.held->block_count, state.held->prepared ? " prepared" : "");
  }
  if (state.damaged) text += state.history_lost ? " history-lost" : " damaged";
  if (state.preparing) text += " preparing";
  if (state.committing) text += " committing";
  if (state.prepare_waiting) text += " prepare-waiting";
  const ResyncState& resync = state.resync;
  if (resync.active) {
    text += concat(" resync{peer ", resync.peer, resync.fetching ? " fetching " : " idle ",
                   resync.fetching_counter, resync.rebuilding ? " rebuilding" : "", " missing ",
                   resync.peers_missing.size(), " progress ", resync.last_progress, "}");
  }
  if (state.leading && state.leading->in_flight) {
    text += concat(" in-flight ", state.leading->in_flight->root.commit_counter, " votes ",
                   state.leading->in_flight->votes.granted_count());
  }
  return text;
}

ReplicaStatus Replica::status() const {
  ReplicaStatus status;
  status.role = state_.role;
  status.term = state_.term;
  status.leader = state_.leader;
  status.committed = state_.committed.commit_counter;
  status.leader_committed =
      state_.is_leader() ? state_.committed.commit_counter : state_.leader_committed;
  status.catching_up = state_.resync.active;
  status.rebuilding = state_.resync.rebuilding;
  status.damaged = state_.damaged;
  if (state_.is_leader()) {
    const LeaderState& leading = *state_.leading;
    if (leading.in_flight) {
      status.in_flight = leading.in_flight->root.commit_counter;
      status.in_flight_prepared_here = leading.in_flight->prepared_here;
      status.participants = leading.in_flight->participants.size();
    }
    status.ready_for_reads = leading.ready_for_reads;
    status.halog_retention = leading.retention_rule;
    for (const auto& [member, progress] : leading.followers) {
      if (progress.heard && !progress.catching_up &&
          progress.committed == state_.committed.commit_counter) {
        status.joined.push_back(member);
      }
    }
  }
  return status;
}

}  // namespace quire::engine::core
