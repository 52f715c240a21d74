// LatencyHistogram: the latencies of `quire bench` in bounded memory, whatever the count. A
// log-linear histogram (HdrHistogram's layout with 128 sub-buckets per power of two): values
// below 256 ns are counted exactly, larger ones in buckets 1/128 of their magnitude wide, so a
// percentile is at most 0.8% above the exact one. 7,424 counters (58 KiB) cover every uint64_t.
// docs/operations.md, "quire bench: load against a running group".
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace quire::tools {

class LatencyHistogram {
 public:
  LatencyHistogram();

  void record(uint64_t value_ns);
  uint64_t count() const { return count_; }
  uint64_t max_ns() const { return max_ns_; }
  // The smallest bucket bound that at least `fraction` of the samples are at or below, never
  // above the largest sample: for fraction 0.5, the median rounded up to its bucket's top.
  // 0 when empty. REQUIRES: 0 <= fraction <= 1.
  uint64_t percentile_ns(double fraction) const;

 private:
  static size_t bucket_index(uint64_t value_ns);
  static uint64_t bucket_top_ns(size_t index);

  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t max_ns_ = 0;
};

}  // namespace quire::tools
