#include "engine/core/write_pipeline.h"

#include <algorithm>

#include "engine/core/leadership.h"
#include "engine/core/two_phase_commit.h"

namespace quire::engine::core::write_pipeline {
namespace {

// A follower takes part if it is at the leader's commit point, or one past it: then it committed
// the very write set a new leader re-proposes (Leader Completeness), and votes from that copy.
bool can_participate(const Context& context, const FollowerProgress& progress) {
  const ReplicaState& state = context.state;
  const CommitCounter leader_committed = state.committed.commit_counter;
  const bool at_commit_point =
      progress.committed == leader_committed || progress.committed == leader_committed.next();
  return progress.heard && !progress.catching_up && at_commit_point &&
         state.now.value() - progress.last_heard.value() <
             context.config.election_timeout_ticks_min;
}

// Whether the follower needs no blocks: it holds the whole write set, or committed it.
bool holds_write_set(const FollowerProgress& progress, const store::RootBlock& root) {
  if (progress.committed == root.commit_counter) return true;
  return progress.held && progress.held->same_write_set(root.commit_counter, root.write_set_hash) &&
         progress.held->complete();
}

Block block_message(const Context& context, const InFlightWriteSet& in_flight, uint32_t sequence,
                    std::vector<NodeId> relay_to) {
  return Block{context.config.self,
               context.state.committed.commit_counter,
               in_flight.root.commit_counter,
               in_flight.root.write_set_hash,
               sequence,
               static_cast<uint32_t>(in_flight.blocks.size()),
               std::move(relay_to),
               in_flight.blocks[sequence]};
}

}  // namespace

std::vector<NodeId> choose_participants(const Context& context) {
  std::vector<NodeId> participants;
  for (NodeId member : context.config.members) {
    if (member == context.config.self) continue;
    if (can_participate(context, context.state.leading->followers.at(member))) {
      participants.push_back(member);
    }
  }
  return participants;
}

void stream(Context& context) {
  InFlightWriteSet& in_flight = *context.state.leading->in_flight;
  in_flight.sent_at = context.state.now;
  if (in_flight.participants.empty()) return;
  const std::vector<NodeId> rest(in_flight.participants.begin() + 1, in_flight.participants.end());
  for (uint32_t sequence = 0; sequence < in_flight.blocks.size(); sequence++) {
    context.send(in_flight.participants.front(), block_message(context, in_flight, sequence, rest));
  }
}

void send_directly(Context& context, NodeId follower) {
  const InFlightWriteSet& in_flight = *context.state.leading->in_flight;
  for (uint32_t sequence = 0; sequence < in_flight.blocks.size(); sequence++) {
    context.send(follower, block_message(context, in_flight, sequence, {}));
  }
}

void maybe_add_participant(Context& context, NodeId follower) {
  LeaderState& leading = *context.state.leading;
  if (!leading.in_flight || leading.in_flight->committing) return;
  InFlightWriteSet& in_flight = *leading.in_flight;
  std::vector<NodeId>& participants = in_flight.participants;
  if (std::find(participants.begin(), participants.end(), follower) != participants.end()) return;
  const FollowerProgress& progress = leading.followers.at(follower);
  if (!can_participate(context, progress)) return;
  // Member order keeps the pipeline of a later re-send stable.
  participants.push_back(follower);
  std::sort(participants.begin(), participants.end());
  context.mark("follower_joins_write_set_in_flight");
  if (!holds_write_set(progress, in_flight.root)) send_directly(context, follower);
  context.send(follower, Prepare{in_flight.root});
}

void drop_held(Context& context) {
  ReplicaState& state = context.state;
  if (!state.held) return;
  QUIRE_ASSERT(!state.preparing && !state.committing);
  if (state.prepared) {
    context.mark("prepared_write_set_rolled_back");
    // The rollback forgets the vote: the prepared record counts only while its write set is
    // held, and the truncate is synced.
    state.prepared.reset();
  }
  context.emit(RollBack{state.held->counter});
  state.held.reset();
  state.prepare_waiting.reset();
}

void on_block(Context& context, const Envelope& envelope, const Block& block) {
  ReplicaState& state = context.state;
  leadership::heard_from_leader(context, block.leader);
  if (!block.relay_to.empty()) {
    Block relayed = block;
    relayed.relay_to.erase(relayed.relay_to.begin());
    context.send(block.relay_to.front(), std::move(relayed));
  }
  (void)envelope;
  if (block.block_count == 0 || block.sequence >= block.block_count) return;  // Malformed.
  two_phase_commit::on_leader_committed(context, block.leader_committed);
  if (state.resync.active || state.preparing || state.committing) return;
  if (block.counter != state.next_counter()) return;  // Behind (resync) or a stale write set.
  if (state.held && !state.held->same_write_set(block.counter, block.write_set_hash)) {
    // The leader of this term streams another write set at this counter: ours did not commit
    // (Leader Completeness), so it goes.
    context.mark("conflicting_write_set_replaced");
    drop_held(context);
  }
  if (!state.held) {
    if (block.sequence != 0) return;  // Joined mid-stream: the leader re-sends from the start.
    state.held = HeldWriteSet{block.counter, block.write_set_hash, block.block_count, 0, false};
  }
  HeldWriteSet& held = *state.held;
  if (block.block_count != held.block_count || block.sequence != held.blocks_held) return;
  context.emit(LayDownBlock{block.bytes, block.counter, block.sequence});
  held.blocks_held++;
  if (held.complete()) two_phase_commit::on_write_set_complete(context);
}

}  // namespace quire::engine::core::write_pipeline
