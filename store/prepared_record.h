// PreparedRecord: a member's YES vote for a write set, kept in the journal file itself so that
// the vote and the write set's blocks become durable by one sync (docs/format.md, "Prepared
// records"; docs/protocol.md, "One sync per commit point").
//
// Layout (288 bytes at the start of a 4096-byte slot; offsets in format::prepared_record_field):
//   magic "QUIRE-PR", u16 version, u16 size (288), u32 zero, u64 sequence,
//   the prepared root block (128 bytes): the root this member voted YES for,
//   the committed root block (128 bytes): the journal's root when the record was written,
//   u64 XXH3 of bytes [0, 280).
// The record of sequence s lives in slot s % 2, and a copy in slot 2 (the mirror), written under
// the same sync. Writing one never tears the one before in its alternate slot: a crash during
// prepare's sync leaves the previous vote, and no YES for the new one had left. Rot in one copy
// of the newest record leaves the other (falling back to the previous vote would forget a YES).
// The committed root is the evidence that commit point was decided: a record is written only
// after its predecessor committed here, so open may roll forward to it if the root slot that
// held it did not reach the disk (or rotted).
#pragma once

#include <cstdint>
#include <optional>

#include "io/base/bytes.h"
#include "io/base/result.h"
#include "store/root_block.h"

namespace quire::store {

struct PreparedRecord {
  uint64_t sequence = 0;
  RootBlock prepared;
  RootBlock committed;
  bool operator==(const PreparedRecord&) const = default;
};

// The whole slot: the encoded record, then zeros.
Bytes encode_prepared_slot(const PreparedRecord& record);

// Decodes a slot's untrusted bytes. nullopt for an empty (all-zero) record area. Errors:
// corruption (bad magic, version or size, or roots that contradict each other),
// checksum_mismatch (a torn or rotten record).
Result<std::optional<PreparedRecord>> decode_prepared_slot(ByteView bytes);

// Where slot 0, 1 or 2 (the mirror) starts; the alternate slot the record of `sequence` goes to.
uint64_t prepared_slot_offset(uint64_t slot);
uint64_t prepared_alternate_slot(uint64_t sequence);

}  // namespace quire::store
