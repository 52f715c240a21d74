// Goal: RealDisk picks, reports and falls back between its backends as documented, names the
// path in its errors, and never lets an io_uring completion outlive the fiber that waited for it.
// Method: RealRuntimes on temporary directories. Under tools/no_io_uring (ctest
// io_real_disk_without_io_uring) io_uring_setup fails with EPERM, and QUIRE_EXPECT_NO_IO_URING=1
// tells these tests to insist on the fallback.
#include "io/real/real_disk.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "io/real/real_runtime.h"
#include "io/sync.h"
#include "tests/io/real/temp_directory.h"

namespace quire::test {
namespace {

using io::real::DiskBackendKind;
using io::real::RealRuntime;
using io::real::RealRuntimeOptions;

bool io_uring_blocked_on_purpose() {
  const char* expected = std::getenv("QUIRE_EXPECT_NO_IO_URING");
  return expected != nullptr && std::string_view(expected) == "1";
}

Result<std::unique_ptr<RealRuntime>> make_runtime(const std::string& directory,
                                                  DiskBackendKind backend,
                                                  bool read_environment = false) {
  RealRuntimeOptions options;
  options.data_directory = directory;
  options.disk_backend = backend;
  options.read_environment = read_environment;
  options.rng_seed = 3;
  return RealRuntime::create(options);
}

// Sets an environment variable for one scope.
class ScopedEnvironment {
 public:
  ScopedEnvironment(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~ScopedEnvironment() { ::unsetenv(name_); }
  ScopedEnvironment(const ScopedEnvironment&) = delete;
  ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;

 private:
  const char* name_;
};

TEST(RealDisk, PosixWhenAsked) {
  TempDirectory directory;
  auto runtime = make_runtime(directory.path(), DiskBackendKind::posix);
  ASSERT_TRUE(runtime.ok()) << runtime.error().to_string();
  EXPECT_STREQ((*runtime)->disk_backend_name(), "posix");
  EXPECT_EQ((*runtime)->real_disk().fallback_reason(), "");
}

TEST(RealDisk, IoUringWhenAvailableElseFallsBackWithAReason) {
  TempDirectory directory;
  auto runtime = make_runtime(directory.path(), DiskBackendKind::io_uring);
  ASSERT_TRUE(runtime.ok()) << runtime.error().to_string();
  io::real::RealDisk& disk = (*runtime)->real_disk();
  if (io_uring_blocked_on_purpose()) {
    EXPECT_EQ(disk.backend_kind(), DiskBackendKind::posix);
    EXPECT_EQ(disk.fallback_reason(), "io_uring_queue_init: Operation not permitted");
    return;
  }
  if (disk.backend_kind() == DiskBackendKind::posix) {
    EXPECT_NE(disk.fallback_reason(), "");
    GTEST_SKIP() << "io_uring is unavailable here: " << disk.fallback_reason();
  }
  EXPECT_STREQ(disk.backend_name(), "io_uring");
  EXPECT_EQ(disk.fallback_reason(), "");
}

TEST(RealDisk, EnvironmentForcesTheBackend) {
  TempDirectory directory;
  {
    ScopedEnvironment forced("QUIRE_DISK_BACKEND", "posix");
    auto runtime = make_runtime(directory.path(), DiskBackendKind::io_uring, true);
    ASSERT_TRUE(runtime.ok());
    EXPECT_STREQ((*runtime)->disk_backend_name(), "posix");
  }
  {
    ScopedEnvironment forced("QUIRE_DISK_BACKEND", "uring");
    auto runtime = make_runtime(directory.path(), DiskBackendKind::posix, true);
    ASSERT_TRUE(runtime.ok());
    io::real::RealDisk& disk = (*runtime)->real_disk();
    // Asked for, so io_uring unless the kernel refuses; then the reason says why.
    EXPECT_TRUE(disk.backend_kind() == DiskBackendKind::io_uring ||
                !disk.fallback_reason().empty());
  }
  {
    ScopedEnvironment forced("QUIRE_DISK_BACKEND", "uring-sync");
    auto runtime = make_runtime(directory.path(), DiskBackendKind::posix, true);
    ASSERT_TRUE(runtime.ok());
    io::real::RealDisk& disk = (*runtime)->real_disk();
    EXPECT_TRUE(disk.backend_kind() == DiskBackendKind::uring_sync ||
                !disk.fallback_reason().empty());
  }
  {
    ScopedEnvironment forced("QUIRE_DISK_BACKEND", "threads");
    auto runtime = make_runtime(directory.path(), DiskBackendKind::posix, true);
    ASSERT_FALSE(runtime.ok());
    EXPECT_EQ(runtime.code(), ErrorCode::invalid_argument);
    EXPECT_NE(runtime.error().message().find("QUIRE_DISK_BACKEND"), std::string::npos);
  }
  {
    ScopedEnvironment forced("QUIRE_DISK_BACKEND", "posix");
    auto runtime = make_runtime(directory.path(), DiskBackendKind::io_uring, false);
    ASSERT_TRUE(runtime.ok());
    EXPECT_TRUE((*runtime)->real_disk().backend_kind() == DiskBackendKind::io_uring ||
                !(*runtime)->real_disk().fallback_reason().empty())
        << "read_environment=false must ignore the variable";
  }
}

TEST(RealDisk, MissingDataDirectoryIsNotFound) {
  TempDirectory directory;
  auto runtime = make_runtime(directory.path() + "/absent", DiskBackendKind::posix);
  ASSERT_FALSE(runtime.ok());
  EXPECT_EQ(runtime.code(), ErrorCode::not_found);
  EXPECT_NE(runtime.error().message().find("absent"), std::string::npos);
}

class RealDiskBackends : public testing::TestWithParam<DiskBackendKind> {
 protected:
  void SetUp() override {
    auto runtime = make_runtime(directory_.path(), GetParam());
    ASSERT_TRUE(runtime.ok()) << runtime.error().to_string();
    runtime_ = std::move(runtime).value();
    if (runtime_->real_disk().backend_kind() != GetParam()) {
      GTEST_SKIP() << "io_uring is unavailable here: " << runtime_->real_disk().fallback_reason();
    }
  }

  TempDirectory directory_;
  std::unique_ptr<RealRuntime> runtime_;
};

TEST_P(RealDiskBackends, ErrorsNameThePath) {
  EXPECT_EQ(runtime_->run_main([&] {
    auto missing = runtime_->disk().open("halogs/000042.halog", io::OpenMode::read_only);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.code(), ErrorCode::not_found);
    EXPECT_NE(missing.error().message().find("halogs/000042.halog"), std::string::npos)
        << missing.error().to_string();
    const Status renamed = runtime_->disk().rename("a", "b");
    EXPECT_NE(renamed.error().message().find("'a' to 'b'"), std::string::npos)
        << renamed.error().to_string();
  }),
            0);
}

TEST_P(RealDiskBackends, WriteToReadOnlyFileIsAnIoError) {
  EXPECT_EQ(runtime_->run_main([&] {
    ASSERT_TRUE(runtime_->disk().open("f", io::OpenMode::create_new).ok());
    auto file = runtime_->disk().open("f", io::OpenMode::read_only);
    ASSERT_TRUE(file.ok());
    const Status written = (*file)->write(0, as_bytes("x"));
    ASSERT_FALSE(written.ok());
    EXPECT_EQ(written.code(), ErrorCode::io_error);
    EXPECT_NE(written.error().message().find("'f'"), std::string::npos);
  }),
            0);
}

TEST_P(RealDiskBackends, RunStopsWithWritesInFlight) {
  // Goal: fibers unwound while the kernel still owns their buffers must not leave it writing
  // into freed stacks (under ASan this would be reported). The runtime is destroyed right after
  // the first batch submitted every write.
  constexpr int writer_count = 16;
  auto file = std::shared_ptr<io::File>();
  EXPECT_EQ(runtime_->run_main([&] {
    auto opened = runtime_->disk().open("busy", io::OpenMode::create_new);
    ASSERT_TRUE(opened.ok());
    file = std::move(opened).value();
  }),
            0);
  for (int index = 0; index < writer_count; index++) {
    runtime_->spawn("writer", [file, index] {
      Bytes block(1024 * 1024, static_cast<uint8_t>(index));
      (void)file->write(static_cast<uint64_t>(index) * block.size(), block);
      (void)file->sync();
    });
  }
  runtime_->add_timer(runtime_->now(), [this] { runtime_->stop(); });
  EXPECT_EQ(runtime_->run(), io::real::RunEnd::stopped);
  runtime_.reset();
}

TEST_P(RealDiskBackends, ManyFibersShareTheRing) {
  // More operations in flight than the ring has completion slots: the rest wait their turn.
  static constexpr int fiber_count = 600;
  EXPECT_EQ(runtime_->run_main([&] {
    auto opened = runtime_->disk().open("shared", io::OpenMode::create_new);
    ASSERT_TRUE(opened.ok());
    std::shared_ptr<io::File> file = std::move(opened).value();
    auto finished = std::make_shared<int>(0);
    io::Event all_done(*runtime_);
    for (int index = 0; index < fiber_count; index++) {
      runtime_->spawn("writer", [file, finished, &all_done, index] {
        uint8_t byte = static_cast<uint8_t>(index);
        EXPECT_TRUE(file->write(static_cast<uint64_t>(index), ByteView(&byte, 1)).ok());
        if (++*finished == fiber_count) all_done.set();
      });
    }
    ASSERT_TRUE(all_done.wait(runtime_->now() + Duration::seconds(20)));
    Bytes all(fiber_count);
    ASSERT_TRUE(file->read_exact(0, all).ok());
    for (int index = 0; index < fiber_count; index++) {
      ASSERT_EQ(all[static_cast<size_t>(index)], static_cast<uint8_t>(index));
    }
  }),
            0);
}

INSTANTIATE_TEST_SUITE_P(Backends, RealDiskBackends,
                         testing::Values(DiskBackendKind::io_uring, DiskBackendKind::posix),
                         [](const testing::TestParamInfo<DiskBackendKind>& info) {
                           return std::string(io::real::disk_backend_kind_name(info.param));
                         });

}  // namespace
}  // namespace quire::test
