// Write pipeline: how a write set's blocks reach the followers. The leader streams them to the
// first follower of the pipeline, and each follower lays a block down and relays it to the next;
// a follower that joins while the write set is in flight, or that missed blocks, gets them all
// straight from the leader. See docs/protocol.md, "The write path".
#pragma once

#include "engine/core/replica_state.h"

namespace quire::engine::core::write_pipeline {

// Leader: the followers that can take part in a new write set: heard from lately, at the
// leader's commit point, not catching up. In member order.
std::vector<NodeId> choose_participants(const Context& context);
// Leader: sends every block of the write set in flight down the pipeline of its participants.
void stream(Context& context);
// Leader: sends every block of the write set in flight to one follower directly.
void send_directly(Context& context, NodeId follower);
// Leader: adds a follower that reached the leader's commit point to the write set in flight.
void maybe_add_participant(Context& context, NodeId follower);

// Follower: a block from the leader or the previous member of the pipeline.
void on_block(Context& context, const Envelope& envelope, const Block& block);
// Follower: drops the held write set (forgetting a YES vote durably first).
void drop_held(Context& context);

}  // namespace quire::engine::core::write_pipeline
