// RealDisk: io::Disk on a directory of the local file system. Data transfers and syncs go
// through a DiskBackend (io_uring, or pread/pwrite/fdatasync where io_uring is unavailable);
// metadata calls (open, rename, unlink, list, exists, mkdir, truncate, size) are plain syscalls
// on the loop thread, and the directory fsync that makes them durable goes through the backend.
//
// Durability as implemented (the contract is in io/disk.h):
// - File::sync() is fdatasync(2).
// - open() that creates a file, rename(), unlink() and make_directory() fsync(2) the parent
//   directory (both parents for a rename across directories) before they return; a creation by
//   OpenMode::create_or_open_volatile does not (the next directory fsync covers its name).
// - truncate() is ftruncate(2) and, like a write, durable only after the next sync().
// See docs/io.md, "Real runtime".
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/disk.h"
#include "io/real/disk_backend.h"
#include "io/real/event_loop.h"
#include "io/real/unique_fd.h"

namespace quire::io::real {

class RealDisk final : public Disk {
 public:
  // Opens `root`, an existing directory, and sets up the `preferred` backend; io_uring falls
  // back to posix when the kernel refuses it (see fallback_reason()).
  // Errors: not_found (no such directory), io_error.
  static Result<std::unique_ptr<RealDisk>> create(Runtime& runtime, EventLoop& loop,
                                                  const std::string& root,
                                                  DiskBackendKind preferred,
                                                  uint32_t io_uring_entries);
  ~RealDisk() override;

  // Paths must be relative, '/'-separated, without empty, "." or ".." parts: anything else
  // fails with invalid_argument.
  Result<std::unique_ptr<File>> open(std::string_view path, OpenMode mode) override;
  Status rename(std::string_view source, std::string_view target) override;
  // Removes a file, or an empty directory.
  Status unlink(std::string_view path) override;
  Result<std::vector<std::string>> list(std::string_view directory) override;
  Result<bool> exists(std::string_view path) override;
  Status make_directory(std::string_view directory) override;

  // "io_uring" or "posix": the backend actually in use.
  const char* backend_name() const { return disk_backend_kind_name(backend_->kind()); }
  DiskBackendKind backend_kind() const { return backend_->kind(); }
  // Why io_uring was requested but is not in use ("io_uring_queue_init: Operation not
  // permitted"); empty otherwise.
  const std::string& fallback_reason() const { return fallback_reason_; }
  const std::string& root() const { return root_; }

 private:
  RealDisk(std::string root, UniqueFd root_fd, std::unique_ptr<DiskBackend> backend,
           std::string fallback_reason);
  Result<UniqueFd> open_fd(std::string_view path, int flags);
  // fsync(2) of the directory that holds `path`.
  Status sync_parent(std::string_view path);

  std::string root_;
  UniqueFd root_fd_;
  std::unique_ptr<DiskBackend> backend_;
  std::string fallback_reason_;
};

}  // namespace quire::io::real
