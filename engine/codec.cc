#include "engine/codec.h"

#include "io/base/checksum.h"
#include "io/base/text.h"

namespace quire::engine {
namespace {

template <class... Handlers>
struct Overloaded : Handlers... {
  using Handlers::operator()...;
};
template <class... Handlers>
Overloaded(Handlers...) -> Overloaded<Handlers...>;

void set_position(wire::Position* target, const core::Position& position) {
  target->set_term(position.term.value());
  target->set_counter(position.counter.value());
}

core::Position get_position(const wire::Position& position) {
  return core::Position{Term(position.term()), CommitCounter(position.counter())};
}

void set_held(wire::HeldWriteSet* target, const core::HeldWriteSet& held) {
  target->set_counter(held.counter.value());
  target->set_write_set_hash(held.write_set_hash);
  target->set_block_count(held.block_count);
  target->set_blocks_held(held.blocks_held);
  target->set_prepared(held.prepared);
}

Result<core::Message> decode_body(const wire::PeerMessage& message) {
  using Body = wire::PeerMessage::BodyCase;
  switch (message.body_case()) {
    case Body::kPreVoteRequest:
      return core::Message(
          core::PreVoteRequest{get_position(message.pre_vote_request().position())});
    case Body::kPreVoteResponse:
      return core::Message(core::PreVoteResponse{message.pre_vote_response().granted()});
    case Body::kVoteRequest:
      return core::Message(core::VoteRequest{get_position(message.vote_request().position())});
    case Body::kVoteResponse:
      return core::Message(core::VoteResponse{message.vote_response().granted()});
    case Body::kHeartbeat: {
      const wire::Heartbeat& heartbeat = message.heartbeat();
      return core::Message(core::Heartbeat{CommitCounter(heartbeat.committed()), heartbeat.round(),
                                           CommitCounter(heartbeat.retained_through())});
    }
    case Body::kHeartbeatResponse: {
      const wire::HeartbeatResponse& response = message.heartbeat_response();
      core::HeartbeatResponse decoded{response.round(), CommitCounter(response.committed()),
                                      std::nullopt, response.catching_up()};
      if (response.has_held()) {
        const wire::HeldWriteSet& held = response.held();
        if (held.blocks_held() > held.block_count()) {
          return Error(ErrorCode::invalid_argument, "held write set holds more blocks than it has");
        }
        decoded.held = core::HeldWriteSet{CommitCounter(held.counter()), held.write_set_hash(),
                                          held.block_count(), held.blocks_held(), held.prepared()};
      }
      return core::Message(decoded);
    }
    case Body::kBlock: {
      const wire::Block& block = message.block();
      if (block.block_count() == 0 || block.sequence() >= block.block_count()) {
        return Error(ErrorCode::invalid_argument,
                     concat("block ", block.sequence(), " of ", block.block_count()));
      }
      std::vector<NodeId> relay_to;
      for (uint32_t node : block.relay_to())
        relay_to.emplace_back(node);
      return core::Message(
          core::Block{NodeId(block.leader()), CommitCounter(block.leader_committed()),
                      CommitCounter(block.counter()), block.write_set_hash(), block.sequence(),
                      block.block_count(), std::move(relay_to),
                      std::make_shared<const Bytes>(block.bytes().begin(), block.bytes().end())});
    }
    case Body::kPrepare: {
      QUIRE_TRY_ASSIGN(store::RootBlock root, decode_root(message.prepare().root()));
      return core::Message(core::Prepare{root});
    }
    case Body::kPrepareResponse: {
      const wire::PrepareResponse& response = message.prepare_response();
      return core::Message(core::PrepareResponse{
          CommitCounter(response.counter()), response.write_set_hash(), Term(response.root_term()),
          response.yes(), response.blocks_held(), CommitCounter(response.committed())});
    }
    case Body::kCommit: {
      QUIRE_TRY_ASSIGN(store::RootBlock root, decode_root(message.commit().root()));
      return core::Message(core::Commit{root});
    }
    case Body::kRefusal:
      return core::Message(core::Refusal{});
    case Body::BODY_NOT_SET:
      break;
  }
  return Error(ErrorCode::invalid_argument, "peer message without a body");
}

}  // namespace

Bytes seal_frame(const wire::Frame& frame) {
  const std::string payload = frame.SerializeAsString();
  Bytes bytes;
  bytes.reserve(frame_header_size_bytes + payload.size());
  ByteWriter writer(bytes);
  writer.u32(frame_magic);
  writer.u8(frame_version);
  writer.u8(0);
  writer.u16(0);
  writer.u64(checksum64(as_bytes(payload)));
  writer.bytes(as_bytes(payload));
  return bytes;
}

Result<wire::Frame> open_frame(ByteView bytes) {
  if (bytes.size() < frame_header_size_bytes) {
    return Error(ErrorCode::corruption, concat("frame of ", bytes.size(), " bytes is too short"));
  }
  ByteReader reader(bytes);
  const uint32_t magic = reader.u32();
  const uint8_t version = reader.u8();
  reader.skip(3);
  const uint64_t checksum = reader.u64();
  if (magic != frame_magic || version != frame_version) {
    return Error(ErrorCode::corruption, concat("not a quire frame (magic ", magic, ", version ",
                                               static_cast<unsigned>(version), ")"));
  }
  const ByteView payload = bytes.subspan(frame_header_size_bytes);
  if (checksum64(payload) != checksum) {
    return Error(ErrorCode::checksum_mismatch, "frame fails its XXH3");
  }
  wire::Frame frame;
  if (!frame.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return Error(ErrorCode::corruption, "frame payload does not parse");
  }
  return frame;
}

Bytes encode_root(const store::RootBlock& root) {
  const store::EncodedRootBlock encoded = store::encode_root_block(root);
  return Bytes(encoded.begin(), encoded.end());
}

Result<store::RootBlock> decode_root(const std::string& bytes) {
  if (bytes.size() != store::format::root_block_size_bytes) {
    return Error(ErrorCode::corruption, concat("root block of ", bytes.size(), " bytes"));
  }
  return store::decode_root_block(as_bytes(bytes));
}

wire::PeerMessage encode_envelope(const core::Envelope& envelope) {
  wire::PeerMessage message;
  message.set_from(envelope.from.value());
  message.set_to(envelope.to.value());
  message.set_term(envelope.term.value());
  auto root_string = [](const store::RootBlock& root) {
    const Bytes encoded = encode_root(root);
    return std::string(encoded.begin(), encoded.end());
  };
  std::visit(
      Overloaded{
          [&](const core::PreVoteRequest& request) {
            set_position(message.mutable_pre_vote_request()->mutable_position(), request.position);
          },
          [&](const core::PreVoteResponse& response) {
            message.mutable_pre_vote_response()->set_granted(response.granted);
          },
          [&](const core::VoteRequest& request) {
            set_position(message.mutable_vote_request()->mutable_position(), request.position);
          },
          [&](const core::VoteResponse& response) {
            message.mutable_vote_response()->set_granted(response.granted);
          },
          [&](const core::Heartbeat& heartbeat) {
            wire::Heartbeat* target = message.mutable_heartbeat();
            target->set_committed(heartbeat.committed.value());
            target->set_round(heartbeat.round);
            target->set_retained_through(heartbeat.retained_through.value());
          },
          [&](const core::HeartbeatResponse& response) {
            wire::HeartbeatResponse* target = message.mutable_heartbeat_response();
            target->set_round(response.round);
            target->set_committed(response.committed.value());
            if (response.held) set_held(target->mutable_held(), *response.held);
            target->set_catching_up(response.catching_up);
          },
          [&](const core::Block& block) {
            wire::Block* target = message.mutable_block();
            target->set_leader(block.leader.value());
            target->set_leader_committed(block.leader_committed.value());
            target->set_counter(block.counter.value());
            target->set_write_set_hash(block.write_set_hash);
            target->set_sequence(block.sequence);
            target->set_block_count(block.block_count);
            for (NodeId node : block.relay_to)
              target->add_relay_to(node.value());
            target->set_bytes(block.bytes->data(), block.bytes->size());
          },
          [&](const core::Prepare& prepare) {
            message.mutable_prepare()->set_root(root_string(prepare.root));
          },
          [&](const core::PrepareResponse& response) {
            wire::PrepareResponse* target = message.mutable_prepare_response();
            target->set_counter(response.counter.value());
            target->set_write_set_hash(response.write_set_hash);
            target->set_root_term(response.root_term.value());
            target->set_yes(response.yes);
            target->set_blocks_held(response.blocks_held);
            target->set_committed(response.committed.value());
          },
          [&](const core::Commit& commit) {
            message.mutable_commit()->set_root(root_string(commit.root));
          },
          [&](const core::Refusal&) { message.mutable_refusal(); },
      },
      envelope.message);
  return message;
}

Result<core::Envelope> decode_envelope(const wire::PeerMessage& message) {
  QUIRE_TRY_ASSIGN(core::Message body, decode_body(message));
  return core::Envelope{NodeId(message.from()), NodeId(message.to()), Term(message.term()),
                        std::move(body)};
}

}  // namespace quire::engine
