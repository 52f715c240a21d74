// Records: the unit of data inside write-cache blocks. B+tree nodes and value chunks are records.
//
// Layout (docs/format.md, "Records"): a 16-byte header, then the payload.
//   [0, 4)   u32 length of the whole record, header included
//   [4, 5)   u8 kind (format::RecordKind)
//   [5, 8)   zero
//   [8, 16)  u64 XXH3 of (u64 file offset of the record, header bytes [0, 8), payload)
// A record never crosses a block boundary, so its bytes are written (and torn, and lost) with
// its block. Folding the file offset into the checksum makes a record that was written to, or is
// read from, the wrong place fail its checksum like a rotten one.
#pragma once

#include <cstdint>

#include "io/base/bytes.h"
#include "io/base/result.h"
#include "store/address.h"
#include "store/format.h"

namespace quire::store {

struct RecordView {
  format::RecordKind kind;
  ByteView payload;  // Points into the bytes given to verify_record().
};

inline constexpr size_t record_size_bytes(size_t payload_size_bytes) {
  return format::record_header_size_bytes + payload_size_bytes;
}

// Appends the record that will live at file offset `offset` to `target`.
void append_record(Bytes& target, uint64_t offset, format::RecordKind kind, ByteView payload);

// Checks untrusted `bytes` as the record at `address`. Errors: checksum_mismatch carrying the
// address (address_text), corruption when the length or kind is impossible although the
// checksum holds (a bug in a writer, never rot).
// REQUIRES: bytes.size() == address.length.
Result<RecordView> verify_record(Address address, ByteView bytes);

}  // namespace quire::store
