#include "store/prepared_record.h"

#include <algorithm>

#include "io/base/checksum.h"
#include "io/base/text.h"

namespace quire::store {
namespace {

namespace field = format::prepared_record_field;

}  // namespace

uint64_t prepared_slot_offset(uint64_t slot) {
  QUIRE_ASSERT(slot < format::prepared_slot_count);
  return format::prepared_slots_begin_offset + slot * format::prepared_slot_size_bytes;
}

uint64_t prepared_alternate_slot(uint64_t sequence) {
  return sequence % format::prepared_alternate_slot_count;
}

Bytes encode_prepared_slot(const PreparedRecord& record) {
  QUIRE_ASSERT(record.prepared.commit_counter == record.committed.commit_counter.next());
  Bytes bytes;
  bytes.reserve(format::prepared_slot_size_bytes);
  ByteWriter writer(bytes);
  writer.u64(format::prepared_record_magic);
  writer.u16(format::version);
  writer.u16(static_cast<uint16_t>(format::prepared_record_size_bytes));
  writer.u32(0);
  writer.u64(record.sequence);
  append_root_block(bytes, record.prepared);
  append_root_block(bytes, record.committed);
  QUIRE_ASSERT(bytes.size() == field::checksum);
  writer.u64(checksum64(bytes));
  QUIRE_ASSERT(bytes.size() == format::prepared_record_size_bytes);
  // The whole sector: a partial write cannot mend a latent sector error there.
  bytes.resize(format::prepared_slot_size_bytes, 0);
  return bytes;
}

Result<std::optional<PreparedRecord>> decode_prepared_slot(ByteView bytes) {
  if (bytes.size() < format::prepared_record_size_bytes) {
    return Error(ErrorCode::corruption, "prepared record cut short");
  }
  const ByteView record = bytes.first(format::prepared_record_size_bytes);
  if (std::all_of(record.begin(), record.end(), [](uint8_t byte) { return byte == 0; })) {
    return std::optional<PreparedRecord>();
  }
  ByteReader reader(record);
  const uint64_t magic = reader.u64();
  const uint16_t version = reader.u16();
  const uint16_t size = reader.u16();
  if (magic != format::prepared_record_magic) {
    return Error(ErrorCode::corruption, "no prepared record here (bad magic)");
  }
  if (load_le<uint64_t>(record.data() + field::checksum) !=
      checksum64(record.first(field::checksum))) {
    return Error(ErrorCode::checksum_mismatch, "prepared record fails its checksum");
  }
  if (version != format::version || size != format::prepared_record_size_bytes) {
    return Error(ErrorCode::corruption,
                 concat("prepared record of version ", version, " is not of this format"));
  }
  reader.skip(4);
  PreparedRecord decoded;
  decoded.sequence = reader.u64();
  QUIRE_TRY_ASSIGN(decoded.prepared, decode_root_block(record.subspan(field::prepared_root)));
  QUIRE_TRY_ASSIGN(decoded.committed, decode_root_block(record.subspan(field::committed_root)));
  if (decoded.prepared.commit_counter != decoded.committed.commit_counter.next() ||
      decoded.prepared.write_set_begin_offset != decoded.committed.end_offset) {
    return Error(ErrorCode::corruption,
                 concat("prepared record ", decoded.sequence, " names root ",
                        decoded.prepared.commit_counter, " that does not follow its committed ",
                        "root ", decoded.committed.commit_counter));
  }
  return std::optional<PreparedRecord>(decoded);
}

}  // namespace quire::store
