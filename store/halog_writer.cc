#include "store/halog_writer.h"

#include "io/base/checksum.h"

namespace quire::store {

Bytes encode_halog_header(CommitCounter commit_counter) {
  Bytes header;
  header.reserve(format::halog_header_size_bytes);
  ByteWriter writer(header);
  writer.u64(format::halog_magic);
  writer.u16(format::version);
  writer.u16(static_cast<uint16_t>(format::halog_header_size_bytes));
  writer.u32(0);
  writer.u64(commit_counter.value());
  writer.zeros(format::halog_field::checksum - format::halog_field::reserved_tail);
  QUIRE_ASSERT(header.size() == format::halog_field::checksum);
  writer.u64(checksum64(header));
  QUIRE_ASSERT(header.size() == format::halog_header_size_bytes);
  return header;
}

Bytes encode_halog(const RootBlock& opening, ByteView blocks, const RootBlock* closing) {
  Bytes bytes = encode_halog_header(opening.commit_counter.next());
  bytes.reserve(bytes.size() + 2 * format::root_block_size_bytes + blocks.size());
  append_root_block(bytes, opening);
  bytes.insert(bytes.end(), blocks.begin(), blocks.end());
  if (closing != nullptr) {
    QUIRE_ASSERT(closing->commit_counter == opening.commit_counter.next());
    append_root_block(bytes, *closing);
  }
  return bytes;
}

Result<std::unique_ptr<HALogWriter>> HALogWriter::create(io::Disk& disk, std::string path,
                                                         const RootBlock& opening) {
  QUIRE_TRY_ASSIGN(std::unique_ptr<io::File> file,
                   disk.open(path, io::OpenMode::create_or_open_volatile));
  // A file left by an attempt that was rolled back holds nothing of value: start over.
  QUIRE_TRY(file->truncate(0));
  const CommitCounter counter = opening.commit_counter.next();
  std::unique_ptr<HALogWriter> writer(new HALogWriter(std::move(file), std::move(path), counter));
  Bytes head = encode_halog_header(counter);
  append_root_block(head, opening);
  QUIRE_TRY(writer->append(head));
  return writer;
}

Status HALogWriter::append(ByteView bytes) {
  QUIRE_TRY(file_->write(size_bytes_, bytes));
  size_bytes_ += bytes.size();
  return ok_status();
}

Status HALogWriter::append_block(ByteView block) {
  QUIRE_ASSERT(!closed_);
  return append(block);
}

Status HALogWriter::close(const RootBlock& closing) {
  QUIRE_ASSERT(!closed_);
  QUIRE_ASSERT(closing.commit_counter == commit_counter_);
  const EncodedRootBlock encoded = encode_root_block(closing);
  QUIRE_TRY(append(encoded));
  closed_ = true;
  return ok_status();
}

}  // namespace quire::store
