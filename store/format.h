// Every on-disk constant of the store: magics, versions, sizes and offsets of the journal file,
// write-cache blocks, records, B+tree nodes, HALogs, snapshots and the quorum-state file.
// Changing any of these is a format version bump. The prose for every byte is in docs/format.md;
// each layout is also described at the top of the class that owns it.
//
// Every integer is little-endian (io/base/bytes.h). Every checksum is XXH3-64 (checksum64).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace quire::store::format {

// A magic is eight ASCII characters stored as a little-endian u64, so that a hex dump of the
// file shows the text in order ("QUIRE-RB").
constexpr uint64_t magic_from_text(std::string_view text) {
  uint64_t value = 0;
  for (size_t index = 0; index < 8; index++) {
    value |= static_cast<uint64_t>(static_cast<uint8_t>(text[index])) << (8 * index);
  }
  return value;
}

// The version of every file kind below. One number for the whole store format: a reader refuses
// any other.
// Version 2: the prepared record slots (the vote of the one-sync commit path) sit between the root
// slots and the data region, and the quorum state no longer holds a prepared root.
inline constexpr uint16_t version = 2;

// ---- Journal file ---------------------------------------------------------------------------

// Two root-block slots, each one disk sector so that writing one can never tear the other; the
// root block of commit counter N lives in slot N % 2. Then three prepared-record slots, one
// sector each: the record of sequence s in slot s % 2 and, as a mirror, in slot 2 (written under
// the same sync), so that rot in one copy of the newest vote leaves the other. The data region
// starts after them.
inline constexpr uint64_t root_slot_size_bytes = 4096;
inline constexpr uint64_t root_slot_count = 2;
inline constexpr uint64_t prepared_slots_begin_offset = root_slot_size_bytes * root_slot_count;
inline constexpr uint64_t prepared_slot_size_bytes = 4096;
inline constexpr uint64_t prepared_alternate_slot_count = 2;
inline constexpr uint64_t prepared_mirror_slot = 2;
inline constexpr uint64_t prepared_slot_count = 3;
inline constexpr uint64_t data_region_begin_offset =
    prepared_slots_begin_offset + prepared_slot_size_bytes * prepared_slot_count;

inline constexpr uint64_t root_block_magic = magic_from_text("QUIRE-RB");
inline constexpr size_t root_block_size_bytes = 128;

// Field offsets in a root block.
namespace root_block_field {
inline constexpr size_t magic = 0;
inline constexpr size_t version = 8;
inline constexpr size_t size = 10;
inline constexpr size_t reserved = 12;
inline constexpr size_t commit_counter = 16;
inline constexpr size_t commit_time_ns = 24;
inline constexpr size_t term = 32;
inline constexpr size_t write_set_begin_offset = 40;
inline constexpr size_t end_offset = 48;
inline constexpr size_t write_set_block_count = 56;
inline constexpr size_t write_set_hash = 64;
inline constexpr size_t tree_root = 72;          // Address: u64 offset, u32 length, u32 zero.
inline constexpr size_t commit_index_root = 88;  // Address: u64 offset, u32 length, u32 zero.
inline constexpr size_t key_count = 104;
inline constexpr size_t reserved_tail = 112;
inline constexpr size_t checksum = 120;  // XXH3 of bytes [0, 120).
}  // namespace root_block_field
static_assert(root_block_field::checksum + 8 == root_block_size_bytes);
static_assert(root_block_size_bytes <= root_slot_size_bytes);

// A prepared record: this member's YES vote for root block `prepared`, written with the held
// write set and made durable by the same sync (docs/format.md, "Prepared records").
inline constexpr uint64_t prepared_record_magic = magic_from_text("QUIRE-PR");
inline constexpr size_t prepared_record_size_bytes = 288;
namespace prepared_record_field {
inline constexpr size_t magic = 0;
inline constexpr size_t version = 8;
inline constexpr size_t size = 10;
inline constexpr size_t reserved = 12;
inline constexpr size_t sequence = 16;
inline constexpr size_t prepared_root = 24;    // The root block voted for (128 bytes).
inline constexpr size_t committed_root = 152;  // The journal's root when it was written.
inline constexpr size_t checksum = 280;        // XXH3 of [0, 280).
}  // namespace prepared_record_field
static_assert(prepared_record_field::prepared_root + root_block_size_bytes ==
              prepared_record_field::committed_root);
static_assert(prepared_record_field::committed_root + root_block_size_bytes ==
              prepared_record_field::checksum);
static_assert(prepared_record_field::checksum + 8 == prepared_record_size_bytes);
static_assert(prepared_record_size_bytes <= prepared_slot_size_bytes);

// ---- Write-cache blocks and records ----------------------------------------------------------

inline constexpr uint64_t write_cache_block_magic = magic_from_text("QUIRE-WB");
inline constexpr size_t write_cache_block_header_size_bytes = 64;
inline constexpr uint32_t write_cache_block_size_bytes_default = 1u << 20;
// Small enough for the simulator's tiny blocks, large enough for one node and one value index.
inline constexpr uint32_t write_cache_block_size_bytes_min = 8u << 10;
inline constexpr uint32_t write_cache_block_size_bytes_max = 64u << 20;
// Flags of a block header.
inline constexpr uint32_t block_flag_last_in_write_set = 1u << 0;
inline constexpr uint32_t block_flags_known = block_flag_last_in_write_set;

namespace block_field {
inline constexpr size_t magic = 0;
inline constexpr size_t version = 8;
inline constexpr size_t header_size = 10;
inline constexpr size_t record_count = 12;
inline constexpr size_t term = 16;
inline constexpr size_t commit_counter = 24;
inline constexpr size_t sequence = 32;
inline constexpr size_t flags = 36;
inline constexpr size_t file_offset = 40;
inline constexpr size_t length = 48;  // u32: header + records.
inline constexpr size_t reserved = 52;
inline constexpr size_t checksum = 56;  // XXH3 of header [0, 56) followed by the records.
}  // namespace block_field
static_assert(block_field::checksum + 8 == write_cache_block_header_size_bytes);

// A record: a 16-byte header then the payload. Its address is (file offset, length including
// the header). The checksum covers the record's own file offset, so that a record read from the
// wrong place (a misdirected write) fails it.
inline constexpr size_t record_header_size_bytes = 16;
namespace record_field {
inline constexpr size_t length = 0;    // u32, header included.
inline constexpr size_t kind = 4;      // u8, RecordKind.
inline constexpr size_t reserved = 5;  // u8[3], zero.
inline constexpr size_t checksum = 8;  // XXH3 of (u64 file offset, header [0, 8), payload).
}  // namespace record_field
static_assert(record_field::checksum + 8 == record_header_size_bytes);

enum class RecordKind : uint8_t {
  leaf = 1,         // A B+tree leaf node.
  branch = 2,       // A B+tree branch node.
  value_chunk = 3,  // One chunk of an out-of-line value: raw bytes.
  value_index = 4,  // The addresses of the chunks of a value of more than one chunk.
};
inline constexpr uint8_t record_kind_max = 4;

// An address as stored inside records: u64 file offset, u32 length.
inline constexpr size_t address_size_bytes = 12;

// ---- B+tree nodes ----------------------------------------------------------------------------

// Keys are at most this long (a u16 length prefix); JournalOptions may lower the limit.
inline constexpr size_t key_size_bytes_max = 4096;
// Value tags in a leaf entry.
inline constexpr uint8_t value_tag_inline = 0;
inline constexpr uint8_t value_tag_out_of_line = 1;
// A leaf entry: u16 key length, key, u64 version, u8 tag, then either u32 length + bytes
// (inline) or u64 total length, u32 chunk count, address (out of line).
inline constexpr size_t leaf_entry_fixed_size_bytes = 2 + 8 + 1;
inline constexpr size_t leaf_inline_value_fixed_size_bytes = 4;
inline constexpr size_t leaf_out_of_line_value_size_bytes = 8 + 4 + address_size_bytes;
// Leaf payload: u32 entry count. Branch payload: u8 level (>= 1), u8[3] zero, u32 child count,
// the first child's address, then per further child: u16 separator length, separator, address.
inline constexpr size_t leaf_header_size_bytes = 4;
inline constexpr size_t branch_header_size_bytes = 8;
inline constexpr size_t branch_child_fixed_size_bytes = 2 + address_size_bytes;
inline constexpr uint8_t tree_level_max = 32;
// Value index payload: u32 chunk count, then the chunk addresses.
inline constexpr size_t value_index_header_size_bytes = 4;

// The commit-record index is a B+tree keyed by the 8-byte big-endian commit counter, so that key
// order is counter order; its values are the encoded root blocks.
inline constexpr size_t commit_index_key_size_bytes = 8;

// ---- HALog files -----------------------------------------------------------------------------

inline constexpr uint64_t halog_magic = magic_from_text("QUIRE-HL");
inline constexpr size_t halog_header_size_bytes = 64;
namespace halog_field {
inline constexpr size_t magic = 0;
inline constexpr size_t version = 8;
inline constexpr size_t header_size = 10;
inline constexpr size_t reserved = 12;
inline constexpr size_t commit_counter = 16;  // The commit point the closing root block makes.
inline constexpr size_t reserved_tail = 24;
inline constexpr size_t checksum = 56;  // XXH3 of [0, 56).
}  // namespace halog_field
static_assert(halog_field::checksum + 8 == halog_header_size_bytes);
// halog/00000000000000000042.halog
inline constexpr size_t file_name_counter_digits = 20;
inline constexpr std::string_view halog_directory_name = "halog";
inline constexpr std::string_view halog_file_suffix = ".halog";
// halog/00000000000000000042.settled: an empty file whose name says that every HALog of a
// counter up to 42 is durable and checked, or was purged on purpose. Recovery checks and
// rebuilds only the HALogs past it (docs/format.md, "Commit order, crashes and recovery").
inline constexpr std::string_view halog_settled_mark_suffix = ".settled";

// ---- Snapshots -------------------------------------------------------------------------------

inline constexpr uint64_t snapshot_magic = magic_from_text("QUIRE-SN");
inline constexpr uint64_t snapshot_trailer_magic = magic_from_text("QUIRE-SE");
inline constexpr size_t snapshot_header_size_bytes = 192;
namespace snapshot_field {
inline constexpr size_t magic = 0;
inline constexpr size_t version = 8;
inline constexpr size_t header_size = 10;
inline constexpr size_t reserved = 12;
inline constexpr size_t commit_counter = 16;
inline constexpr size_t data_length = 24;  // Bytes of the data region in the snapshot.
inline constexpr size_t frame_size = 32;   // u32: uncompressed bytes per frame (last: fewer).
inline constexpr size_t reserved_2 = 36;
inline constexpr size_t root_block = 40;  // The root block of the commit point (128 bytes).
inline constexpr size_t reserved_tail = 168;
inline constexpr size_t checksum = 184;  // XXH3 of [0, 184).
}  // namespace snapshot_field
static_assert(snapshot_field::root_block + root_block_size_bytes == snapshot_field::reserved_tail);
static_assert(snapshot_field::checksum + 8 == snapshot_header_size_bytes);
// A frame: u32 compressed length, u32 uncompressed length, u64 XXH3 of (those 8 bytes, the
// compressed bytes), then the zstd frame.
inline constexpr size_t snapshot_frame_header_size_bytes = 16;
inline constexpr uint32_t snapshot_frame_size_bytes_default = 4u << 20;
// Trailer: magic, u64 frame count, u64 XXH3 of every uncompressed byte in order, u64 XXH3 of
// the trailer's first 24 bytes.
inline constexpr size_t snapshot_trailer_size_bytes = 32;
inline constexpr std::string_view snapshot_directory_name = "snapshots";
inline constexpr std::string_view snapshot_file_suffix = ".snap";
inline constexpr std::string_view temporary_file_suffix = ".tmp";

// ---- Quorum state ----------------------------------------------------------------------------

inline constexpr uint64_t quorum_state_magic = magic_from_text("QUIRE-QS");
inline constexpr uint64_t quorum_state_slot_size_bytes = 4096;
// Slots 0 and 1 alternate (record of sequence s in slot s % 2); slot 2 mirrors the latest record,
// written under the same sync, so that rot in one copy of the latest record leaves the other.
inline constexpr uint64_t quorum_state_mirror_slot = 2;
inline constexpr uint64_t quorum_state_slot_count = 3;
inline constexpr size_t quorum_state_record_size_bytes = 192;
namespace quorum_state_field {
inline constexpr size_t magic = 0;
inline constexpr size_t version = 8;
inline constexpr size_t size = 10;
inline constexpr size_t reserved = 12;
inline constexpr size_t sequence = 16;
inline constexpr size_t current_term = 24;
inline constexpr size_t voted_for = 32;  // u32 NodeId; 0 = none.
// Zeros: version 1 kept the prepared root here; the journal's prepared records hold it now.
inline constexpr size_t reserved_tail = 36;
inline constexpr size_t checksum = 184;  // XXH3 of [0, 184).
}  // namespace quorum_state_field
static_assert(quorum_state_field::checksum + 8 == quorum_state_record_size_bytes);
static_assert(quorum_state_record_size_bytes <= quorum_state_slot_size_bytes);

// ---- File names ------------------------------------------------------------------------------

inline constexpr std::string_view journal_file_name = "journal";
// A journal being created (commit point 0) or installed from a peer; renamed when complete.
inline constexpr std::string_view journal_install_file_name = "journal.install";
inline constexpr std::string_view quorum_state_file_name = "quorum_state";
// Empty. Present while this member holds no history of its own: it set an unusable journal aside
// and started empty, and has not yet rebuilt from a leader. While it exists the member neither
// votes nor campaigns (docs/protocol.md, "Catch-up"); the rebuild removes it.
inline constexpr std::string_view journal_lost_marker_file_name = "journal.lost";
// One byte per start in a row whose journal failed to open (its size is the count); removed by
// an open that succeeds. Past journal_open_failures_max the journal is set aside (engine/node.cc).
inline constexpr std::string_view journal_open_failures_file_name = "journal.open_failures";
inline constexpr uint64_t journal_open_failures_max = 3;
// The member list this data directory was first started with (engine/member_list.h; text,
// docs/format.md "The member list file"). A start with another list is refused.
inline constexpr std::string_view member_list_file_name = "members";

}  // namespace quire::store::format
