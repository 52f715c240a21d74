// Election: Raft's pre-vote and vote, with a member's position (its last write set) as the log.
// See docs/protocol.md, "Election".
#pragma once

#include "engine/core/replica_state.h"

namespace quire::engine::core::election {

// Draws the next election deadline from the seeded RNG.
void reset_timer(Context& context);
// Starts a pre-vote when the deadline passes (never on a leader, nor while rebuilding).
void on_tick(Context& context);
// Whether this member heard from a live leader within the minimum election timeout: then it
// neither grants pre-votes nor lets a vote request raise its term (leader stickiness).
bool hears_a_leader(const Context& context);

void on_pre_vote_request(Context& context, const Envelope& envelope, const PreVoteRequest& request);
void on_pre_vote_response(Context& context, const Envelope& envelope,
                          const PreVoteResponse& response);
void on_vote_request(Context& context, const Envelope& envelope, const VoteRequest& request);
void on_vote_response(Context& context, const Envelope& envelope, const VoteResponse& response);

}  // namespace quire::engine::core::election
