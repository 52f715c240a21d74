#include "store/prefix_install.h"

#include "io/base/text.h"
#include "store/journal_file.h"

namespace quire::store {

PrefixInstall::PrefixInstall(std::unique_ptr<io::File> file, std::string path,
                             const RootBlock& root)
    : file_(std::move(file)),
      path_(std::move(path)),
      root_(root),
      verifier_(format::data_region_begin_offset, root.end_offset, root.commit_counter) {}

Result<std::unique_ptr<PrefixInstall>> PrefixInstall::begin(io::Disk& disk, std::string path,
                                                            const RootBlock& root) {
  QUIRE_TRY_ASSIGN(std::unique_ptr<io::File> file, disk.open(path, io::OpenMode::create_or_open));
  QUIRE_TRY(file->truncate(0));
  QUIRE_TRY(file->write(0, Bytes(format::data_region_begin_offset, 0)));
  return std::unique_ptr<PrefixInstall>(new PrefixInstall(std::move(file), std::move(path), root));
}

Status PrefixInstall::append(uint64_t offset, ByteView bytes) {
  if (offset != verifier_.next_offset()) {
    return Error(
        ErrorCode::invalid_argument,
        concat("install chunk at ", offset, " does not continue at ", verifier_.next_offset()));
  }
  QUIRE_TRY(verifier_.feed(bytes));
  return file_->write(offset, bytes);
}

Status PrefixInstall::finish() {
  QUIRE_TRY(verifier_.finish());
  QUIRE_TRY(JournalFile::write_root_into(*file_, root_));
  QUIRE_TRY(file_->sync());
  // The rename that follows replaces this member's journal for good, and the other slot holds
  // zeros: a root block that a misdirected write put elsewhere would leave a journal with no
  // usable root in its place. Read the slot back first, as a commit does (journal_write.cc).
  return JournalFile::verify_root_in(*file_, root_);
}

}  // namespace quire::store
