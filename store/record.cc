#include "store/record.h"

#include "io/base/checksum.h"
#include "io/base/text.h"

namespace quire::store {
namespace {

uint64_t record_checksum(uint64_t offset, ByteView header_prefix, ByteView payload) {
  Checksummer checksummer;
  checksummer.update_u64(offset);
  checksummer.update(header_prefix);
  checksummer.update(payload);
  return checksummer.digest();
}

}  // namespace

void append_record(Bytes& target, uint64_t offset, format::RecordKind kind, ByteView payload) {
  const size_t length = record_size_bytes(payload.size());
  QUIRE_ASSERT(length <= UINT32_MAX);
  const size_t at = target.size();
  ByteWriter writer(target);
  writer.u32(static_cast<uint32_t>(length));
  writer.u8(static_cast<uint8_t>(kind));
  writer.zeros(3);
  const ByteView header_prefix(target.data() + at, format::record_field::checksum);
  writer.u64(record_checksum(offset, header_prefix, payload));
  writer.bytes(payload);
  QUIRE_ASSERT(target.size() == at + length);
}

Result<RecordView> verify_record(Address address, ByteView bytes) {
  QUIRE_ASSERT(bytes.size() == address.length);
  if (bytes.size() < format::record_header_size_bytes) {
    return checksum_error(address, "record too short");
  }
  const ByteView header_prefix = bytes.first(format::record_field::checksum);
  const ByteView payload = bytes.subspan(format::record_header_size_bytes);
  const uint64_t stored = load_le<uint64_t>(bytes.data() + format::record_field::checksum);
  if (record_checksum(address.offset, header_prefix, payload) != stored) {
    return checksum_error(address, "record");
  }
  const uint32_t length = load_le<uint32_t>(bytes.data() + format::record_field::length);
  const uint8_t kind = bytes[format::record_field::kind];
  if (length != address.length || kind == 0 || kind > format::record_kind_max) {
    return Error(ErrorCode::corruption,
                 concat("record at ", address_text(address), " checks but claims length ", length,
                        " and kind ", kind));
  }
  return RecordView{static_cast<format::RecordKind>(kind), payload};
}

}  // namespace quire::store
