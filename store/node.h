// Node: one B+tree node in memory, and its record payload. Nodes on disk are immutable records;
// an update copies the nodes on the path it changes (btree_update.h).
//
// Leaf payload (record kind leaf; docs/format.md, "B+tree"):
//   u32 entry count, then per entry in strictly increasing key order:
//   u16 key length, key, u64 version (the commit counter that last wrote the key), u8 tag, and
//   tag 0 (inline): u32 length, value bytes;
//   tag 1 (out of line): u64 value length, u32 chunk count, address (u64, u32) of the single
//   value chunk (chunk count 1) or of the value index listing the chunks.
// Branch payload (record kind branch):
//   u8 level (1 above the leaves), u8[3] zero, u32 child count (>= 1), the first child's
//   address, then per further child: u16 separator length, separator, child address.
//   Separator i is the least key the subtree of child i+1 may hold; separators strictly increase.
// Value index payload (record kind value_index): u32 chunk count, then the chunk addresses.
#pragma once

#include <cstdint>
#include <vector>

#include "io/base/bytes.h"
#include "io/base/ids.h"
#include "io/base/result.h"
#include "store/address.h"
#include "store/format.h"
#include "store/record.h"

namespace quire::store {

struct LeafValue {
  CommitCounter version;
  bool out_of_line = false;
  Bytes inline_bytes;        // When inline.
  uint64_t length = 0;       // When out of line: the value's length.
  uint32_t chunk_count = 0;  // When out of line.
  Address address;           // When out of line: the chunk, or the value index.

  uint64_t value_length() const { return out_of_line ? length : inline_bytes.size(); }
  bool operator==(const LeafValue&) const = default;
};

struct Node {
  uint8_t level = 0;              // 0: a leaf.
  std::vector<Bytes> keys;        // Leaf: entry keys. Branch: separators (children - 1).
  std::vector<LeafValue> values;  // Leaf: one per key.
  std::vector<Address> children;  // Branch: the children, left to right.

  bool is_leaf() const { return level == 0; }
  size_t entry_count() const { return is_leaf() ? keys.size() : children.size(); }
  // Bytes of the encoded payload.
  size_t payload_size_bytes() const;
  // What the node costs in a cache: payload plus the vectors' bookkeeping, roughly.
  size_t memory_size_bytes() const;
};

size_t leaf_entry_size_bytes(size_t key_size_bytes, const LeafValue& value);
size_t branch_child_size_bytes(size_t separator_size_bytes);

format::RecordKind node_record_kind(const Node& node);
Bytes encode_node(const Node& node);

// Decodes a verified record. Errors: corruption when the record is not a node or breaks a
// structural rule (order of keys, counts, lengths): bytes that passed their checksum but were
// written wrong, so the caller sees an error, not garbage.
Result<Node> decode_node(Address address, const RecordView& record);

Bytes encode_value_index(const std::vector<Address>& chunks);
Result<std::vector<Address>> decode_value_index(Address address, const RecordView& record);

}  // namespace quire::store
