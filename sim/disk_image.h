// DiskImage: what a simulated node's disk holds, and the fault model of the medium. It belongs to
// the world, not to the node's process, so it outlives every crash. Each file keeps two images:
// `durable` (what a crash leaves) and `current` (what reads see), plus the writes and truncates
// since the last sync. See docs/io.md, "Simulated disk".
//
// Fault model (the same switches as the issue and DESIGN.md):
// - crash(): every unsynced write is kept, lost, or torn at sector granularity, independently,
//   and every unsynced truncate is kept or lost. A file whose name is not durable yet (created
//   by OpenMode::create_or_open_volatile, and no durable metadata change in its directory since)
//   is kept or lost whole, name and data. Afterwards current == durable.
// - rot(): one bit of a durable byte flips at rest.
// - latent sector errors: reads that touch a bad sector fail with io_error until a write covers
//   the whole sector (the drive remaps it).
// - misdirected write, failed sync (dropping the dirty data it held), full disk: see SimDisk.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "io/base/bytes.h"
#include "io/base/rng.h"
#include "sim/paged_bytes.h"

namespace quire::sim {

// How unsynced writes fare at a crash. Probabilities; they need not sum to one (normalized).
struct CrashFates {
  double keep = 1.0;
  double lose = 1.0;
  double tear = 1.0;
};

struct FileImage {
  struct Pending {
    bool is_truncate = false;
    uint64_t offset = 0;  // Truncate: the new size.
    Bytes data;
  };

  PagedBytes durable;
  PagedBytes current;
  std::vector<Pending> pending;
  std::set<uint64_t> bad_sectors;  // Sector indexes (offset / sector size).
  // A failed sync dropped changes that `current` still shows: a later sync must replay its
  // pending changes onto `durable` instead of sharing `current`'s pages. A crash clears it.
  bool diverged = false;
  // False from a volatile creation until a durable metadata change in the file's directory (the
  // real disk's directory fsync): until then a crash may lose the whole file.
  bool name_durable = true;

  void write_current(uint64_t offset, ByteView data);
  void truncate_current(uint64_t size_bytes);
  // Applies the pending list to `durable` (a successful sync).
  void persist_pending();
  bool has_pending() const { return !pending.empty(); }
  // Whether any pending write covers the byte at `offset`.
  bool pending_covers(uint64_t offset) const;
};

// Where a fault landed, for traces and tests.
struct FaultSite {
  std::string path;
  uint64_t offset = 0;
};

class DiskImage {
 public:
  explicit DiskImage(uint64_t capacity_bytes = UINT64_MAX) : capacity_bytes_(capacity_bytes) {}

  std::map<std::string, std::shared_ptr<FileImage>>& files() { return files_; }
  const std::map<std::string, std::shared_ptr<FileImage>>& files() const { return files_; }
  std::set<std::string>& directories() { return directories_; }
  const std::set<std::string>& directories() const { return directories_; }

  uint64_t capacity_bytes() const { return capacity_bytes_; }
  void set_capacity_bytes(uint64_t capacity_bytes) { capacity_bytes_ = capacity_bytes; }
  // Sum of the current sizes of all files, recounted (O(files)).
  uint64_t used_bytes() const;

  // A crash of the node that owns this disk: decides the fate of every unsynced change and of
  // every file whose name is not durable. Returns how many pending writes were lost or torn,
  // plus how many files were lost (for traces).
  uint64_t crash(Rng& rng, const CrashFates& fates);
  // The directory `directory` ("" for the data directory) was synced: every name in it is
  // durable from now on.
  void make_names_durable(std::string_view directory);
  // `path` was created without a directory sync (its FileImage says name_durable = false).
  void note_volatile_name(const std::string& path);
  // `source` was renamed to `target`: a volatile name moves with its file.
  void note_renamed(const std::string& source, const std::string& target);

  // Flips one random bit of a random durable byte (weighted by file size), where no unsynced
  // write hides it. `path_prefix` limits the choice ("" for any file). Nothing if no byte fits.
  std::optional<FaultSite> rot(Rng& rng, const std::string& path_prefix = "");
  // Flips the bit `bit_index` (0..7) of the byte at `offset` of `path`, durable and current.
  bool rot_at(const std::string& path, uint64_t offset, unsigned bit_index);
  // Marks a random sector holding durable data as unreadable.
  std::optional<FaultSite> add_latent_error(Rng& rng, const std::string& path_prefix = "");
  bool add_latent_error_at(const std::string& path, uint64_t offset);

  // Hash of every file's durable bytes and names, for tests of crash outcomes.
  uint64_t durable_fingerprint() const;

 private:
  std::map<std::string, std::shared_ptr<FileImage>> files_;
  // Paths that may name a file whose name is not durable: a superset (the file's flag is the
  // truth; an unlinked path lingers until the next sync of its directory or crash), so that a
  // directory sync looks at these few instead of every file (HALog directories hold thousands).
  std::set<std::string> volatile_names_;
  std::set<std::string> directories_;
  uint64_t capacity_bytes_;
};

}  // namespace quire::sim
