#include "store/restore.h"

#include "io/base/text.h"
#include "store/file_names.h"
#include "store/halog_reader.h"
#include "store/snapshot.h"

namespace quire::store {
namespace {

std::string source_halog_path(const RestoreSource& source, CommitCounter counter) {
  return join_path(join_path(source.directory, format::halog_directory_name),
                   counter_file_name(counter, format::halog_file_suffix));
}

Result<HALogReader> read_source_halog(const RestoreSource& source, CommitCounter counter) {
  auto halog = HALogReader::read(*source.disk, source_halog_path(source, counter));
  if (!halog.ok() && halog.code() == ErrorCode::not_found) {
    return Error(ErrorCode::not_found,
                 concat("gap: HALog ", counter, " is missing from ", source.directory));
  }
  return halog;
}

// The newest snapshot at or before `target_counter`.
Result<CommitCounter> choose_snapshot(const RestoreSource& source, CommitCounter target_counter) {
  const std::string directory = join_path(source.directory, format::snapshot_directory_name);
  QUIRE_TRY_ASSIGN(const std::vector<CommitCounter> counters,
                   list_snapshots(*source.disk, directory));
  std::optional<CommitCounter> chosen;
  for (const CommitCounter counter : counters) {
    if (counter <= target_counter) chosen = counter;
  }
  if (!chosen.has_value()) {
    return Error(ErrorCode::not_found, concat("no snapshot at or before commit point ",
                                              target_counter, " in ", directory));
  }
  return *chosen;
}

// Checks the chain snapshot -> HALogs without writing anything.
Status check_chain(const RestoreSource& source, const RootBlock& snapshot_root,
                   CommitCounter target_counter) {
  RootBlock previous = snapshot_root;
  for (CommitCounter counter = snapshot_root.commit_counter.next(); counter <= target_counter;
       counter = counter.next()) {
    QUIRE_TRY_ASSIGN(const HALogReader halog, read_source_halog(source, counter));
    if (halog.commit_counter() != counter || !(halog.opening_root() == previous)) {
      return Error(ErrorCode::corruption,
                   concat("HALog ", counter, " does not follow commit point ",
                          previous.commit_counter, " of the chain"));
    }
    previous = halog.closing_root();
  }
  return ok_status();
}

}  // namespace

Result<RootBlock> restore(const RestoreSource& source, CommitCounter target_counter,
                          io::Disk& target_disk, const JournalOptions& target_options) {
  QUIRE_ASSERT(source.disk != nullptr);
  if (source.disk == &target_disk && source.directory == target_options.directory) {
    return Error(ErrorCode::invalid_argument, "restore into the directory it reads from");
  }
  QUIRE_TRY_ASSIGN(const CommitCounter snapshot_counter, choose_snapshot(source, target_counter));
  const std::string path =
      snapshot_path(join_path(source.directory, format::snapshot_directory_name), snapshot_counter);
  QUIRE_TRY_ASSIGN(std::unique_ptr<SnapshotReader> snapshot,
                   SnapshotReader::open(*source.disk, path));
  QUIRE_TRY(snapshot->verify());
  QUIRE_TRY(check_chain(source, snapshot->root(), target_counter));
  QUIRE_TRY_ASSIGN(
      const bool journal_exists,
      target_disk.exists(join_path(target_options.directory, format::journal_file_name)));
  if (journal_exists) {
    return Error(ErrorCode::already_exists,
                 concat("a journal exists in '", target_options.directory, "'"));
  }

  QUIRE_TRY_ASSIGN(const std::unique_ptr<Journal> journal,
                   Journal::open(target_disk, target_options));
  if (snapshot->root().commit_counter.value() > 0) {
    QUIRE_TRY(journal->begin_install(snapshot->root()));
    Status copied = snapshot->read_data([&journal](uint64_t offset, ByteView bytes) {
      return journal->install_chunk(offset, bytes);
    });
    if (!copied.ok()) {
      journal->abort_install();
      return std::move(copied).error();
    }
    QUIRE_TRY(journal->finish_install());
  }
  for (CommitCounter counter = snapshot_counter.next(); counter <= target_counter;
       counter = counter.next()) {
    // Read again: the check above kept nothing in memory. A file that changed since is caught
    // by the same checks in parse() and replay().
    QUIRE_TRY_ASSIGN(const HALogReader halog, read_source_halog(source, counter));
    QUIRE_TRY(journal->replay(halog));
  }
  QUIRE_ASSERT(journal->commit_counter() == target_counter);
  return journal->root();
}

}  // namespace quire::store
