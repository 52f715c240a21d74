// Disk: the only way store/ and engine/ reach files. Paths are relative to the node's data
// directory, '/'-separated, with no "." or ".." parts. Every call may suspend the calling fiber.
//
// Durability contract (the same on the real disk and the simulated one; see docs/io.md):
// - write() data is durable only after a later sync() of the same file returns ok. A crash may
//   keep, lose, or tear (at sector granularity) every write since the last successful sync.
// - A failed sync() may have dropped the dirty data it was asked to persist (Linux marks the
//   pages clean after a writeback error); the caller must rewrite before trusting the file.
// - Metadata operations (create, rename, unlink, truncate... make_directory) are durable when
//   they return: the real disk syncs the directory, the simulator applies them at once. Two
//   exceptions: truncate, which like data is durable only after sync(); and a creation by
//   OpenMode::create_or_open_volatile, whose name is durable only once a later durable metadata
//   operation in the same directory has returned (a crash before that may lose the whole file).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/base/bytes.h"
#include "io/base/result.h"

namespace quire::io {

// Sector size of the fault model: a torn write keeps or loses whole sectors.
inline constexpr uint64_t disk_sector_size_bytes = 4096;

class File {
 public:
  virtual ~File() = default;

  // Reads up to target.size() bytes at `offset`; returns how many were read (fewer only at the
  // end of the file). Errors: io_error (latent sector error).
  virtual Result<size_t> read(uint64_t offset, MutableByteView target) = 0;
  // Writes all of `source` at `offset`, extending the file if needed (a hole reads as zeros).
  // Errors: io_error, no_space.
  virtual Status write(uint64_t offset, ByteView source) = 0;
  // Makes every earlier write and truncate of this file durable. Errors: io_error.
  virtual Status sync() = 0;
  virtual Status truncate(uint64_t size_bytes) = 0;
  virtual Result<uint64_t> size() = 0;

  // Reads exactly target.size() bytes or fails with corruption (short file).
  Status read_exact(uint64_t offset, MutableByteView target);
};

enum class OpenMode : uint8_t {
  read_only,       // Must exist.
  read_write,      // Must exist.
  create_new,      // Must not exist; created empty.
  create_or_open,  // Opened if it exists, else created empty.
  // As create_or_open, but a creation is not made durable: no directory sync. The new name
  // becomes durable when a later creation (other than this mode), rename into or out of, unlink
  // in, or make_directory that creates something in the same directory returns. A crash before
  // that may lose the file, name and data, even if the file was synced. For files that the
  // caller can rebuild after a crash (HALogs); it saves a directory fsync per creation.
  create_or_open_volatile,
};

class Disk {
 public:
  virtual ~Disk() = default;

  // Errors: not_found, already_exists, io_error, no_space.
  virtual Result<std::unique_ptr<File>> open(std::string_view path, OpenMode mode) = 0;
  // Atomically replaces `target` with `source`. Errors: not_found, io_error.
  virtual Status rename(std::string_view source, std::string_view target) = 0;
  virtual Status unlink(std::string_view path) = 0;
  // Names (not paths) of the files and directories directly in `directory`, sorted bytewise.
  // The empty string is the data directory itself.
  virtual Result<std::vector<std::string>> list(std::string_view directory) = 0;
  virtual Result<bool> exists(std::string_view path) = 0;
  // Creates `directory` (one level) if it does not exist.
  virtual Status make_directory(std::string_view directory) = 0;
};

}  // namespace quire::io
