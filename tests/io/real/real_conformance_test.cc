// Goal: the real runtime passes every runtime conformance check (tests/io/conformance), with
// disk checks on both disk backends.
// Method: each check runs as the main fiber of a fresh RealRuntime with an empty data directory;
// network checks listen on 127.0.0.1 port 0. A disk check on io_uring is skipped, with the
// reason, where the kernel refuses io_uring.
#include <gtest/gtest.h>

#include <optional>

#include "io/real/real_disk.h"
#include "io/real/real_network.h"
#include "io/real/real_runtime.h"
#include "tests/io/conformance/conformance.h"
#include "tests/io/real/temp_directory.h"

namespace quire::test {
namespace {

using io::real::DiskBackendKind;

struct RealCase {
  ConformanceCheck check;
  // Only disk checks get a data directory, on this backend.
  std::optional<DiskBackendKind> backend;
};

std::vector<RealCase> real_cases() {
  std::vector<RealCase> cases;
  for (const ConformanceCheck& check : conformance_checks()) {
    if (check.area != CheckArea::disk) {
      cases.push_back({check, std::nullopt});
      continue;
    }
    cases.push_back({check, DiskBackendKind::io_uring});
    cases.push_back({check, DiskBackendKind::uring_sync});
    cases.push_back({check, DiskBackendKind::posix});
  }
  return cases;
}

std::string case_name(const testing::TestParamInfo<RealCase>& info) {
  if (!info.param.backend.has_value()) return info.param.check.name;
  return info.param.check.name + "_" + io::real::disk_backend_kind_name(*info.param.backend);
}

NetworkSetup loopback_setup() {
  return NetworkSetup{io::Address{"127.0.0.1", 0}, [](io::Listener& listener) {
                        auto& tcp = dynamic_cast<io::real::TcpListener&>(listener);
                        return io::Address{"127.0.0.1", tcp.port()};
                      }};
}

class RealConformance : public testing::TestWithParam<RealCase> {};

TEST_P(RealConformance, Check) {
  const RealCase& test_case = GetParam();
  TempDirectory directory;
  io::real::RealRuntimeOptions options;
  options.name = "conformance";
  options.rng_seed = 1;
  // The parameter picks the backend; QUIRE_DISK_BACKEND must not relabel the case.
  options.read_environment = false;
  if (test_case.backend.has_value()) {
    options.data_directory = directory.path();
    options.disk_backend = *test_case.backend;
  }
  auto runtime = io::real::RealRuntime::create(options);
  ASSERT_TRUE(runtime.ok()) << runtime.error().to_string();
  io::real::RealRuntime& real = **runtime;
  if (test_case.backend.has_value() && *test_case.backend != DiskBackendKind::posix &&
      real.real_disk().backend_kind() != *test_case.backend) {
    GTEST_SKIP() << "io_uring is unavailable here: " << real.real_disk().fallback_reason();
  }
  const NetworkSetup setup = loopback_setup();
  EXPECT_EQ(real.run_main([&] { test_case.check.body(real, setup); }), 0)
      << "the check's main fiber never returned";
}

INSTANTIATE_TEST_SUITE_P(Real, RealConformance, testing::ValuesIn(real_cases()), case_name);

}  // namespace
}  // namespace quire::test
