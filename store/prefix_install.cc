#include "store/prefix_install.h"

#include "io/base/text.h"
#include "store/journal_file.h"
#include "store/write_cache_block.h"

namespace quire::store {

PrefixInstall::PrefixInstall(std::unique_ptr<io::File> file, std::string path,
                             const RootBlock& root)
    : file_(std::move(file)),
      path_(std::move(path)),
      root_(root),
      next_offset_(format::data_region_begin_offset),
      buffer_offset_(format::data_region_begin_offset) {}

Result<std::unique_ptr<PrefixInstall>> PrefixInstall::begin(io::Disk& disk, std::string path,
                                                            const RootBlock& root) {
  QUIRE_TRY_ASSIGN(std::unique_ptr<io::File> file, disk.open(path, io::OpenMode::create_or_open));
  QUIRE_TRY(file->truncate(0));
  QUIRE_TRY(file->write(0, Bytes(format::data_region_begin_offset, 0)));
  return std::unique_ptr<PrefixInstall>(new PrefixInstall(std::move(file), std::move(path), root));
}

Status PrefixInstall::append(uint64_t offset, ByteView bytes) {
  if (offset != next_offset_ || bytes.size() > root_.end_offset - next_offset_) {
    return Error(ErrorCode::invalid_argument,
                 concat("install chunk [", offset, ", ", offset + bytes.size(),
                        ") does not continue at ", next_offset_, " within ", root_.end_offset));
  }
  QUIRE_TRY(file_->write(offset, bytes));
  next_offset_ += bytes.size();
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  return verify_buffered_blocks();
}

Status PrefixInstall::verify_buffered_blocks() {
  size_t position = 0;
  while (buffer_.size() - position >= format::write_cache_block_header_size_bytes) {
    const ByteView rest = ByteView(buffer_).subspan(position);
    auto header = peek_write_cache_block_header(rest);
    if (!header.ok()) {
      return Error(header.code(), concat("install at ", buffer_offset_ + position, ": ",
                                         header.error().message()));
    }
    if (rest.size() < header->length) break;
    QUIRE_TRY(verify_write_cache_block(rest.first(header->length)));
    if (header->file_offset != buffer_offset_ + position ||
        header->commit_counter > root_.commit_counter ||
        header->file_offset + header->length > root_.end_offset) {
      return Error(ErrorCode::corruption,
                   concat("install: the block at ", buffer_offset_ + position,
                          " claims offset ", header->file_offset, " and commit counter ",
                          header->commit_counter));
    }
    position += header->length;
  }
  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(position));
  buffer_offset_ += position;
  return ok_status();
}

Status PrefixInstall::finish() {
  if (next_offset_ != root_.end_offset || !buffer_.empty()) {
    return Error(ErrorCode::unavailable,
                 concat("install incomplete: ", next_offset_, " of ", root_.end_offset,
                        " bytes, ", buffer_.size(), " of them in an unfinished block"));
  }
  const EncodedRootBlock encoded = encode_root_block(root_);
  QUIRE_TRY(file_->write(JournalFile::slot_offset(root_.commit_counter), encoded));
  return file_->sync();
}

}  // namespace quire::store
