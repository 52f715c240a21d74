#include "store/halog_reader.h"

#include "io/base/checksum.h"
#include "io/base/text.h"
#include "store/write_cache_block.h"

namespace quire::store {
namespace {

namespace field = format::halog_field;

// Walks the file entry by entry; the first failure stops it.
class HALogScanner {
 public:
  explicit HALogScanner(ByteView bytes) : bytes_(bytes) {}

  HALogScan run() {
    scan_.state = ends_in_closing_root() ? HALogState::corrupt : HALogState::torn;
    if (!read_header() || !read_opening_root()) return finish();
    while (position_ < bytes_.size()) {
      const ByteView rest = bytes_.subspan(position_);
      if (starts_with_root_block_magic(rest)) {
        read_closing_root(rest);
        return finish();
      }
      if (!read_block(rest)) return finish();
    }
    fail("the file ends before its closing root block");
    return finish();
  }

 private:
  bool ends_in_closing_root() const {
    if (bytes_.size() < format::halog_header_size_bytes + 2 * format::root_block_size_bytes) {
      return false;
    }
    // A root block at the very end is not enough: the last record of a block can be an encoded
    // root block (the commit-record index stores them). A closing root also describes exactly
    // the bytes between the opening root and itself.
    const auto root = decode_root_block(bytes_.last(format::root_block_size_bytes));
    const uint64_t block_bytes =
        bytes_.size() - format::halog_header_size_bytes - 2 * format::root_block_size_bytes;
    return root.ok() && root->end_offset - root->write_set_begin_offset == block_bytes &&
           block_bytes > 0;
  }

  bool read_header() {
    if (bytes_.size() < format::halog_header_size_bytes) {
      return fail(concat("the header needs ", format::halog_header_size_bytes,
                         " bytes, the file has ", bytes_.size()));
    }
    const uint8_t* header = bytes_.data();
    if (load_le<uint64_t>(header + field::magic) != format::halog_magic ||
        load_le<uint64_t>(header + field::checksum) != checksum64(bytes_.first(field::checksum))) {
      return fail("the header has a bad magic or fails its checksum");
    }
    if (load_le<uint16_t>(header + field::version) != format::version ||
        load_le<uint16_t>(header + field::header_size) != format::halog_header_size_bytes) {
      return misfit("the header is of another format version");
    }
    scan_.commit_counter = CommitCounter(load_le<uint64_t>(header + field::commit_counter));
    if (scan_.commit_counter.value() == 0) return misfit("the header names commit point 0");
    position_ = format::halog_header_size_bytes;
    return true;
  }

  bool read_opening_root() {
    auto root = decode_root_block(bytes_.subspan(position_));
    if (!root.ok()) return fail(concat("opening root block: ", root.error().message()));
    if (root->commit_counter.next() != scan_.commit_counter) {
      return misfit(concat("the opening root block is of commit point ", root->commit_counter,
                           ", the header of ", scan_.commit_counter));
    }
    scan_.opening_root = *root;
    next_offset_ = root->end_offset;
    position_ += format::root_block_size_bytes;
    scan_.valid_length = position_;
    return true;
  }

  bool read_block(ByteView rest) {
    auto header = peek_write_cache_block_header(rest);
    if (!header.ok())
      return fail(concat("at file offset ", position_, ": ", header.error().message()));
    if (rest.size() < header->length) {
      return fail(concat("the block at file offset ", position_, " needs ", header->length,
                         " bytes, the file has ", rest.size()));
    }
    const ByteView block = rest.first(header->length);
    auto verified = verify_write_cache_block(block);
    if (!verified.ok())
      return fail(concat("at file offset ", position_, ": ", verified.error().message()));
    if (saw_last_block_ || header->commit_counter != scan_.commit_counter ||
        header->sequence != scan_.blocks.size() || header->file_offset != next_offset_ ||
        (!scan_.blocks.empty() && header->term != first_term_)) {
      return misfit(concat("the block at file offset ", position_,
                           " does not continue the write set (counter ", header->commit_counter,
                           ", sequence ", header->sequence, ", offset ", header->file_offset, ")"));
    }
    if (scan_.blocks.empty()) first_term_ = header->term;
    saw_last_block_ = header->last_in_write_set();
    hash_.update(block);
    scan_.blocks.emplace_back(position_, block.size());
    scan_.block_bytes += block.size();
    next_offset_ += block.size();
    position_ += block.size();
    scan_.valid_length = position_;
    return true;
  }

  void read_closing_root(ByteView rest) {
    auto root = decode_root_block(rest);
    if (!root.ok()) {
      fail(concat("closing root block: ", root.error().message()));
      return;
    }
    const RootBlock& closing = *root;
    const RootBlock& opening = *scan_.opening_root;
    if (rest.size() != format::root_block_size_bytes) {
      misfit("bytes follow the closing root block");
      return;
    }
    if (closing.commit_counter != scan_.commit_counter ||
        closing.write_set_begin_offset != opening.end_offset ||
        closing.end_offset != next_offset_ ||
        closing.write_set_block_count != scan_.blocks.size() || !saw_last_block_ ||
        closing.write_set_hash != hash_.digest()) {
      misfit("the closing root block does not match the blocks before it");
      return;
    }
    scan_.closing_root = closing;
    position_ += format::root_block_size_bytes;
    scan_.valid_length = position_;
    scan_.state = HALogState::complete;
  }

  // A failure of bytes: torn or corrupt as decided by the closing root block.
  bool fail(std::string problem) {
    scan_.problem = std::move(problem);
    return false;
  }
  // Bytes that pass their checksums but do not fit: corrupt whatever the tail says.
  bool misfit(std::string problem) {
    scan_.state = HALogState::corrupt;
    scan_.problem = std::move(problem);
    scan_.closing_root.reset();
    return false;
  }

  HALogScan finish() {
    scan_.write_set_hash = hash_.digest();
    scan_.last_block_seen = saw_last_block_;
    if (scan_.state != HALogState::complete) scan_.closing_root.reset();
    QUIRE_ASSERT((scan_.state == HALogState::complete) == scan_.problem.empty());
    return std::move(scan_);
  }

  ByteView bytes_;
  HALogScan scan_;
  size_t position_ = 0;
  uint64_t next_offset_ = 0;
  Term first_term_;
  bool saw_last_block_ = false;
  Checksummer hash_;
};

}  // namespace

const char* halog_state_name(HALogState state) {
  switch (state) {
    case HALogState::complete:
      return "complete";
    case HALogState::torn:
      return "torn";
    case HALogState::corrupt:
      return "corrupt";
  }
  QUIRE_UNREACHABLE();
}

HALogScan HALogReader::scan(ByteView file_bytes) {
  return HALogScanner(file_bytes).run();
}

Result<HALogReader> HALogReader::parse(Bytes file_bytes) {
  HALogScan scan = HALogScanner(file_bytes).run();
  switch (scan.state) {
    case HALogState::complete:
      break;
    case HALogState::torn:
      return Error(ErrorCode::corruption,
                   concat("torn HALog of commit point ", scan.commit_counter, " (valid prefix ",
                          scan.valid_length, " of ", file_bytes.size(), " bytes): ", scan.problem));
    case HALogState::corrupt:
      return Error(ErrorCode::checksum_mismatch, concat("corrupt HALog of commit point ",
                                                        scan.commit_counter, ": ", scan.problem));
  }
  HALogReader reader;
  reader.bytes_ = std::move(file_bytes);
  reader.opening_root_ = *scan.opening_root;
  reader.closing_root_ = *scan.closing_root;
  reader.blocks_ = std::move(scan.blocks);
  return reader;
}

Result<HALogReader> HALogReader::read(io::Disk& disk, std::string_view path) {
  QUIRE_TRY_ASSIGN(Bytes bytes, read_whole_file(disk, path));
  auto reader = parse(std::move(bytes));
  if (!reader.ok()) {
    return Error(reader.code(), concat(path, ": ", reader.error().message()));
  }
  return reader;
}

ByteView HALogReader::block(size_t index) const {
  QUIRE_ASSERT(index < blocks_.size());
  const auto [offset, length] = blocks_[index];
  return ByteView(bytes_).subspan(offset, length);
}

Result<Bytes> read_whole_file(io::Disk& disk, std::string_view path) {
  QUIRE_TRY_ASSIGN(const std::unique_ptr<io::File> file, disk.open(path, io::OpenMode::read_only));
  QUIRE_TRY_ASSIGN(const uint64_t size, file->size());
  Bytes bytes(size);
  QUIRE_TRY(file->read_exact(0, bytes));
  return bytes;
}

}  // namespace quire::store
