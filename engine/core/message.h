// The messages between members, as plain structs: the core never sees protobuf (engine/codec
// translates at the edge). Every message travels in an Envelope whose term is the sender's current
// term. See docs/protocol.md, "Messages".
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/core/position.h"
#include "io/base/bytes.h"
#include "io/base/ids.h"
#include "store/root_block.h"

namespace quire::engine::core {

// Immutable block bytes shared between the driver, the core and the outgoing queues.
using SharedBytes = std::shared_ptr<const Bytes>;

// The uncommitted write set a member holds past its committed end.
struct HeldWriteSet {
  CommitCounter counter;
  uint64_t write_set_hash = 0;
  uint32_t block_count = 0;
  uint32_t blocks_held = 0;  // A contiguous prefix, from sequence 0.
  bool prepared = false;     // This member voted YES for it (durably).

  bool complete() const { return blocks_held == block_count; }
  bool same_write_set(CommitCounter other_counter, uint64_t other_hash) const {
    return counter == other_counter && write_set_hash == other_hash;
  }
  bool operator==(const HeldWriteSet&) const = default;
};

struct PreVoteRequest {
  Position position;
};
struct PreVoteResponse {
  bool granted = false;
};
struct VoteRequest {
  Position position;
};
struct VoteResponse {
  bool granted = false;
};

struct Heartbeat {
  CommitCounter committed;
  // Increases with every heartbeat of a leader's term; echoed back (read index).
  uint64_t round = 0;
  // Every member has committed at least this: HALogs at or below it may go.
  CommitCounter retained_through;
};

struct HeartbeatResponse {
  uint64_t round = 0;
  CommitCounter committed;
  std::optional<HeldWriteSet> held;
  bool catching_up = false;
};

struct Block {
  NodeId leader;
  CommitCounter leader_committed;  // The leader's commit point when it sent the block.
  CommitCounter counter;
  uint64_t write_set_hash = 0;
  uint32_t sequence = 0;
  uint32_t block_count = 0;
  std::vector<NodeId> relay_to;  // The rest of the pipeline after the receiver.
  SharedBytes bytes;
};

struct Prepare {
  store::RootBlock root;
};

// A YES names the exact root block it made durable, term included: a prepare of the same write
// set under an older term must not count for a re-proposal (docs/protocol.md, "Why it is safe").
struct PrepareResponse {
  CommitCounter counter;
  uint64_t write_set_hash = 0;
  Term root_term;
  bool yes = false;
  uint32_t blocks_held = 0;
  CommitCounter committed;  // The voter's: a NO from a member not at the leader's commit point
                            // needs a resync, not the blocks again.
};

struct Commit {
  store::RootBlock root;
};

// "Your term is stale": the receiver's term travels in the envelope.
struct Refusal {};

using Message = std::variant<PreVoteRequest, PreVoteResponse, VoteRequest, VoteResponse, Heartbeat,
                             HeartbeatResponse, Block, Prepare, PrepareResponse, Commit, Refusal>;

struct Envelope {
  NodeId from;
  NodeId to;
  Term term;
  Message message;
};

// "Heartbeat", "Block", ...: for traces.
const char* message_name(const Message& message);
// One line for traces: the name and the fields that matter.
std::string describe(const Envelope& envelope);

}  // namespace quire::engine::core
