#include "sim/disk_image.h"

#include <algorithm>

#include "io/base/checksum.h"
#include "io/disk.h"

namespace quire::sim {
namespace {

constexpr uint64_t sector_size = io::disk_sector_size_bytes;

void write_into(PagedBytes& image, uint64_t offset, ByteView data) {
  image.write(offset, data);
}

enum class Fate { keep, lose, tear };

Fate draw_fate(Rng& rng, const CrashFates& fates, bool can_tear) {
  const double tear = can_tear ? fates.tear : 0.0;
  const double total = fates.keep + fates.lose + tear;
  QUIRE_ASSERT(total > 0.0);
  const double draw = rng.unit() * total;
  if (draw < fates.keep) return Fate::keep;
  if (draw < fates.keep + fates.lose) return Fate::lose;
  return Fate::tear;
}

// Keeps a random, non-empty, proper subset of the sectors a write touches.
void tear_into(PagedBytes& image, Rng& rng, const FileImage::Pending& write) {
  const uint64_t begin = write.offset;
  const uint64_t end = write.offset + write.data.size();
  std::vector<std::pair<uint64_t, uint64_t>> pieces;  // [start, end) in file offsets.
  for (uint64_t start = begin; start < end;) {
    const uint64_t stop = std::min(end, (start / sector_size + 1) * sector_size);
    pieces.emplace_back(start, stop);
    start = stop;
  }
  QUIRE_ASSERT(pieces.size() >= 2);
  std::vector<bool> kept(pieces.size());
  for (size_t index = 0; index < pieces.size(); index++)
    kept[index] = rng.one_in(2);
  // A tear is neither all nor nothing.
  kept[rng.uniform(pieces.size())] = true;
  if (std::all_of(kept.begin(), kept.end(), [](bool each) { return each; })) {
    kept[rng.uniform(pieces.size())] = false;
  }
  for (size_t index = 0; index < pieces.size(); index++) {
    if (!kept[index]) continue;
    const auto [start, stop] = pieces[index];
    write_into(image, start, ByteView(write.data).subspan(start - begin, stop - start));
  }
}

}  // namespace

void FileImage::write_current(uint64_t offset, ByteView data) {
  write_into(current, offset, data);
  pending.push_back(Pending{false, offset, Bytes(data.begin(), data.end())});
}

void FileImage::truncate_current(uint64_t size_bytes) {
  current.resize(size_bytes);
  pending.push_back(Pending{true, size_bytes, {}});
}

void FileImage::persist_pending() {
  if (!diverged) {
    // Durable equals current but where the pending changes touched it: share those pages. A
    // truncation touched everything from its offset on (the file may have grown again since).
    for (const Pending& change : pending) {
      durable.share_from(
          current, change.offset,
          change.is_truncate ? UINT64_MAX : std::max<uint64_t>(change.data.size(), 1));
    }
    QUIRE_ASSERT(durable.size() == current.size());
    pending.clear();
    return;
  }
  for (const Pending& change : pending) {
    if (change.is_truncate) {
      durable.resize(change.offset);
    } else {
      write_into(durable, change.offset, change.data);
    }
  }
  pending.clear();
  // durable == current here unless an earlier sync failed: the changes it dropped stay visible
  // to reads but are gone from the medium, as with Linux writeback errors.
}

bool FileImage::pending_covers(uint64_t offset) const {
  return std::any_of(pending.begin(), pending.end(), [offset](const Pending& change) {
    return !change.is_truncate && change.offset <= offset &&
           offset < change.offset + change.data.size();
  });
}

uint64_t DiskImage::used_bytes() const {
  uint64_t used = 0;
  for (const auto& [path, file] : files_)
    used += file->current.size();
  return used;
}

uint64_t DiskImage::crash(Rng& rng, const CrashFates& fates) {
  uint64_t damaged = 0;
  // Files are shared with open handles of the dead process; the images stay, only the pending
  // changes are resolved. Iteration is in path order: deterministic.
  std::set<FileImage*> seen;
  for (auto& [path, file] : files_) {
    if (!seen.insert(file.get()).second) continue;
    for (const FileImage::Pending& change : file->pending) {
      const bool can_tear =
          !change.is_truncate &&
          change.offset / sector_size != (change.offset + change.data.size() - 1) / sector_size;
      switch (draw_fate(rng, fates, can_tear)) {
        case Fate::keep:
          if (change.is_truncate) {
            file->durable.resize(change.offset);
          } else {
            write_into(file->durable, change.offset, change.data);
          }
          break;
        case Fate::lose:
          damaged++;
          break;
        case Fate::tear:
          damaged++;
          tear_into(file->durable, rng, change);
          break;
      }
    }
    file->pending.clear();
    file->current = file->durable;
    file->diverged = false;
  }
  // Names that never reached a synced directory: each file is kept or lost whole, like the
  // directory entry the real file system may or may not have written back.
  // In path order, as the files themselves are: the same fates for the same seed.
  for (const std::string& path : volatile_names_) {
    auto it = files_.find(path);
    if (it == files_.end() || it->second->name_durable) continue;
    if (draw_fate(rng, fates, false) == Fate::keep) {
      it->second->name_durable = true;
    } else {
      damaged++;
      files_.erase(it);
    }
  }
  volatile_names_.clear();
  return damaged;
}

void DiskImage::make_names_durable(std::string_view directory) {
  for (auto it = volatile_names_.begin(); it != volatile_names_.end();) {
    const std::string_view path = *it;
    const size_t slash = path.rfind('/');
    const std::string_view parent =
        slash == std::string::npos ? std::string_view() : path.substr(0, slash);
    if (parent != directory) {
      ++it;
      continue;
    }
    auto found = files_.find(*it);
    if (found != files_.end()) found->second->name_durable = true;
    it = volatile_names_.erase(it);
  }
}

void DiskImage::note_volatile_name(const std::string& path) {
  QUIRE_ASSERT(files_.contains(path) && !files_.at(path)->name_durable);
  volatile_names_.insert(path);
}

void DiskImage::note_renamed(const std::string& source, const std::string& target) {
  if (volatile_names_.erase(source) > 0) volatile_names_.insert(target);
}

std::optional<FaultSite> DiskImage::rot(Rng& rng, const std::string& path_prefix) {
  uint64_t total = 0;
  for (const auto& [path, file] : files_) {
    if (path.starts_with(path_prefix)) total += file->durable.size();
  }
  if (total == 0) return std::nullopt;
  uint64_t pick = rng.uniform(total);
  for (const auto& [path, file] : files_) {
    if (!path.starts_with(path_prefix)) continue;
    if (pick >= file->durable.size()) {
      pick -= file->durable.size();
      continue;
    }
    if (!rot_at(path, pick, static_cast<unsigned>(rng.uniform(8)))) return std::nullopt;
    return FaultSite{path, pick};
  }
  QUIRE_UNREACHABLE();
}

bool DiskImage::rot_at(const std::string& path, uint64_t offset, unsigned bit_index) {
  QUIRE_ASSERT(bit_index < 8);
  auto found = files_.find(path);
  if (found == files_.end()) return false;
  FileImage& file = *found->second;
  if (offset >= file.durable.size() || file.pending_covers(offset)) return false;
  file.durable.flip_bit(offset, bit_index);
  if (offset < file.current.size()) file.current.flip_bit(offset, bit_index);
  return true;
}

std::optional<FaultSite> DiskImage::add_latent_error(Rng& rng, const std::string& path_prefix) {
  uint64_t total = 0;
  for (const auto& [path, file] : files_) {
    if (path.starts_with(path_prefix)) total += file->durable.size();
  }
  if (total == 0) return std::nullopt;
  uint64_t pick = rng.uniform(total);
  for (const auto& [path, file] : files_) {
    if (!path.starts_with(path_prefix)) continue;
    if (pick >= file->durable.size()) {
      pick -= file->durable.size();
      continue;
    }
    add_latent_error_at(path, pick);
    return FaultSite{path, pick / sector_size * sector_size};
  }
  QUIRE_UNREACHABLE();
}

bool DiskImage::add_latent_error_at(const std::string& path, uint64_t offset) {
  auto found = files_.find(path);
  if (found == files_.end()) return false;
  found->second->bad_sectors.insert(offset / sector_size);
  return true;
}

uint64_t DiskImage::durable_fingerprint() const {
  Checksummer checksummer;
  for (const auto& [path, file] : files_) {
    if (!file->name_durable) continue;  // A crash may take it: not durable.
    checksummer.update(as_bytes(path));
    checksummer.update_u64(file->durable.size());
    checksummer.update(file->durable.to_bytes());
  }
  return checksummer.digest();
}

}  // namespace quire::sim
