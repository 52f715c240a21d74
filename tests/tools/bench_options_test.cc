// Goal: `quire bench` takes exactly the documented flags, with their defaults, and turns away
// every malformed one before anything connects; its latency histogram reports percentiles at
// most 1/128 above the exact ones and never above the largest sample.
// Method: parse_bench_options on argument lists as the CLI hands them over; the histogram
// against an exact sort of the same samples.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "io/base/rng.h"
#include "tools/bench_options.h"
#include "tools/latency_histogram.h"

namespace quire::tools {
namespace {

TEST(BenchOptions, DefaultsAreTheDocumentedOnes) {
  auto options = parse_bench_options({});
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->clients, 1u);
  EXPECT_EQ(options->connections, 1u);
  EXPECT_EQ(options->value_size_bytes, 256u);
  EXPECT_EQ(options->operation_count, 10'000u);
  EXPECT_EQ(options->seconds, 0u);
  EXPECT_EQ(options->mix.put_percent, 100u);
  EXPECT_EQ(options->mix.get_percent + options->mix.txn_percent, 0u);
  EXPECT_EQ(options->key_count, 100'000u);
  EXPECT_EQ(options->consistency, BenchConsistency::linearizable);
  EXPECT_FALSE(options->json);
  EXPECT_FALSE(options->progress);
}

TEST(BenchOptions, ConnectionsDefaultToClients) {
  auto options = parse_bench_options({"--clients=8"});
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->connections, 8u);
  options = parse_bench_options({"--clients=8", "--connections=2"});
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->connections, 2u);
}

TEST(BenchOptions, EveryFlag) {
  auto options = parse_bench_options({"--value-size=4096", "--seconds=3", "--keys=10",
                                      "--mix=txn=10,put=30,get=60", "--consistency=local", "--json",
                                      "--progress"});
  ASSERT_TRUE(options.ok()) << options.error().to_string();
  EXPECT_EQ(options->value_size_bytes, 4096u);
  EXPECT_EQ(options->seconds, 3u);
  EXPECT_EQ(options->operation_count, 0u);  // --seconds bounds the run instead.
  EXPECT_EQ(options->key_count, 10u);
  EXPECT_EQ(options->mix.put_percent, 30u);
  EXPECT_EQ(options->mix.get_percent, 60u);
  EXPECT_EQ(options->mix.txn_percent, 10u);
  EXPECT_EQ(options->consistency, BenchConsistency::local);
  EXPECT_TRUE(options->json);
  EXPECT_TRUE(options->progress);
}

TEST(BenchOptions, MalformedFlagsAreUsageErrors) {
  const std::vector<std::vector<std::string>> cases = {
      {"--clients=0"},
      {"--clients=many"},
      {"--clients=2", "--connections=3"},
      {"--count=0"},
      {"--count=5", "--seconds=5"},
      {"--mix=put=50"},
      {"--mix=put=50,get=60"},
      {"--mix=put=50,put=50"},
      {"--mix=write=100"},
      {"--mix=put"},
      {"--consistency=eventual"},
      {"--keys=0"},
      {"--json=yes"},
      {"--clients"},
  };
  for (const std::vector<std::string>& arguments : cases) {
    auto options = parse_bench_options(arguments);
    ASSERT_FALSE(options.ok()) << arguments.front();
    EXPECT_EQ(options.error().code(), ErrorCode::invalid_argument);
  }
}

TEST(BenchOptions, OnlyBenchFlagsAreClaimed) {
  EXPECT_EQ(bench_flag_takes_value("--clients"), true);
  EXPECT_EQ(bench_flag_takes_value("--json"), false);
  EXPECT_EQ(bench_flag_takes_value("--members"), std::nullopt);
  EXPECT_EQ(bench_flag_takes_value("--timeout"), std::nullopt);
}

TEST(LatencyHistogram, PercentilesWithinOneBucketOfExact) {
  LatencyHistogram histogram;
  std::vector<uint64_t> samples;
  Rng rng(7);
  for (int index = 0; index < 100'000; index++) {
    // From 100 ns to about 1 s, spread over the magnitudes.
    const uint64_t sample = 100 + (rng.next_u64() >> (34 + rng.uniform(30)));
    samples.push_back(sample);
    histogram.record(sample);
  }
  std::sort(samples.begin(), samples.end());
  EXPECT_EQ(histogram.count(), samples.size());
  EXPECT_EQ(histogram.max_ns(), samples.back());
  for (const double fraction : {0.0, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    const size_t rank = std::max<size_t>(
        1, static_cast<size_t>(std::ceil(fraction * static_cast<double>(samples.size()))));
    const uint64_t exact = samples[rank - 1];
    const uint64_t reported = histogram.percentile_ns(fraction);
    EXPECT_GE(reported, exact) << fraction;
    EXPECT_LE(reported, exact + exact / 128) << fraction;
    EXPECT_LE(reported, histogram.max_ns()) << fraction;
  }
}

TEST(LatencyHistogram, SmallValuesExactAndExtremesFit) {
  LatencyHistogram histogram;
  EXPECT_EQ(histogram.percentile_ns(0.5), 0u);
  for (uint64_t value = 0; value < 256; value++)
    histogram.record(value);
  EXPECT_EQ(histogram.percentile_ns(0.5), 127u);
  histogram.record(UINT64_MAX);
  EXPECT_EQ(histogram.percentile_ns(1.0), UINT64_MAX);
}

}  // namespace
}  // namespace quire::tools
