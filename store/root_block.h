// RootBlock: the commit record of one commit point. The journal keeps the last two in the slots
// at its head; HALogs open and close with them; a snapshot carries one; PREPARE and COMMIT carry
// one between members. A plain value type (no I/O), so engine/core may use it.
//
// Layout (128 bytes, docs/format.md, "Root blocks"; offsets in format::root_block_field):
//   magic "QUIRE-RB", u16 version, u16 size (128), u32 zero,
//   u64 commit counter, i64 commit time (wall-clock ns, for people), u64 term (the quorum token
//   it committed in), u64 write-set begin offset, u64 end offset of the committed data,
//   u64 write-set block count, u64 write-set hash (XXH3 of the write set's block bytes in order),
//   B+tree root address (u64 offset, u32 length, u32 zero), commit-record index root address
//   (same form), u64 key count, u64 zero, u64 XXH3 of bytes [0, 120).
// A root block is written whole into one sector-sized slot, so it is kept or lost as a unit at
// a crash; one that fails its checksum (rot, or a torn write on a device with smaller atomic
// units) is refused and open() falls back to the other slot.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "io/base/bytes.h"
#include "io/base/checksum.h"
#include "io/base/ids.h"
#include "io/base/result.h"
#include "store/address.h"
#include "store/format.h"

namespace quire::store {

struct RootBlock {
  CommitCounter commit_counter;
  int64_t commit_time_ns = 0;
  Term term;
  // The write set that made this commit point covers [write_set_begin_offset, end_offset) of the
  // data region, in write_set_block_count blocks. Commit point 0 has no write set.
  uint64_t write_set_begin_offset = format::data_region_begin_offset;
  uint64_t end_offset = format::data_region_begin_offset;
  uint64_t write_set_block_count = 0;
  uint64_t write_set_hash = 0;
  Address tree_root;          // Null: the empty tree.
  Address commit_index_root;  // Null: no earlier commit point.
  uint64_t key_count = 0;

  bool operator==(const RootBlock&) const = default;

  // True when `other` differs from this one at most in term and commit time: the same write set
  // and the same trees (a write set re-proposed by a new leader).
  bool same_write_set(const RootBlock& other) const {
    RootBlock copy = other;
    copy.term = term;
    copy.commit_time_ns = commit_time_ns;
    return copy == *this;
  }
};

// The root block of commit point 0, the empty journal. Equal on every replica.
inline RootBlock initial_root_block() {
  RootBlock root;
  root.write_set_hash = checksum64(ByteView());
  return root;
}

using EncodedRootBlock = std::array<uint8_t, format::root_block_size_bytes>;

// Encodes `root`, computing its checksum.
EncodedRootBlock encode_root_block(const RootBlock& root);
void append_root_block(Bytes& target, const RootBlock& root);

// Decodes untrusted bytes. Errors: corruption (short, bad magic, version or size: not a root
// block at all), checksum_mismatch (a root block that fails its XXH3), corruption again when the
// checksum holds but the fields contradict each other.
// REQUIRES: nothing about `bytes`; only the first root_block_size_bytes are looked at.
Result<RootBlock> decode_root_block(ByteView bytes);

// The format version of a root block whose magic and checksum hold, whatever that version is;
// nullopt when they do not. Tells a journal of another format from a damaged one.
std::optional<uint16_t> root_block_format_version(ByteView bytes);

// Whether `bytes` start with the root-block magic (the HALog reader tells entries apart by it).
bool starts_with_root_block_magic(ByteView bytes);

}  // namespace quire::store
