// DiskBackend: how RealFile moves bytes and forces them to stable storage. Two implementations:
// io_uring (uring_backend.h: the calling fiber parks until its completion arrives) and posix
// (plain pread/pwrite/fdatasync that block the loop thread for the call; acceptable because the
// loop has nothing better to do while the only disk it serves is busy, and it keeps the node
// working where io_uring is forbidden). See docs/io.md, "Real runtime".
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "io/base/bytes.h"

namespace quire::io::real {

// io_uring: every read, write and sync through the ring. uring_sync: reads and writes as plain
// pread/pwrite on the loop thread (a page-cache copy of microseconds, where a ring round trip
// costs a loop wake-up), syncs through the ring so the loop serves the network while the device
// flushes. posix: everything blocking. docs/io.md, "Real runtime", has the measurements.
enum class DiskBackendKind : uint8_t { io_uring, uring_sync, posix };

const char* disk_backend_kind_name(DiskBackendKind kind);
// "uring" or "io_uring", "uring-sync" or "uring_sync", and "posix"; nullopt for anything else.
std::optional<DiskBackendKind> parse_disk_backend_kind(std::string_view text);

class DiskBackend {
 public:
  virtual ~DiskBackend() = default;
  virtual DiskBackendKind kind() const = 0;

  // One transfer, as the kernel does it: the count moved (possibly short, 0 at end of file) or
  // -errno. REQUIRES: the span stays valid until the call returns. May suspend.
  virtual int64_t read(int fd, MutableByteView target, uint64_t offset) = 0;
  virtual int64_t write(int fd, ByteView source, uint64_t offset) = 0;
  // fdatasync() when data_only, else fsync(). Returns 0 or -errno. May suspend.
  virtual int sync(int fd, bool data_only) = 0;
};

std::unique_ptr<DiskBackend> make_posix_backend();

}  // namespace quire::io::real
