#include "io/real/disk_backend.h"

#include <unistd.h>

#include <cerrno>

#include "io/base/assert.h"

namespace quire::io::real {
namespace {

class PosixBackend final : public DiskBackend {
 public:
  DiskBackendKind kind() const override { return DiskBackendKind::posix; }

  int64_t read(int fd, MutableByteView target, uint64_t offset) override {
    const ssize_t count = ::pread(fd, target.data(), target.size(), static_cast<off_t>(offset));
    return count < 0 ? -errno : count;
  }

  int64_t write(int fd, ByteView source, uint64_t offset) override {
    const ssize_t count = ::pwrite(fd, source.data(), source.size(), static_cast<off_t>(offset));
    return count < 0 ? -errno : count;
  }

  int sync(int fd, bool data_only) override {
    const int status = data_only ? ::fdatasync(fd) : ::fsync(fd);
    return status < 0 ? -errno : 0;
  }
};

}  // namespace

const char* disk_backend_kind_name(DiskBackendKind kind) {
  switch (kind) {
    case DiskBackendKind::io_uring:
      return "io_uring";
    case DiskBackendKind::uring_sync:
      return "uring_sync";
    case DiskBackendKind::posix:
      return "posix";
  }
  QUIRE_UNREACHABLE();
}

std::optional<DiskBackendKind> parse_disk_backend_kind(std::string_view text) {
  if (text == "uring" || text == "io_uring") return DiskBackendKind::io_uring;
  if (text == "uring-sync" || text == "uring_sync") return DiskBackendKind::uring_sync;
  if (text == "posix") return DiskBackendKind::posix;
  return std::nullopt;
}

std::unique_ptr<DiskBackend> make_posix_backend() {
  return std::make_unique<PosixBackend>();
}

}  // namespace quire::io::real
