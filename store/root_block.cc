#include "store/root_block.h"

#include "io/base/checksum.h"
#include "io/base/text.h"

namespace quire::store {
namespace {

namespace field = format::root_block_field;

void write_tree_address(ByteWriter& writer, Address address) {
  write_address(writer, address);
  writer.u32(0);
}

Address read_tree_address(ByteReader& reader) {
  const Address address = read_address(reader);
  reader.skip(4);
  return address;
}

// Structural rules a root block obeys once its checksum holds.
Status check_fields(const RootBlock& root) {
  const bool offsets_ok = root.write_set_begin_offset >= format::data_region_begin_offset &&
                          root.write_set_begin_offset <= root.end_offset;
  const bool blocks_ok =
      (root.write_set_block_count == 0) == (root.write_set_begin_offset == root.end_offset);
  auto inside = [&root](Address address) {
    return address.is_null() || (address.offset >= format::data_region_begin_offset &&
                                 address.end() <= root.end_offset && address.length > 0);
  };
  if (!offsets_ok || !blocks_ok || !inside(root.tree_root) || !inside(root.commit_index_root)) {
    return Error(ErrorCode::corruption, concat("root block of commit counter ", root.commit_counter,
                                               " checks but its offsets contradict each other"));
  }
  return ok_status();
}

}  // namespace

EncodedRootBlock encode_root_block(const RootBlock& root) {
  Bytes bytes;
  bytes.reserve(format::root_block_size_bytes);
  ByteWriter writer(bytes);
  writer.u64(format::root_block_magic);
  writer.u16(format::version);
  writer.u16(static_cast<uint16_t>(format::root_block_size_bytes));
  writer.u32(0);
  writer.u64(root.commit_counter.value());
  writer.u64(static_cast<uint64_t>(root.commit_time_ns));
  writer.u64(root.term.value());
  writer.u64(root.write_set_begin_offset);
  writer.u64(root.end_offset);
  writer.u64(root.write_set_block_count);
  writer.u64(root.write_set_hash);
  write_tree_address(writer, root.tree_root);
  write_tree_address(writer, root.commit_index_root);
  writer.u64(root.key_count);
  writer.u64(0);
  QUIRE_ASSERT(bytes.size() == field::checksum);
  writer.u64(checksum64(bytes));
  QUIRE_ASSERT(bytes.size() == format::root_block_size_bytes);
  EncodedRootBlock encoded;
  std::copy(bytes.begin(), bytes.end(), encoded.begin());
  return encoded;
}

void append_root_block(Bytes& target, const RootBlock& root) {
  const EncodedRootBlock encoded = encode_root_block(root);
  target.insert(target.end(), encoded.begin(), encoded.end());
}

std::optional<uint16_t> root_block_format_version(ByteView bytes) {
  if (bytes.size() < format::root_block_size_bytes || !starts_with_root_block_magic(bytes) ||
      checksum64(bytes.first(field::checksum)) !=
          load_le<uint64_t>(bytes.data() + field::checksum)) {
    return std::nullopt;
  }
  return load_le<uint16_t>(bytes.data() + field::version);
}

bool starts_with_root_block_magic(ByteView bytes) {
  return bytes.size() >= 8 && load_le<uint64_t>(bytes.data()) == format::root_block_magic;
}

Result<RootBlock> decode_root_block(ByteView bytes) {
  if (bytes.size() < format::root_block_size_bytes) {
    return Error(ErrorCode::corruption, concat("root block needs ", format::root_block_size_bytes,
                                               " bytes, got ", bytes.size()));
  }
  ByteReader reader(bytes.first(format::root_block_size_bytes));
  const uint64_t magic = reader.u64();
  const uint16_t version = reader.u16();
  const uint16_t size = reader.u16();
  if (magic != format::root_block_magic) {
    return Error(ErrorCode::corruption, "no root block here (bad magic)");
  }
  const uint64_t stored = load_le<uint64_t>(bytes.data() + field::checksum);
  if (checksum64(bytes.first(field::checksum)) != stored) {
    return Error(ErrorCode::checksum_mismatch, "root block fails its checksum");
  }
  if (version != format::version || size != format::root_block_size_bytes) {
    return Error(ErrorCode::corruption, concat("root block of version ", version, " and size ",
                                               size, " is not of this format"));
  }
  reader.skip(4);
  RootBlock root;
  root.commit_counter = CommitCounter(reader.u64());
  root.commit_time_ns = static_cast<int64_t>(reader.u64());
  root.term = Term(reader.u64());
  root.write_set_begin_offset = reader.u64();
  root.end_offset = reader.u64();
  root.write_set_block_count = reader.u64();
  root.write_set_hash = reader.u64();
  root.tree_root = read_tree_address(reader);
  root.commit_index_root = read_tree_address(reader);
  root.key_count = reader.u64();
  QUIRE_ASSERT(reader.ok());
  QUIRE_TRY(check_fields(root));
  return root;
}

}  // namespace quire::store
