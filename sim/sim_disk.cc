#include "sim/sim_disk.h"

#include <algorithm>

#include "io/base/text.h"

namespace quire::sim {
namespace {

constexpr uint64_t sector_size = io::disk_sector_size_bytes;

std::string_view parent_of(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

class SimFile : public io::File {
 public:
  SimFile(SimDisk& disk, std::string path, std::shared_ptr<FileImage> image, bool writable)
      : disk_(disk), path_(std::move(path)), image_(std::move(image)), writable_(writable) {}

  Result<size_t> read(uint64_t offset, MutableByteView target) override {
    const DiskLatency& latency = disk_.model().latency;
    disk_.delay(latency.read_min, latency.read_max);
    const PagedBytes& current = image_->current;
    if (offset >= current.size() || target.empty()) return size_t{0};
    const size_t count =
        static_cast<size_t>(std::min<uint64_t>(target.size(), current.size() - offset));
    for (uint64_t sector = offset / sector_size; sector <= (offset + count - 1) / sector_size;
         sector++) {
      if (image_->bad_sectors.contains(sector)) {
        disk_.trace(concat("disk read error ", path_, " sector ", sector));
        return Error(ErrorCode::io_error,
                     concat("latent sector error reading ", path_, " at ", sector * sector_size));
      }
    }
    current.read(offset, target.subspan(0, count));
    return count;
  }

  Status write(uint64_t offset, ByteView source) override {
    QUIRE_ASSERT(writable_);
    const DiskLatency& latency = disk_.model().latency;
    disk_.delay(latency.write_min, latency.write_max);
    if (source.empty()) return ok_status();
    const uint64_t size_before = image_->current.size();
    const uint64_t growth =
        offset + source.size() > size_before ? offset + source.size() - size_before : 0;
    DiskImage& disk_image = disk_.image();
    // Recounting the used space is O(files): only a disk with a capacity pays for it.
    if (growth > 0 && disk_image.capacity_bytes() != UINT64_MAX &&
        disk_image.used_bytes() + growth > disk_image.capacity_bytes()) {
      disk_.trace(concat("disk full ", path_));
      return Error(ErrorCode::no_space, concat("disk full writing ", source.size(), " bytes to ",
                                               path_, " at ", offset));
    }
    uint64_t target = offset;
    if (disk_.rng().chance(disk_.model().faults.misdirected_write_probability)) {
      const uint64_t shift = disk_.rng().between(1, 8) * sector_size;
      target = (disk_.rng().one_in(2) || offset < shift) ? offset + shift : offset - shift;
      disk_.trace(concat("disk misdirected write ", path_, " aimed ", offset, " landed ", target));
    }
    image_->write_current(target, source);
    clear_bad_sectors(target, source.size());
    return ok_status();
  }

  Status sync() override {
    const DiskLatency& latency = disk_.model().latency;
    disk_.delay(latency.sync_min, latency.sync_max);
    if (should_fail_sync()) {
      // The kernel forgets the dirty pages it failed to write: reads still see them, a crash
      // may not.
      for (const FileImage::Pending& change : image_->pending) {
        if (disk_.rng().one_in(2)) apply_to_durable(change);
      }
      image_->pending.clear();
      image_->diverged = true;
      disk_.trace(concat("disk sync failed ", path_));
      return Error(ErrorCode::io_error, concat("fsync failed on ", path_));
    }
    image_->persist_pending();
    return ok_status();
  }

  Status truncate(uint64_t size_bytes) override {
    QUIRE_ASSERT(writable_);
    const DiskLatency& latency = disk_.model().latency;
    disk_.delay(latency.write_min, latency.write_max);
    image_->truncate_current(size_bytes);
    // The file system frees the blocks wholly past the new end: their latent errors go with them.
    clear_bad_sectors(size_bytes, UINT64_MAX - size_bytes);
    return ok_status();
  }

  Result<uint64_t> size() override { return static_cast<uint64_t>(image_->current.size()); }

 private:
  bool should_fail_sync() {
    DiskFaults& faults = disk_.model().faults;
    if (faults.fail_sync_countdown > 0) {
      faults.fail_sync_countdown--;
      if (faults.fail_sync_countdown == 0) return true;
    }
    return disk_.rng().chance(faults.sync_failure_probability);
  }

  void apply_to_durable(const FileImage::Pending& change) {
    PagedBytes& durable = image_->durable;
    if (change.is_truncate) {
      durable.resize(change.offset);
      return;
    }
    durable.write(change.offset, change.data);
  }

  void clear_bad_sectors(uint64_t offset, uint64_t length) {
    auto& bad = image_->bad_sectors;
    for (auto it = bad.begin(); it != bad.end();) {
      const uint64_t start = *it * sector_size;
      if (start >= offset && start - offset + sector_size <= length) {
        it = bad.erase(it);
      } else {
        ++it;
      }
    }
  }

  SimDisk& disk_;
  std::string path_;
  std::shared_ptr<FileImage> image_;
  bool writable_;
};

}  // namespace

SimDisk::SimDisk(DiskImage& image, DiskModel& model, Rng& rng, io::Runtime* runtime)
    : image_(image), model_(model), rng_(rng), runtime_(runtime) {}

void SimDisk::delay(Duration minimum, Duration maximum) {
  if (runtime_ == nullptr) return;
  QUIRE_ASSERT(minimum <= maximum);
  Duration wait = Duration::nanoseconds(static_cast<int64_t>(
      rng_.between(static_cast<uint64_t>(minimum.ns()), static_cast<uint64_t>(maximum.ns()))));
  if (rng_.chance(model_.latency.slow_probability)) {
    wait = wait + Duration::nanoseconds(static_cast<int64_t>(
                      rng_.uniform(static_cast<uint64_t>(model_.latency.slow_max.ns()) + 1)));
  }
  if (wait > Duration()) runtime_->sleep_for(wait);
}

void SimDisk::trace(std::string_view event) {
  if (runtime_ != nullptr) runtime_->trace(event);
}

Status SimDisk::check_path(std::string_view path) const {
  if (path.empty() || path.front() == '/' || path.back() == '/' ||
      path.find("//") != std::string_view::npos || path == "." || path == ".." ||
      path.starts_with("./") || path.starts_with("../") ||
      path.find("/./") != std::string_view::npos || path.find("/../") != std::string_view::npos ||
      path.ends_with("/.") || path.ends_with("/..")) {
    return Error(ErrorCode::invalid_argument, concat("bad path '", path, "'"));
  }
  return ok_status();
}

bool SimDisk::directory_exists(std::string_view directory) const {
  return directory.empty() || image_.directories().contains(std::string(directory));
}

Result<std::unique_ptr<io::File>> SimDisk::open(std::string_view path, io::OpenMode mode) {
  QUIRE_TRY(check_path(path));
  const std::string key(path);
  auto found = image_.files().find(key);
  const bool exists = found != image_.files().end();
  switch (mode) {
    case io::OpenMode::read_only:
    case io::OpenMode::read_write:
      if (!exists) return Error(ErrorCode::not_found, concat("no file '", path, "'"));
      break;
    case io::OpenMode::create_new:
      if (exists) return Error(ErrorCode::already_exists, concat("file '", path, "' exists"));
      break;
    case io::OpenMode::create_or_open:
    case io::OpenMode::create_or_open_volatile:
      break;
  }
  if (!exists) {
    if (!directory_exists(parent_of(path))) {
      return Error(ErrorCode::not_found, concat("no directory for '", path, "'"));
    }
    if (image_.directories().contains(key)) {
      return Error(ErrorCode::already_exists, concat("'", path, "' is a directory"));
    }
    found = image_.files().emplace(key, std::make_shared<FileImage>()).first;
    if (mode == io::OpenMode::create_or_open_volatile) {
      // The real disk skips the directory fsync: the name is durable only once a later
      // metadata call syncs this directory.
      found->second->name_durable = false;
      image_.note_volatile_name(key);
      trace(concat("disk create (volatile) ", path));
    } else {
      image_.make_names_durable(parent_of(path));
      trace(concat("disk create ", path));
    }
  }
  const bool writable = mode != io::OpenMode::read_only;
  return std::unique_ptr<io::File>(std::make_unique<SimFile>(*this, key, found->second, writable));
}

Status SimDisk::rename(std::string_view source, std::string_view target) {
  QUIRE_TRY(check_path(source));
  QUIRE_TRY(check_path(target));
  auto found = image_.files().find(std::string(source));
  if (found == image_.files().end()) {
    return Error(ErrorCode::not_found, concat("rename: no file '", source, "'"));
  }
  if (!directory_exists(parent_of(target))) {
    return Error(ErrorCode::not_found, concat("rename: no directory for '", target, "'"));
  }
  std::shared_ptr<FileImage> file = found->second;
  image_.files().erase(found);
  image_.files()[std::string(target)] = std::move(file);
  image_.note_renamed(std::string(source), std::string(target));
  // The real disk syncs both directories.
  image_.make_names_durable(parent_of(target));
  image_.make_names_durable(parent_of(source));
  trace(concat("disk rename ", source, " ", target));
  return ok_status();
}

Status SimDisk::unlink(std::string_view path) {
  QUIRE_TRY(check_path(path));
  if (image_.files().erase(std::string(path)) == 0) {
    return Error(ErrorCode::not_found, concat("unlink: no file '", path, "'"));
  }
  image_.make_names_durable(parent_of(path));
  trace(concat("disk unlink ", path));
  return ok_status();
}

Result<std::vector<std::string>> SimDisk::list(std::string_view directory) {
  if (!directory.empty()) QUIRE_TRY(check_path(directory));
  if (!directory_exists(directory)) {
    return Error(ErrorCode::not_found, concat("no directory '", directory, "'"));
  }
  const std::string prefix = directory.empty() ? std::string() : std::string(directory) + "/";
  std::vector<std::string> names;
  auto collect = [&](const std::string& path) {
    if (!path.starts_with(prefix)) return;
    const std::string_view rest = std::string_view(path).substr(prefix.size());
    if (!rest.empty() && rest.find('/') == std::string_view::npos) names.emplace_back(rest);
  };
  for (const auto& [path, file] : image_.files())
    collect(path);
  for (const std::string& path : image_.directories())
    collect(path);
  std::sort(names.begin(), names.end());
  return names;
}

Result<bool> SimDisk::exists(std::string_view path) {
  QUIRE_TRY(check_path(path));
  const std::string key(path);
  return image_.files().contains(key) || image_.directories().contains(key);
}

Status SimDisk::make_directory(std::string_view directory) {
  QUIRE_TRY(check_path(directory));
  if (!directory_exists(parent_of(directory))) {
    return Error(ErrorCode::not_found, concat("no parent directory for '", directory, "'"));
  }
  if (image_.files().contains(std::string(directory))) {
    return Error(ErrorCode::already_exists, concat("'", directory, "' is a file"));
  }
  if (image_.directories().insert(std::string(directory)).second) {
    image_.make_names_durable(parent_of(directory));
  }
  return ok_status();
}

}  // namespace quire::sim
