#include "io/real/real_disk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "io/base/text.h"
#include "io/real/errno_text.h"
#include "io/real/uring_backend.h"

namespace quire::io::real {
namespace {

// One syscall moves at most this much; larger requests loop.
constexpr size_t transfer_size_bytes_max = 1u << 30;

Error disk_error(int error_number, std::string_view operation, std::string_view path) {
  ErrorCode code = ErrorCode::io_error;
  if (error_number == ENOENT) code = ErrorCode::not_found;
  if (error_number == EEXIST) code = ErrorCode::already_exists;
  if (error_number == ENOSPC || error_number == EDQUOT) code = ErrorCode::no_space;
  return Error(code, concat(operation, " '", path, "': ", errno_text(error_number)));
}

// Relative, '/'-separated, no empty, "." or ".." parts. The empty path (the root itself) only
// where `root_allowed`.
Status check_path(std::string_view path, bool root_allowed) {
  if (path.empty()) {
    if (root_allowed) return ok_status();
    return Error(ErrorCode::invalid_argument, "empty path");
  }
  if (path.front() == '/') {
    return Error(ErrorCode::invalid_argument, concat("path '", path, "' is absolute"));
  }
  size_t start = 0;
  while (start <= path.size()) {
    const size_t slash = std::min(path.find('/', start), path.size());
    const std::string_view part = path.substr(start, slash - start);
    if (part.empty() || part == "." || part == "..") {
      return Error(ErrorCode::invalid_argument,
                   concat("path '", path, "' has an empty, '.' or '..' part"));
    }
    if (part.find('\0') != std::string_view::npos) {
      return Error(ErrorCode::invalid_argument, concat("path '", path, "' holds a NUL byte"));
    }
    start = slash + 1;
  }
  return ok_status();
}

std::string_view parent_of(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

// Retries a syscall interrupted by a signal. Returns its result; errno holds the error.
template <class Call>
auto retry_eintr(Call call) {
  for (;;) {
    const auto result = call();
    if (result >= 0 || errno != EINTR) return result;
  }
}

class RealFile final : public File {
 public:
  RealFile(DiskBackend& backend, UniqueFd fd, std::string path)
      : backend_(backend), fd_(std::move(fd)), path_(std::move(path)) {
    QUIRE_ASSERT(fd_.valid());
  }

  Result<size_t> read(uint64_t offset, MutableByteView target) override {
    size_t done = 0;
    while (done < target.size()) {
      const size_t length = std::min(target.size() - done, transfer_size_bytes_max);
      const int64_t count = backend_.read(fd_.get(), target.subspan(done, length), offset + done);
      if (count == -EINTR || count == -EAGAIN) continue;
      if (count < 0) return disk_error(static_cast<int>(-count), "read", path_);
      if (count == 0) break;  // End of file.
      QUIRE_ASSERT(static_cast<size_t>(count) <= length);
      done += static_cast<size_t>(count);
    }
    return done;
  }

  Status write(uint64_t offset, ByteView source) override {
    size_t done = 0;
    while (done < source.size()) {
      const size_t length = std::min(source.size() - done, transfer_size_bytes_max);
      const int64_t count = backend_.write(fd_.get(), source.subspan(done, length), offset + done);
      if (count == -EINTR || count == -EAGAIN) continue;
      if (count < 0) return disk_error(static_cast<int>(-count), "write", path_);
      // A regular file never accepts zero bytes of a non-empty write without an error.
      QUIRE_ASSERT_MSG(count > 0, concat("write '", path_, "' made no progress"));
      QUIRE_ASSERT(static_cast<size_t>(count) <= length);
      done += static_cast<size_t>(count);
    }
    return ok_status();
  }

  Status sync() override {
    int status = 0;
    do {
      status = backend_.sync(fd_.get(), /*data_only=*/true);
    } while (status == -EINTR);
    if (status < 0) return disk_error(-status, "fdatasync", path_);
    return ok_status();
  }

  Status truncate(uint64_t size_bytes) override {
    const int status =
        retry_eintr([&] { return ::ftruncate(fd_.get(), static_cast<off_t>(size_bytes)); });
    if (status < 0) return disk_error(errno, "ftruncate", path_);
    return ok_status();
  }

  Result<uint64_t> size() override {
    struct stat status {};
    if (::fstat(fd_.get(), &status) < 0) return disk_error(errno, "fstat", path_);
    return static_cast<uint64_t>(status.st_size);
  }

 private:
  DiskBackend& backend_;
  UniqueFd fd_;
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<RealDisk>> RealDisk::create(Runtime& runtime, EventLoop& loop,
                                                   const std::string& root,
                                                   DiskBackendKind preferred,
                                                   uint32_t io_uring_entries) {
  UniqueFd root_fd(
      retry_eintr([&] { return ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); }));
  if (!root_fd.valid()) return disk_error(errno, "open data directory", root);
  std::unique_ptr<DiskBackend> backend;
  std::string fallback_reason;
  if (preferred == DiskBackendKind::io_uring || preferred == DiskBackendKind::uring_sync) {
    auto uring = UringBackend::create(runtime, loop, io_uring_entries,
                                      preferred == DiskBackendKind::uring_sync);
    if (uring.ok()) {
      backend = std::move(uring).value();
    } else {
      fallback_reason = uring.error().message();
    }
  }
  if (backend == nullptr) backend = make_posix_backend();
  return std::unique_ptr<RealDisk>(
      new RealDisk(root, std::move(root_fd), std::move(backend), std::move(fallback_reason)));
}

RealDisk::RealDisk(std::string root, UniqueFd root_fd, std::unique_ptr<DiskBackend> backend,
                   std::string fallback_reason)
    : root_(std::move(root)),
      root_fd_(std::move(root_fd)),
      backend_(std::move(backend)),
      fallback_reason_(std::move(fallback_reason)) {
  QUIRE_ASSERT(root_fd_.valid());
  QUIRE_ASSERT(backend_ != nullptr);
}

RealDisk::~RealDisk() = default;

Result<UniqueFd> RealDisk::open_fd(std::string_view path, int flags) {
  const std::string path_text(path.empty() ? "." : path);
  UniqueFd fd(retry_eintr(
      [&] { return ::openat(root_fd_.get(), path_text.c_str(), flags | O_CLOEXEC, 0644); }));
  if (!fd.valid()) return disk_error(errno, "open", path);
  return fd;
}

Status RealDisk::sync_parent(std::string_view path) {
  const std::string_view parent = parent_of(path);
  QUIRE_TRY_ASSIGN(UniqueFd directory, open_fd(parent, O_RDONLY | O_DIRECTORY));
  int status = 0;
  do {
    status = backend_->sync(directory.get(), /*data_only=*/false);
  } while (status == -EINTR);
  if (status < 0) return disk_error(-status, "fsync directory", parent.empty() ? "." : parent);
  return ok_status();
}

Result<std::unique_ptr<File>> RealDisk::open(std::string_view path, OpenMode mode) {
  QUIRE_TRY(check_path(path, /*root_allowed=*/false));
  Result<UniqueFd> fd = Error(ErrorCode::io_error, "unset");
  bool created = false;
  switch (mode) {
    case OpenMode::read_only:
      fd = open_fd(path, O_RDONLY);
      break;
    case OpenMode::read_write:
      fd = open_fd(path, O_RDWR);
      break;
    case OpenMode::create_new:
      fd = open_fd(path, O_RDWR | O_CREAT | O_EXCL);
      created = fd.ok();
      break;
    case OpenMode::create_or_open:
    case OpenMode::create_or_open_volatile:
      // Opening first tells whether a file was created, and only a creation costs a directory
      // fsync. Another process could create it in between: then O_EXCL fails, and open again.
      for (int attempt = 0; attempt < 3 && !created; attempt++) {
        fd = open_fd(path, O_RDWR);
        if (fd.ok() || fd.code() != ErrorCode::not_found) break;
        fd = open_fd(path, O_RDWR | O_CREAT | O_EXCL);
        created = fd.ok();
        if (!fd.ok() && fd.code() != ErrorCode::already_exists) break;
      }
      break;
  }
  if (!fd.ok()) return std::move(fd).error();
  // A volatile creation skips the directory fsync: the next one in that directory (by any durable
  // metadata call) makes the name durable, and until then a crash may lose the file.
  if (created && mode != OpenMode::create_or_open_volatile) QUIRE_TRY(sync_parent(path));
  return std::unique_ptr<File>(new RealFile(*backend_, std::move(fd).value(), std::string(path)));
}

Status RealDisk::rename(std::string_view source, std::string_view target) {
  QUIRE_TRY(check_path(source, /*root_allowed=*/false));
  QUIRE_TRY(check_path(target, /*root_allowed=*/false));
  const std::string source_text(source);
  const std::string target_text(target);
  if (::renameat(root_fd_.get(), source_text.c_str(), root_fd_.get(), target_text.c_str()) < 0) {
    return disk_error(errno, "rename", concat(source, "' to '", target));
  }
  QUIRE_TRY(sync_parent(target));
  if (parent_of(source) != parent_of(target)) QUIRE_TRY(sync_parent(source));
  return ok_status();
}

Status RealDisk::unlink(std::string_view path) {
  QUIRE_TRY(check_path(path, /*root_allowed=*/false));
  const std::string path_text(path);
  int status = ::unlinkat(root_fd_.get(), path_text.c_str(), 0);
  // Linux answers EISDIR for a directory; remove it if it is empty.
  if (status < 0 && errno == EISDIR)
    status = ::unlinkat(root_fd_.get(), path_text.c_str(), AT_REMOVEDIR);
  if (status < 0) return disk_error(errno, "unlink", path);
  return sync_parent(path);
}

Result<std::vector<std::string>> RealDisk::list(std::string_view directory) {
  QUIRE_TRY(check_path(directory, /*root_allowed=*/true));
  QUIRE_TRY_ASSIGN(UniqueFd fd, open_fd(directory, O_RDONLY | O_DIRECTORY));
  DIR* stream = ::fdopendir(fd.get());
  if (stream == nullptr) return disk_error(errno, "fdopendir", directory);
  (void)fd.release();  // closedir() closes it now.
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = ::readdir(stream)) {
    const std::string_view name(entry->d_name);
    if (name != "." && name != "..") names.emplace_back(name);
  }
  const int read_error = errno;
  ::closedir(stream);
  if (read_error != 0) return disk_error(read_error, "readdir", directory);
  // std::string compares through char_traits<char>, which orders bytes as unsigned: bytewise.
  std::sort(names.begin(), names.end());
  return names;
}

Result<bool> RealDisk::exists(std::string_view path) {
  QUIRE_TRY(check_path(path, /*root_allowed=*/false));
  const std::string path_text(path);
  struct stat status {};
  if (::fstatat(root_fd_.get(), path_text.c_str(), &status, AT_SYMLINK_NOFOLLOW) == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  return disk_error(errno, "stat", path);
}

Status RealDisk::make_directory(std::string_view directory) {
  QUIRE_TRY(check_path(directory, /*root_allowed=*/false));
  const std::string path_text(directory);
  if (::mkdirat(root_fd_.get(), path_text.c_str(), 0755) == 0) return sync_parent(directory);
  if (errno != EEXIST) return disk_error(errno, "mkdir", directory);
  struct stat status {};
  if (::fstatat(root_fd_.get(), path_text.c_str(), &status, 0) < 0) {
    return disk_error(errno, "stat", directory);
  }
  if (!S_ISDIR(status.st_mode))
    return disk_error(EEXIST, "mkdir (a file has that name)", directory);
  return ok_status();
}

}  // namespace quire::io::real
