#include "store/quorum_state.h"

#include <algorithm>

#include "io/base/checksum.h"
#include "io/base/text.h"

namespace quire::store {
namespace {

namespace field = format::quorum_state_field;

Bytes encode(const QuorumState& state, uint64_t sequence) {
  Bytes bytes;
  bytes.reserve(format::quorum_state_record_size_bytes);
  ByteWriter writer(bytes);
  writer.u64(format::quorum_state_magic);
  writer.u16(format::version);
  writer.u16(static_cast<uint16_t>(format::quorum_state_record_size_bytes));
  writer.u32(0);
  writer.u64(sequence);
  writer.u64(state.current_term.value());
  writer.u32(state.voted_for.value());
  writer.zeros(field::checksum - field::reserved_tail);
  QUIRE_ASSERT(bytes.size() == field::checksum);
  writer.u64(checksum64(bytes));
  QUIRE_ASSERT(bytes.size() == format::quorum_state_record_size_bytes);
  return bytes;
}

struct Decoded {
  QuorumState state;
  uint64_t sequence = 0;
};

Result<Decoded> decode(ByteView bytes) {
  ByteReader reader(bytes);
  const uint64_t magic = reader.u64();
  const uint16_t version = reader.u16();
  const uint16_t size = reader.u16();
  if (magic != format::quorum_state_magic || load_le<uint64_t>(bytes.data() + field::checksum) !=
                                                 checksum64(bytes.first(field::checksum))) {
    return Error(ErrorCode::checksum_mismatch, "quorum-state record fails its checksum");
  }
  if (version != format::version || size != format::quorum_state_record_size_bytes) {
    return Error(ErrorCode::invalid_argument,
                 concat("quorum-state record of format version ", version, "; this build reads ",
                        format::version, " only (no migration yet: start the member from an ",
                        "empty data directory)"));
  }
  reader.skip(4);
  Decoded decoded;
  decoded.sequence = reader.u64();
  decoded.state.current_term = Term(reader.u64());
  decoded.state.voted_for = NodeId(reader.u32());
  return decoded;
}

}  // namespace

Result<std::unique_ptr<QuorumStateFile>> QuorumStateFile::open(io::Disk& disk, std::string path) {
  QUIRE_TRY_ASSIGN(std::unique_ptr<io::File> file, disk.open(path, io::OpenMode::create_or_open));
  std::unique_ptr<QuorumStateFile> state_file(new QuorumStateFile(std::move(file)));
  QUIRE_TRY(state_file->load());
  return state_file;
}

Status QuorumStateFile::load() {
  std::optional<Decoded> best;
  bool damaged = false;
  std::string damage;
  for (uint64_t slot = 0; slot < format::quorum_state_slot_count; slot++) {
    Bytes bytes(format::quorum_state_record_size_bytes, 0);
    // A short file reads as zeros past its end: an empty slot. An unreadable slot (a latent
    // sector error) is a damaged one: the other copies decide.
    auto read = file_->read(slot * format::quorum_state_slot_size_bytes, bytes);
    if (!read.ok()) {
      damaged = true;
      damage = read.error().message();
      continue;
    }
    if (std::all_of(bytes.begin(), bytes.end(), [](uint8_t byte) { return byte == 0; })) continue;
    auto decoded = decode(bytes);
    const bool in_place =
        decoded.ok() && (slot == format::quorum_state_mirror_slot || decoded->sequence % 2 == slot);
    if (!in_place) {
      damaged = true;
      damage = decoded.ok() ? "a record in the wrong slot" : decoded.error().message();
      continue;
    }
    if (!best.has_value() || decoded->sequence > best->sequence) best = *decoded;
  }
  if (!best.has_value()) {
    if (damaged) {
      return Error(ErrorCode::corruption, concat("quorum state: no valid record (", damage, ")"));
    }
    return ok_status();
  }
  state_ = best->state;
  sequence_ = best->sequence;
  return ok_status();
}

Status QuorumStateFile::store(const QuorumState& state) {
  if (failed_) {
    return Error(ErrorCode::io_error, "the quorum-state file failed a sync; reopen it");
  }
  const uint64_t sequence = sequence_ + 1;
  // The whole slot, record then zeros: a write of part of a sector cannot mend a latent sector
  // error there (the device must read the rest first), a whole-sector write does.
  Bytes bytes = encode(state, sequence);
  bytes.resize(format::quorum_state_slot_size_bytes, 0);
  const uint64_t slot_offset = (sequence % 2) * format::quorum_state_slot_size_bytes;
  const uint64_t mirror_offset =
      format::quorum_state_mirror_slot * format::quorum_state_slot_size_bytes;
  QUIRE_TRY(file_->write(slot_offset, bytes));
  QUIRE_TRY(file_->write(mirror_offset, bytes));
  // One sync for both copies: a crash during it may lose both, but then nothing that depended on
  // this record was sent yet, and the other alternate slot still holds the one before.
  Status synced = file_->sync();
  if (!synced.ok()) {
    failed_ = true;
    return synced;
  }
  // A vote that is not where load() will look for it is a vote forgotten at the next start: read
  // the slot back (a misdirected write put it elsewhere) and refuse to go on if it is not there.
  Bytes back(bytes.size());
  Bytes mirror_back(bytes.size());
  Status read = file_->read_exact(slot_offset, back);
  if (read.ok()) read = file_->read_exact(mirror_offset, mirror_back);
  if (!read.ok() || back != bytes || mirror_back != bytes) {
    failed_ = true;
    return Error(ErrorCode::io_error,
                 "the quorum state reads back different from what was written");
  }
  state_ = state;
  sequence_ = sequence;
  return ok_status();
}

}  // namespace quire::store
