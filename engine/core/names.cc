// Names of messages, inputs and effects, and one-line descriptions, for traces.
#include "engine/core/effect.h"
#include "engine/core/input.h"
#include "engine/core/message.h"
#include "io/base/text.h"

namespace quire::engine::core {

const char* message_name(const Message& message) {
  static constexpr const char* names[] = {"PreVoteRequest", "PreVoteResponse", "VoteRequest",
                                          "VoteResponse",   "Heartbeat",       "HeartbeatResponse",
                                          "Block",          "Prepare",         "PrepareResponse",
                                          "Commit",         "Refusal"};
  static_assert(std::size(names) == std::variant_size_v<Message>);
  return names[message.index()];
}

const char* input_name(const Input& input) {
  static constexpr const char* names[] = {
      "Tick",         "Received",    "PendingWork",   "WriteSetSealed", "SealSkipped",
      "PrepareDone",  "CommitDone",  "LayDownFailed", "HALogFetched",   "HALogFetchFailed",
      "ReplayFailed", "RebuildDone", "RebuildFailed", "DataDamaged",    "ReadRequested"};
  static_assert(std::size(names) == std::variant_size_v<Input>);
  return names[input.index()];
}

const char* effect_name(const Effect& effect) {
  static constexpr const char* names[] = {"Send",
                                          "PersistQuorumState",
                                          "SealWriteSet",
                                          "ReproposeWriteSet",
                                          "LayDownBlock",
                                          "PrepareWriteSet",
                                          "CommitWriteSet",
                                          "RollBack",
                                          "FetchHALog",
                                          "ReplayHALog",
                                          "Rebuild",
                                          "PurgeHALogs",
                                          "AcknowledgeWriteSet",
                                          "AbandonWriteSets",
                                          "ConfirmReads",
                                          "RefuseReads"};
  static_assert(std::size(names) == std::variant_size_v<Effect>);
  return names[effect.index()];
}

std::string describe(const Envelope& envelope) {
  std::string text = concat(message_name(envelope.message), " ", envelope.from, "->", envelope.to,
                            " t", envelope.term);
  const Message& message = envelope.message;
  if (const auto* block = std::get_if<Block>(&message)) {
    text += concat(" c", block->counter, " #", block->sequence, "/", block->block_count);
  } else if (const auto* prepare = std::get_if<Prepare>(&message)) {
    text += concat(" c", prepare->root.commit_counter, " rt", prepare->root.term);
  } else if (const auto* response = std::get_if<PrepareResponse>(&message)) {
    text += concat(" c", response->counter, response->yes ? " yes" : " no");
  } else if (const auto* commit = std::get_if<Commit>(&message)) {
    text += concat(" c", commit->root.commit_counter);
  } else if (const auto* heartbeat = std::get_if<Heartbeat>(&message)) {
    text += concat(" c", heartbeat->committed, " r", heartbeat->round);
  } else if (const auto* reply = std::get_if<HeartbeatResponse>(&message)) {
    text += concat(" c", reply->committed, " r", reply->round);
  } else if (const auto* vote = std::get_if<VoteResponse>(&message)) {
    text += vote->granted ? " granted" : " denied";
  } else if (const auto* pre_vote = std::get_if<PreVoteResponse>(&message)) {
    text += pre_vote->granted ? " granted" : " denied";
  }
  return text;
}

}  // namespace quire::engine::core
