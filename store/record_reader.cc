#include "store/record_reader.h"

#include <algorithm>

#include "io/base/text.h"
#include "store/record.h"

namespace quire::store {

RecordReader::RecordReader(std::shared_ptr<io::File> file, NodeCache& cache)
    : file_(std::move(file)), cache_(cache) {}

Result<Bytes> RecordReader::read_verified(Address address, format::RecordKind expected) {
  QUIRE_ASSERT(!address.is_null());
  QUIRE_ASSERT(address.length >= format::record_header_size_bytes);
  // Keep the file alive across the suspension even if the journal swaps it (rebuild).
  const std::shared_ptr<io::File> file = file_;
  Bytes bytes(address.length);
  QUIRE_TRY(file->read_exact(address.offset, bytes));
  QUIRE_TRY_ASSIGN(const RecordView record, verify_record(address, bytes));
  if (record.kind != expected) {
    return Error(ErrorCode::corruption,
                 concat("record at ", address_text(address), " is of kind ",
                        static_cast<int>(record.kind), ", expected ", static_cast<int>(expected)));
  }
  bytes.erase(bytes.begin(), bytes.begin() + format::record_header_size_bytes);
  return bytes;
}

Result<Bytes> RecordReader::read_record_payload(Address address, format::RecordKind expected) {
  return read_verified(address, expected);
}

Result<std::shared_ptr<const Node>> RecordReader::load_node(Address address) {
  if (std::shared_ptr<const Node> cached = cache_.find(address.offset)) return cached;
  const std::shared_ptr<io::File> file = file_;
  Bytes bytes(address.length);
  QUIRE_TRY(file->read_exact(address.offset, bytes));
  QUIRE_TRY_ASSIGN(const RecordView record, verify_record(address, bytes));
  QUIRE_TRY_ASSIGN(Node node, decode_node(address, record));
  auto shared = std::make_shared<const Node>(std::move(node));
  if (address.end() <= cacheable_end_) cache_.insert(address.offset, shared);
  return std::shared_ptr<const Node>(std::move(shared));
}

Result<Bytes> RecordReader::load_value(const LeafValue& value) {
  if (!value.out_of_line) return value.inline_bytes;
  if (value.chunk_count == 1) {
    QUIRE_TRY_ASSIGN(Bytes chunk, read_verified(value.address, format::RecordKind::value_chunk));
    if (chunk.size() != value.length) {
      return Error(ErrorCode::corruption,
                   concat("value at ", address_text(value.address), " has ", chunk.size(),
                          " bytes, its leaf says ", value.length));
    }
    return chunk;
  }
  QUIRE_TRY_ASSIGN(const Bytes index_payload,
                   read_verified(value.address, format::RecordKind::value_index));
  const RecordView index_record{format::RecordKind::value_index, index_payload};
  QUIRE_TRY_ASSIGN(const std::vector<Address> chunks,
                   decode_value_index(value.address, index_record));
  if (chunks.size() != value.chunk_count) {
    return Error(ErrorCode::corruption,
                 concat("value index at ", address_text(value.address), " lists ", chunks.size(),
                        " chunks, its leaf says ", value.chunk_count));
  }
  Bytes out;
  // The length is checked against what the chunks gather; reserve no more than they can hold.
  out.reserve(std::min<uint64_t>(
      value.length, uint64_t{chunks.size()} * format::write_cache_block_size_bytes_max));
  for (const Address& chunk_address : chunks) {
    QUIRE_TRY_ASSIGN(const Bytes chunk,
                     read_verified(chunk_address, format::RecordKind::value_chunk));
    out.insert(out.end(), chunk.begin(), chunk.end());
  }
  if (out.size() != value.length) {
    return Error(ErrorCode::corruption,
                 concat("value at ", address_text(value.address), " gathers ", out.size(),
                        " bytes, its leaf says ", value.length));
  }
  return out;
}

}  // namespace quire::store
