// Codec: frames on the wire and the translation between the core's plain messages and the
// protobuf schema (engine/wire/wire.proto). Protobuf stops here: nothing past the codec sees it.
//
// Frame layout (docs/format.md, "The wire"), inside one io::Network frame:
//   u32 magic "QWF1", u8 version (1), u8 zero, u16 zero, u64 XXH3 of the payload, payload
//   (a serialized wire::Frame).
// The XXH3 catches what TCP's checksum misses and what the simulator flips in flight; a frame
// that fails it breaks its connection (the sender retries as the protocol does for any loss).
#pragma once

#include <cstdint>

#include "engine/core/message.h"
#include "engine/wire/wire.pb.h"
#include "io/base/bytes.h"
#include "io/base/result.h"

namespace quire::engine {

inline constexpr uint32_t frame_magic = 0x31465751;  // "QWF1" little-endian.
inline constexpr uint8_t frame_version = 1;
inline constexpr size_t frame_header_size_bytes = 16;
inline constexpr uint32_t protocol_version = 1;

// Serializes `frame` behind a checked header.
Bytes seal_frame(const wire::Frame& frame);
// Checks the header and the checksum, then parses. Errors: corruption (too short, wrong magic or
// version, unparsable payload), checksum_mismatch.
Result<wire::Frame> open_frame(ByteView bytes);

wire::PeerMessage encode_envelope(const core::Envelope& envelope);
// Errors: invalid_argument (no body, a field out of range), checksum_mismatch / corruption (a
// root block that does not decode).
Result<core::Envelope> decode_envelope(const wire::PeerMessage& message);

Bytes encode_root(const store::RootBlock& root);
Result<store::RootBlock> decode_root(const std::string& bytes);

}  // namespace quire::engine
