#include "store/write_cache_block.h"

#include "io/base/checksum.h"
#include "io/base/text.h"

namespace quire::store {
namespace {

namespace field = format::block_field;

uint64_t block_checksum(ByteView block) {
  Checksummer checksummer;
  checksummer.update(block.first(field::checksum));
  checksummer.update(block.subspan(format::write_cache_block_header_size_bytes));
  return checksummer.digest();
}

// Walks the record headers of the payload; true when they tile it exactly.
bool records_tile(ByteView block, uint32_t record_count) {
  size_t position = format::write_cache_block_header_size_bytes;
  for (uint32_t index = 0; index < record_count; index++) {
    if (block.size() - position < format::record_header_size_bytes) return false;
    const uint32_t length =
        load_le<uint32_t>(block.data() + position + format::record_field::length);
    if (length < format::record_header_size_bytes || length > block.size() - position) {
      return false;
    }
    position += length;
  }
  return position == block.size();
}

}  // namespace

void seal_write_cache_block(Bytes& block, const WriteCacheBlockHeader& header) {
  QUIRE_ASSERT(block.size() == header.length);
  QUIRE_ASSERT(block.size() >= format::write_cache_block_header_size_bytes);
  QUIRE_ASSERT((header.flags & ~format::block_flags_known) == 0);
  uint8_t* target = block.data();
  store_le<uint64_t>(target + field::magic, format::write_cache_block_magic);
  store_le<uint16_t>(target + field::version, format::version);
  store_le<uint16_t>(target + field::header_size,
                     static_cast<uint16_t>(format::write_cache_block_header_size_bytes));
  store_le<uint32_t>(target + field::record_count, header.record_count);
  store_le<uint64_t>(target + field::term, header.term.value());
  store_le<uint64_t>(target + field::commit_counter, header.commit_counter.value());
  store_le<uint32_t>(target + field::sequence, header.sequence);
  store_le<uint32_t>(target + field::flags, header.flags);
  store_le<uint64_t>(target + field::file_offset, header.file_offset);
  store_le<uint32_t>(target + field::length, header.length);
  store_le<uint32_t>(target + field::reserved, 0);
  store_le<uint64_t>(target + field::checksum, block_checksum(block));
  QUIRE_ASSERT(records_tile(block, header.record_count));
}

Result<WriteCacheBlockHeader> peek_write_cache_block_header(ByteView bytes) {
  if (bytes.size() < format::write_cache_block_header_size_bytes) {
    return Error(ErrorCode::corruption,
                 concat("block header needs ", format::write_cache_block_header_size_bytes,
                        " bytes, got ", bytes.size()));
  }
  const uint8_t* source = bytes.data();
  if (load_le<uint64_t>(source + field::magic) != format::write_cache_block_magic) {
    return Error(ErrorCode::corruption, "no write-cache block here (bad magic)");
  }
  WriteCacheBlockHeader header;
  const uint16_t version = load_le<uint16_t>(source + field::version);
  const uint16_t header_size = load_le<uint16_t>(source + field::header_size);
  header.record_count = load_le<uint32_t>(source + field::record_count);
  header.term = Term(load_le<uint64_t>(source + field::term));
  header.commit_counter = CommitCounter(load_le<uint64_t>(source + field::commit_counter));
  header.sequence = load_le<uint32_t>(source + field::sequence);
  header.flags = load_le<uint32_t>(source + field::flags);
  header.file_offset = load_le<uint64_t>(source + field::file_offset);
  header.length = load_le<uint32_t>(source + field::length);
  if (version != format::version || header_size != format::write_cache_block_header_size_bytes ||
      (header.flags & ~format::block_flags_known) != 0 ||
      header.length < format::write_cache_block_header_size_bytes ||
      header.length > format::write_cache_block_size_bytes_max ||
      header.file_offset < format::data_region_begin_offset) {
    return Error(ErrorCode::corruption,
                 concat("write-cache block header at claimed offset ", header.file_offset,
                        " has impossible fields (version ", version, ", length ", header.length,
                        ", flags ", header.flags, ")"));
  }
  return header;
}

Result<WriteCacheBlockHeader> verify_write_cache_block(ByteView block) {
  auto peeked = peek_write_cache_block_header(block);
  if (!peeked.ok()) {
    // Rot can break the magic or a length as well as the payload: a block whose header does not
    // parse is reported as a checksum failure too when its size at least fits a header.
    if (block.size() >= format::write_cache_block_header_size_bytes) {
      const uint64_t claimed_offset = load_le<uint64_t>(block.data() + field::file_offset);
      return checksum_error(Address{claimed_offset, static_cast<uint32_t>(block.size())},
                            concat("write-cache block (", peeked.error().message(), ")"));
    }
    return std::move(peeked).error();
  }
  const WriteCacheBlockHeader header = *peeked;
  if (header.length != block.size() ||
      load_le<uint64_t>(block.data() + field::checksum) != block_checksum(block)) {
    return checksum_error(Address{header.file_offset, static_cast<uint32_t>(block.size())},
                          "write-cache block");
  }
  if (!records_tile(block, header.record_count)) {
    return Error(ErrorCode::corruption,
                 concat("write-cache block at ", address_text(header.address()),
                        " checks but its records do not tile it"));
  }
  return header;
}

std::vector<Address> write_cache_block_records(ByteView verified_block) {
  const auto header = peek_write_cache_block_header(verified_block);
  QUIRE_ASSERT(header.ok());
  std::vector<Address> addresses;
  addresses.reserve(header->record_count);
  size_t position = format::write_cache_block_header_size_bytes;
  for (uint32_t index = 0; index < header->record_count; index++) {
    const uint32_t length =
        load_le<uint32_t>(verified_block.data() + position + format::record_field::length);
    addresses.push_back(Address{header->file_offset + position, length});
    position += length;
  }
  QUIRE_ASSERT(position == verified_block.size());
  return addresses;
}

}  // namespace quire::store
