#include "store/journal_file.h"

#include <optional>

#include "io/base/text.h"

namespace quire::store {

uint64_t JournalFile::slot_offset(CommitCounter counter) {
  return (counter.value() % format::root_slot_count) * format::root_slot_size_bytes;
}

Status JournalFile::create(io::Disk& disk, const std::string& install_path, const std::string& path,
                           const RootBlock& root) {
  QUIRE_ASSERT(root.end_offset == format::data_region_begin_offset);
  QUIRE_TRY_ASSIGN(const std::unique_ptr<io::File> file,
                   disk.open(install_path, io::OpenMode::create_or_open));
  QUIRE_TRY(file->truncate(0));
  Bytes head(format::data_region_begin_offset, 0);
  const EncodedRootBlock encoded = encode_root_block(root);
  std::copy(encoded.begin(), encoded.end(),
            head.begin() + static_cast<std::ptrdiff_t>(slot_offset(root.commit_counter)));
  QUIRE_TRY(file->write(0, head));
  QUIRE_TRY(file->sync());
  return disk.rename(install_path, path);
}

Result<std::unique_ptr<JournalFile>> JournalFile::open(io::Disk& disk, const std::string& path) {
  QUIRE_TRY_ASSIGN(std::unique_ptr<io::File> file, disk.open(path, io::OpenMode::read_write));
  return std::unique_ptr<JournalFile>(new JournalFile(std::shared_ptr<io::File>(std::move(file))));
}

Result<RootBlock> JournalFile::newest_root(std::vector<std::string>& notes) {
  QUIRE_TRY_ASSIGN(const uint64_t file_size, file_->size());
  std::optional<RootBlock> best;
  std::optional<uint16_t> foreign_version;
  bool best_misplaced = false;
  for (uint64_t slot = 0; slot < format::root_slot_count; slot++) {
    const uint64_t offset = slot * format::root_slot_size_bytes;
    Bytes bytes(format::root_block_size_bytes);
    auto read = file_->read(offset, bytes);
    if (!read.ok()) {
      notes.push_back(concat("root slot ", slot, " unreadable: ", read.error().message()));
      continue;
    }
    auto root = decode_root_block(ByteView(bytes).first(*read));
    const std::optional<uint16_t> version = root_block_format_version(ByteView(bytes).first(*read));
    if (version.has_value() && *version != format::version) foreign_version = version;
    if (!root.ok()) {
      notes.push_back(concat("root slot ", slot, " refused: ", root.error().message()));
      continue;
    }
    if (root->end_offset > file_size) {
      notes.push_back(concat("root slot ", slot, " (commit counter ", root->commit_counter,
                             ") ends at ", root->end_offset, " past the file's ", file_size,
                             " bytes"));
      continue;
    }
    if (!best.has_value() || root->commit_counter > best->commit_counter) {
      best = *root;
      best_misplaced = slot_offset(root->commit_counter) != offset;
    }
  }
  if (!best.has_value() && foreign_version.has_value()) {
    // Not damage: setting it aside and rebuilding would throw away a journal another build
    // reads. There is no release to migrate from yet, so the operator decides.
    return Error(ErrorCode::invalid_argument,
                 concat("the journal is of format version ", *foreign_version,
                        " and this build reads version ", format::version,
                        " only; there is no migration: start this member from an empty data ",
                        "directory (it rebuilds from its peers) or run the build that wrote it"));
  }
  if (!best.has_value()) {
    return Error(ErrorCode::corruption, "no root slot of the journal holds a usable root block");
  }
  if (best_misplaced) QUIRE_TRY(move_misplaced_root(*best, notes));
  return *best;
}

Status JournalFile::move_misplaced_root(const RootBlock& root, std::vector<std::string>& notes) {
  // A misdirected write put root N over root N-1 (the other slot). Its commit was decided (a
  // root is written only for a decided commit) and its write set was synced before it, so it is
  // the commit point; it goes into its own slot so that the next commit cannot overwrite it.
  notes.push_back(concat("root block ", root.commit_counter,
                         " found in the other slot (a misdirected write); moved into its own"));
  QUIRE_TRY(write_root(root));
  QUIRE_TRY(file_->sync());
  return verify_root(root);
}

Status JournalFile::write_root(const RootBlock& root) {
  return write_root_into(*file_, root);
}

Status JournalFile::verify_root(const RootBlock& root) {
  return verify_root_in(*file_, root);
}

Status JournalFile::write_prepared(const PreparedRecord& record) {
  const Bytes slot = encode_prepared_slot(record);
  for (const uint64_t index :
       {prepared_alternate_slot(record.sequence), format::prepared_mirror_slot}) {
    QUIRE_TRY(file_->write(prepared_slot_offset(index), slot));
  }
  // A vote that is not where open() looks for it is a vote forgotten at the next start.
  for (const uint64_t index :
       {prepared_alternate_slot(record.sequence), format::prepared_mirror_slot}) {
    Bytes back(slot.size());
    QUIRE_TRY(file_->read_exact(prepared_slot_offset(index), back));
    if (back != slot) {
      return Error(ErrorCode::io_error,
                   concat("prepared record ", record.sequence, " reads back different from what ",
                          "was written in slot ", index));
    }
  }
  return ok_status();
}

std::vector<PreparedRecord> JournalFile::prepared_records(std::vector<std::string>& notes) {
  std::vector<PreparedRecord> records;
  for (uint64_t slot = 0; slot < format::prepared_slot_count; slot++) {
    Bytes bytes(format::prepared_record_size_bytes);
    const Status read = file_->read_exact(prepared_slot_offset(slot), bytes);
    auto record = read.ok() ? decode_prepared_slot(bytes)
                            : Result<std::optional<PreparedRecord>>(read.error());
    if (!record.ok()) {
      notes.push_back(concat("prepared slot ", slot, " refused: ", record.error().message()));
    } else if (record->has_value() && slot != format::prepared_mirror_slot &&
               prepared_alternate_slot((*record)->sequence) != slot) {
      notes.push_back(concat("prepared slot ", slot, " holds record ", (*record)->sequence,
                             " of the other slot (a misdirected write); ignored"));
    } else if (record->has_value()) {
      records.push_back(**record);
    }
  }
  return records;
}

Status JournalFile::write_root_into(io::File& file, const RootBlock& root) {
  // The whole slot, root block then zeros: a write of part of a sector cannot mend a latent
  // sector error there (the device must read the rest first), a whole-sector write does.
  const EncodedRootBlock encoded = encode_root_block(root);
  Bytes slot(format::root_slot_size_bytes, 0);
  std::copy(encoded.begin(), encoded.end(), slot.begin());
  return file.write(slot_offset(root.commit_counter), slot);
}

Status JournalFile::verify_root_in(io::File& file, const RootBlock& root) {
  const EncodedRootBlock encoded = encode_root_block(root);
  Bytes bytes(encoded.size());
  QUIRE_TRY(file.read_exact(slot_offset(root.commit_counter), bytes));
  if (!std::equal(bytes.begin(), bytes.end(), encoded.begin())) {
    return Error(ErrorCode::checksum_mismatch,
                 concat("root block ", root.commit_counter, " reads back different from what ",
                        "was written at ", slot_offset(root.commit_counter)));
  }
  return ok_status();
}

}  // namespace quire::store
