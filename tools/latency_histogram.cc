#include "tools/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "io/base/assert.h"

namespace quire::tools {
namespace {

// Values below exact_limit get a bucket each; above it, every power of two is cut into
// sub_bucket_count buckets of equal width.
constexpr uint64_t sub_bucket_count = 128;
constexpr uint64_t exact_limit = 2 * sub_bucket_count;
constexpr size_t bucket_count = exact_limit + (64 - 8) * sub_bucket_count;

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(bucket_count, 0) {}

size_t LatencyHistogram::bucket_index(uint64_t value_ns) {
  if (value_ns < exact_limit) return static_cast<size_t>(value_ns);
  // shift >= 1, and value_ns >> shift lies in [128, 256): its top 8 bits.
  const uint64_t shift = static_cast<uint64_t>(std::bit_width(value_ns)) - 8;
  const uint64_t top = value_ns >> shift;
  QUIRE_ASSERT(shift >= 1 && top >= sub_bucket_count && top < exact_limit);
  return static_cast<size_t>(exact_limit + (shift - 1) * sub_bucket_count +
                             (top - sub_bucket_count));
}

uint64_t LatencyHistogram::bucket_top_ns(size_t index) {
  if (index < exact_limit) return index;
  const uint64_t shift = (index - exact_limit) / sub_bucket_count + 1;
  const uint64_t top = (index - exact_limit) % sub_bucket_count + sub_bucket_count;
  // The last bucket's top is UINT64_MAX: (top + 1) << shift wraps to 0 there.
  return ((top + 1) << shift) - 1;
}

void LatencyHistogram::record(uint64_t value_ns) {
  const size_t index = bucket_index(value_ns);
  QUIRE_ASSERT(index < counts_.size());
  QUIRE_ASSERT(bucket_top_ns(index) >= value_ns);
  counts_[index]++;
  count_++;
  max_ns_ = std::max(max_ns_, value_ns);
}

uint64_t LatencyHistogram::percentile_ns(double fraction) const {
  QUIRE_ASSERT(fraction >= 0 && fraction <= 1);
  if (count_ == 0) return 0;
  const uint64_t rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(fraction * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t index = 0; index < counts_.size(); index++) {
    seen += counts_[index];
    if (seen >= rank) return std::min(bucket_top_ns(index), max_ns_);
  }
  QUIRE_ASSERT_MSG(false, "the counts add up to fewer samples than count_");
  return max_ns_;
}

}  // namespace quire::tools
