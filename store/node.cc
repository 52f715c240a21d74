#include "store/node.h"

#include <algorithm>

#include "io/base/text.h"

namespace quire::store {
namespace {

Error malformed(Address address, std::string_view what) {
  return Error(ErrorCode::corruption,
               concat("node at ", address_text(address), " checks but ", what));
}

bool strictly_increasing(const std::vector<Bytes>& keys) {
  for (size_t index = 1; index < keys.size(); index++) {
    if (!std::lexicographical_compare(keys[index - 1].begin(), keys[index - 1].end(),
                                      keys[index].begin(), keys[index].end())) {
      return false;
    }
  }
  return true;
}

void write_key(ByteWriter& writer, const Bytes& key) {
  QUIRE_ASSERT(key.size() <= format::key_size_bytes_max);
  writer.u16(static_cast<uint16_t>(key.size()));
  writer.bytes(key);
}

Bytes read_key(ByteReader& reader) {
  const ByteView key = reader.bytes(reader.u16());
  return Bytes(key.begin(), key.end());
}

void encode_leaf(ByteWriter& writer, const Node& node) {
  QUIRE_ASSERT(node.keys.size() == node.values.size());
  writer.u32(static_cast<uint32_t>(node.keys.size()));
  for (size_t index = 0; index < node.keys.size(); index++) {
    const LeafValue& value = node.values[index];
    write_key(writer, node.keys[index]);
    writer.u64(value.version.value());
    if (value.out_of_line) {
      writer.u8(format::value_tag_out_of_line);
      writer.u64(value.length);
      writer.u32(value.chunk_count);
      write_address(writer, value.address);
    } else {
      writer.u8(format::value_tag_inline);
      writer.blob(value.inline_bytes);
    }
  }
}

void encode_branch(ByteWriter& writer, const Node& node) {
  QUIRE_ASSERT(!node.children.empty());
  QUIRE_ASSERT(node.keys.size() + 1 == node.children.size());
  writer.u8(node.level);
  writer.zeros(3);
  writer.u32(static_cast<uint32_t>(node.children.size()));
  write_address(writer, node.children[0]);
  for (size_t index = 1; index < node.children.size(); index++) {
    write_key(writer, node.keys[index - 1]);
    write_address(writer, node.children[index]);
  }
}

Result<Node> decode_leaf(Address address, ByteReader& reader) {
  Node node;
  const uint32_t count = reader.u32();
  // Each entry takes at least its fixed part: a bound before reserving memory for it.
  if (count > reader.remaining() / format::leaf_entry_fixed_size_bytes) {
    return malformed(address, "claims more entries than it holds");
  }
  node.keys.reserve(count);
  node.values.reserve(count);
  for (uint32_t index = 0; index < count && reader.ok(); index++) {
    node.keys.push_back(read_key(reader));
    LeafValue value;
    value.version = CommitCounter(reader.u64());
    const uint8_t tag = reader.u8();
    if (tag == format::value_tag_out_of_line) {
      value.out_of_line = true;
      value.length = reader.u64();
      value.chunk_count = reader.u32();
      value.address = read_address(reader);
      if (value.chunk_count == 0 || value.address.is_null()) {
        return malformed(address, "has an out-of-line value without chunks");
      }
    } else if (tag == format::value_tag_inline) {
      const ByteView bytes = reader.blob();
      value.inline_bytes.assign(bytes.begin(), bytes.end());
    } else {
      return malformed(address, concat("has a value tag ", tag));
    }
    node.values.push_back(std::move(value));
  }
  if (!reader.ok() || reader.remaining() != 0) return malformed(address, "has a bad length");
  if (!strictly_increasing(node.keys)) return malformed(address, "has keys out of order");
  return node;
}

Result<Node> decode_branch(Address address, ByteReader& reader) {
  Node node;
  node.level = reader.u8();
  reader.skip(3);
  const uint32_t count = reader.u32();
  if (node.level == 0 || node.level > format::tree_level_max || count == 0 ||
      count > reader.remaining() / format::address_size_bytes) {
    return malformed(address, "has an impossible level or child count");
  }
  node.children.reserve(count);
  node.keys.reserve(count - 1);
  node.children.push_back(read_address(reader));
  for (uint32_t index = 1; index < count && reader.ok(); index++) {
    node.keys.push_back(read_key(reader));
    node.children.push_back(read_address(reader));
  }
  if (!reader.ok() || reader.remaining() != 0) return malformed(address, "has a bad length");
  if (!strictly_increasing(node.keys)) return malformed(address, "has separators out of order");
  for (const Address& child : node.children) {
    if (child.is_null() || child.end() > address.offset) {
      return malformed(address, "points at a child that is not older than itself");
    }
  }
  return node;
}

}  // namespace

size_t leaf_entry_size_bytes(size_t key_size_bytes, const LeafValue& value) {
  const size_t value_size =
      value.out_of_line ? format::leaf_out_of_line_value_size_bytes
                        : format::leaf_inline_value_fixed_size_bytes + value.inline_bytes.size();
  return format::leaf_entry_fixed_size_bytes + key_size_bytes + value_size;
}

size_t branch_child_size_bytes(size_t separator_size_bytes) {
  return format::branch_child_fixed_size_bytes + separator_size_bytes;
}

size_t Node::payload_size_bytes() const {
  if (is_leaf()) {
    size_t size = format::leaf_header_size_bytes;
    for (size_t index = 0; index < keys.size(); index++) {
      size += leaf_entry_size_bytes(keys[index].size(), values[index]);
    }
    return size;
  }
  size_t size = format::branch_header_size_bytes + format::address_size_bytes;
  for (const Bytes& key : keys)
    size += branch_child_size_bytes(key.size());
  return size;
}

size_t Node::memory_size_bytes() const {
  constexpr size_t per_entry_overhead_bytes = 64;
  return sizeof(Node) + payload_size_bytes() + entry_count() * per_entry_overhead_bytes;
}

format::RecordKind node_record_kind(const Node& node) {
  return node.is_leaf() ? format::RecordKind::leaf : format::RecordKind::branch;
}

Bytes encode_node(const Node& node) {
  Bytes payload;
  payload.reserve(node.payload_size_bytes());
  ByteWriter writer(payload);
  if (node.is_leaf()) {
    encode_leaf(writer, node);
  } else {
    encode_branch(writer, node);
  }
  QUIRE_ASSERT(payload.size() == node.payload_size_bytes());
  return payload;
}

Result<Node> decode_node(Address address, const RecordView& record) {
  ByteReader reader(record.payload);
  switch (record.kind) {
    case format::RecordKind::leaf:
      return decode_leaf(address, reader);
    case format::RecordKind::branch:
      return decode_branch(address, reader);
    default:
      return malformed(address, concat("is a record of kind ", static_cast<int>(record.kind)));
  }
}

Bytes encode_value_index(const std::vector<Address>& chunks) {
  Bytes payload;
  ByteWriter writer(payload);
  writer.u32(static_cast<uint32_t>(chunks.size()));
  for (const Address& chunk : chunks)
    write_address(writer, chunk);
  return payload;
}

Result<std::vector<Address>> decode_value_index(Address address, const RecordView& record) {
  if (record.kind != format::RecordKind::value_index) {
    return malformed(address, "is not a value index");
  }
  ByteReader reader(record.payload);
  const uint32_t count = reader.u32();
  if (count > reader.remaining() / format::address_size_bytes) {
    return malformed(address, "claims more chunks than it holds");
  }
  std::vector<Address> chunks;
  chunks.reserve(count);
  for (uint32_t index = 0; index < count; index++)
    chunks.push_back(read_address(reader));
  if (!reader.ok() || reader.remaining() != 0) return malformed(address, "has a bad length");
  return chunks;
}

}  // namespace quire::store
