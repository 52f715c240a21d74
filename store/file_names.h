// Names of the store's files inside a journal directory (docs/format.md, "Files"):
//   journal, journal.install, halog/<counter>.halog, snapshots/<counter>.snap(.tmp), quorum_state.
// Counters are zero-padded to 20 digits so that bytewise order (Disk::list) is counter order.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "io/base/ids.h"

namespace quire::store {

// "a/b" from "a" and "b"; just "b" when the directory is empty (the data directory itself).
std::string join_path(std::string_view directory, std::string_view name);
// "00000000000000000042" + suffix.
std::string counter_file_name(CommitCounter counter, std::string_view suffix);
// The counter of a name of that form; nullopt for any other name.
std::optional<CommitCounter> parse_counter_file_name(std::string_view name,
                                                     std::string_view suffix);

}  // namespace quire::store
