// WriteCacheBlock: the unit in which data reaches the disk and the wire. The leader fills blocks
// with records (write_cache.h), writes them at their offsets in the journal and in its HALog, and
// streams them down the pipeline; a follower checks each one and lays it down at the same offset.
// A block's bytes never change once written: a write set re-proposed by a new leader keeps them.
//
// Layout (docs/format.md, "Write-cache blocks"; offsets in format::block_field): a 64-byte
// header, then records back to back.
//   magic "QUIRE-WB", u16 version, u16 header size (64), u32 record count,
//   u64 term the block was written in, u64 commit counter of its write set,
//   u32 sequence within the write set (0, 1, ...), u32 flags (bit 0: last block of the write set),
//   u64 file offset of the block, u32 length of the block (header + records), u32 zero,
//   u64 XXH3 of (header bytes [0, 56), records).
// A block is written by one write() call and is durable only after the sync of PREPARE; a crash
// before that may keep, lose or tear it. Past the committed end, open() keeps a block only as
// part of a whole write set that checks (counter, sequence, offset, term, checksum, up to the
// last block) and cuts the rest. Below the committed end a block that fails its checksum is rot
// (repair from a peer).
#pragma once

#include <cstdint>
#include <vector>

#include "io/base/bytes.h"
#include "io/base/ids.h"
#include "io/base/result.h"
#include "store/address.h"
#include "store/format.h"

namespace quire::store {

struct WriteCacheBlockHeader {
  uint32_t record_count = 0;
  Term term;
  CommitCounter commit_counter;
  uint32_t sequence = 0;
  uint32_t flags = 0;
  uint64_t file_offset = 0;
  uint32_t length = 0;

  bool last_in_write_set() const { return (flags & format::block_flag_last_in_write_set) != 0; }
  Address address() const { return Address{file_offset, length}; }
  bool operator==(const WriteCacheBlockHeader&) const = default;
};

// Fills the first header-size bytes of `block` (records already follow them) and its checksum.
// REQUIRES: block.size() == header.length, header.record_count records follow the header.
void seal_write_cache_block(Bytes& block, const WriteCacheBlockHeader& header);

// Reads the header fields of untrusted bytes without the checksum (which needs the whole block):
// enough to learn the block's length. Errors: corruption (too short, bad magic, version, header
// size, flags, or a length outside [header size, format max]).
Result<WriteCacheBlockHeader> peek_write_cache_block_header(ByteView bytes);

// Checks an untrusted whole block: header fields, length == bytes.size(), the checksum, and that
// its records tile the payload exactly. Errors: corruption (structure), checksum_mismatch
// carrying the block's address.
Result<WriteCacheBlockHeader> verify_write_cache_block(ByteView block);

// The addresses of the records of a verified block, in order.
std::vector<Address> write_cache_block_records(ByteView verified_block);

}  // namespace quire::store
