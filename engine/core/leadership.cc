#include "engine/core/leadership.h"

#include <algorithm>

#include "engine/core/election.h"
#include "engine/core/resync.h"
#include "engine/core/two_phase_commit.h"
#include "engine/core/write_pipeline.h"
#include "io/base/text.h"

namespace quire::engine::core::leadership {
namespace {

// How long a member may stay silent before the retention cap may drop the HALogs it lacks.
uint64_t silent_ticks_max(const Context& context) {
  return context.config.election_timeout_ticks_max * 4;
}

// The HALogs every member has committed past. A member that answers keeps every HALog it lacks,
// however far behind it is (it is catching up). Only for a member silent for a while (or never
// heard in this term) does the cap let the oldest go: a dead member must not fill the others'
// disks; it rebuilds when it returns (docs/protocol.md, "Catch-up").
CommitCounter retained_through(Context& context) {
  ReplicaState& state = context.state;
  LeaderState& leading = *state.leading;
  const CommitCounter committed = state.committed.commit_counter;
  CommitCounter lowest_live = committed;
  std::optional<CommitCounter> lowest_silent;
  std::optional<NodeId> silent_member;
  for (const auto& [member, progress] : leading.followers) {
    const bool live = progress.heard &&
                      state.now.value() - progress.last_heard.value() < silent_ticks_max(context);
    if (live) {
      lowest_live = std::min(lowest_live, progress.committed);
      continue;
    }
    const CommitCounter known = progress.heard ? progress.committed : CommitCounter(0);
    if (!lowest_silent || known < *lowest_silent) {
      lowest_silent = known;
      silent_member = member;
    }
  }
  CommitCounter retained = lowest_silent ? std::min(lowest_live, *lowest_silent) : lowest_live;
  leading.retention_rule = lowest_silent ? "every member's HALogs kept (a member is silent)"
                                         : "every member's HALogs kept";
  const uint64_t cap = context.config.halog_retention_count_max;
  if (cap > 0 && lowest_silent && committed.value() > cap &&
      retained.value() < committed.value() - cap) {
    retained = std::min(lowest_live, CommitCounter(committed.value() - cap));
    leading.retention_rule =
        concat("cap of ", cap, " HALogs: member ", *silent_member, " is silent and will rebuild");
  }
  return std::max(retained, leading.retained_through);
}

void purge_halogs(Context& context, CommitCounter through) {
  ReplicaState& state = context.state;
  // A member keeps the HALog of every counter above its own committed one it may still need,
  // and never purges past what it committed itself.
  through = std::min(through, state.committed.commit_counter);
  if (through <= state.purged_through) return;
  state.purged_through = through;
  context.emit(PurgeHALogs{through});
}

}  // namespace

void adopt_term(Context& context, Term term) {
  ReplicaState& state = context.state;
  QUIRE_ASSERT(term > state.term);
  state.term = term;
  state.voted_for = node_none;
  if (state.role != Role::follower) {
    become_follower(context, node_none);
  } else {
    state.leader = node_none;
  }
  context.persist_quorum_state();
}

void become_follower(Context& context, NodeId leader) {
  ReplicaState& state = context.state;
  if (state.is_leader()) {
    LeaderState& leading = *state.leading;
    std::optional<CommitCounter> in_flight;
    if (leading.in_flight) in_flight = leading.in_flight->root.commit_counter;
    context.emit(AbandonWriteSets{in_flight});
    if (!leading.reads_waiting.empty()) {
      context.emit(RefuseReads{leading.reads_waiting.back().first});
    }
    state.leading.reset();
  }
  state.role = Role::follower;
  state.leader = leader;
  state.election_votes.reset();
  election::reset_timer(context);
}

void become_leader(Context& context) {
  ReplicaState& state = context.state;
  QUIRE_ASSERT(state.role == Role::candidate);
  QUIRE_ASSERT(state.voted_for == context.config.self);
  QUIRE_ASSERT(!state.preparing && !state.committing);
  state.role = Role::leader;
  state.leader = context.config.self;
  state.election_votes.reset();
  state.prepare_waiting.reset();
  state.resync = ResyncState{};
  LeaderState& leading = state.leading.emplace();
  for (NodeId member : context.config.members) {
    if (member != context.config.self) leading.followers[member] = FollowerProgress{};
  }
  leading.last_quorum_check = state.now;
  leading.retained_through = state.purged_through;
  if (state.prepared) {
    // It may have committed under an older term: commit it again under this one first.
    QUIRE_ASSERT(state.prepared->term < state.term);
    context.mark("leader_reproposes_prepared_write_set");
    leading.sealing = true;
    context.emit(ReproposeWriteSet{state.term, *state.prepared});
  } else {
    if (state.held) {
      context.mark("leader_rolls_back_unprepared_blocks");
      context.emit(RollBack{state.held->counter});
      state.held.reset();
    }
    leading.ready_for_reads = true;
  }
  broadcast_heartbeat(context);
}

void heard_from_leader(Context& context, NodeId leader) {
  ReplicaState& state = context.state;
  QUIRE_ASSERT_MSG(!state.is_leader(), "two leaders in one term");
  if (state.role != Role::follower || state.leader != leader) {
    if (state.resync.active) context.mark("resync_across_leader_change");
    if (state.preparing || state.prepare_waiting) context.mark("leader_change_during_prepare");
    become_follower(context, leader);
  }
  state.last_leader_contact = state.now;
  election::reset_timer(context);
}

void broadcast_heartbeat(Context& context) {
  ReplicaState& state = context.state;
  LeaderState& leading = *state.leading;
  leading.round++;
  leading.last_heartbeat = state.now;
  leading.retained_through = retained_through(context);
  purge_halogs(context, leading.retained_through);
  context.send_to_others(
      Heartbeat{state.committed.commit_counter, leading.round, leading.retained_through});
}

void on_leader_tick(Context& context) {
  ReplicaState& state = context.state;
  LeaderState& leading = *state.leading;
  const ReplicaConfig& config = context.config;
  if (state.now.value() - leading.last_quorum_check.value() >= config.election_timeout_ticks_min) {
    leading.last_quorum_check = state.now;
    size_t live = 1;  // Itself.
    for (const auto& [member, progress] : leading.followers) {
      if (progress.heard &&
          state.now.value() - progress.last_heard.value() < config.election_timeout_ticks_min) {
        live++;
      }
    }
    if (live < context.quorum()) {
      context.mark("leader_steps_down_without_quorum");
      // Cut off from the majority: another leader may be elected; stop acting as one.
      become_follower(context, node_none);
      return;
    }
  }
  if (state.now.value() - leading.last_heartbeat.value() >= config.heartbeat_interval_ticks) {
    broadcast_heartbeat(context);
  }
  two_phase_commit::on_leader_tick(context);
}

void on_heartbeat(Context& context, const Envelope& envelope, const Heartbeat& heartbeat) {
  ReplicaState& state = context.state;
  heard_from_leader(context, envelope.from);
  state.leader_committed = std::max(state.leader_committed, heartbeat.committed);
  two_phase_commit::on_leader_committed(context, heartbeat.committed);
  purge_halogs(context, heartbeat.retained_through);
  resync::on_leader_progress(context);
  context.send(envelope.from, HeartbeatResponse{heartbeat.round, state.committed.commit_counter,
                                                state.held, state.resync.active});
}

void on_heartbeat_response(Context& context, const Envelope& envelope,
                           const HeartbeatResponse& response) {
  ReplicaState& state = context.state;
  if (!state.is_leader()) return;
  auto found = state.leading->followers.find(envelope.from);
  if (found == state.leading->followers.end()) return;
  FollowerProgress& progress = found->second;
  progress.heard = true;
  progress.last_heard = state.now;
  progress.committed = response.committed;
  progress.held = response.held;
  progress.catching_up = response.catching_up;
  progress.round_acknowledged = std::max(progress.round_acknowledged, response.round);
  write_pipeline::maybe_add_participant(context, envelope.from);
  confirm_reads(context);
}

void on_read_requested(Context& context, uint64_t read_id) {
  ReplicaState& state = context.state;
  if (!state.is_leader()) {
    context.emit(RefuseReads{read_id});
    return;
  }
  // The read is confirmed by the next round: a quorum that answers it proves that no other leader
  // was elected before the read arrived.
  state.leading->reads_waiting.emplace_back(read_id, state.leading->round + 1);
}

void flush(Context& context) {
  ReplicaState& state = context.state;
  if (!state.is_leader()) return;
  LeaderState& leading = *state.leading;
  if (!leading.reads_waiting.empty() && leading.reads_waiting.back().second > leading.round) {
    broadcast_heartbeat(context);
  }
  confirm_reads(context);
}

void confirm_reads(Context& context) {
  ReplicaState& state = context.state;
  if (!state.is_leader()) return;
  LeaderState& leading = *state.leading;
  if (!leading.ready_for_reads || leading.reads_waiting.empty()) return;
  std::vector<uint64_t> rounds = {leading.round};
  for (const auto& [member, progress] : leading.followers) {
    rounds.push_back(progress.heard ? progress.round_acknowledged : 0);
  }
  std::sort(rounds.begin(), rounds.end(), std::greater<>());
  const uint64_t confirmed_round = rounds[context.quorum() - 1];
  std::optional<uint64_t> through;
  while (!leading.reads_waiting.empty() &&
         leading.reads_waiting.front().second <= confirmed_round) {
    through = leading.reads_waiting.front().first;
    leading.reads_waiting.pop_front();
  }
  if (through) context.emit(ConfirmReads{*through});
}

}  // namespace quire::engine::core::leadership
