// Leadership: role changes, and what a leader does besides the write path: heartbeats, progress
// of followers, check-quorum, read confirmation (read index) and HALog retention.
// See docs/protocol.md, "Election", "Reads" and "Catch-up".
#pragma once

#include "engine/core/replica_state.h"

namespace quire::engine::core::leadership {

// Raises the term (forgetting the vote, durably) and steps down if needed.
// REQUIRES: term > state.term.
void adopt_term(Context& context, Term term);
// Becomes (or stays) a follower of `leader` (node_none: unknown). A leader abandons its clients.
void become_follower(Context& context, NodeId leader);
// Becomes leader of the current term: re-proposes a prepared write set, or rolls back an
// unprepared one, then announces itself.
void become_leader(Context& context);
// A message of the current term from `leader` (heartbeat, block, prepare, commit).
void heard_from_leader(Context& context, NodeId leader);

void on_leader_tick(Context& context);
void on_heartbeat(Context& context, const Envelope& envelope, const Heartbeat& heartbeat);
void on_heartbeat_response(Context& context, const Envelope& envelope,
                           const HeartbeatResponse& response);
void on_read_requested(Context& context, uint64_t read_id);
// Serves the reads that a quorum confirmed.
void confirm_reads(Context& context);
// End of a step: sends the heartbeat round that waiting reads asked for.
void flush(Context& context);

void broadcast_heartbeat(Context& context);

}  // namespace quire::engine::core::leadership
