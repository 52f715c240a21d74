// Rng: the only source of randomness in quire. Seeded, so that a simulation replays from its
// seed; split_seed() gives each component its own stream, so that adding a draw in one component
// (say, a new fault kind) does not change what another component (the workload) draws.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>

#include "io/base/assert.h"

namespace quire {

// A seed for `label`/`index` derived from `seed` (XXH3 of the three).
uint64_t split_seed(uint64_t seed, std::string_view label, uint64_t index = 0);

// xoshiro256** seeded through splitmix64. Not cryptographic; fast and reproducible everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed);

  uint64_t next_u64();
  // Uniform in [0, bound). REQUIRES: bound > 0.
  uint64_t uniform(uint64_t bound);
  // Uniform in [low, high] inclusive. REQUIRES: low <= high.
  uint64_t between(uint64_t low, uint64_t high);
  // Uniform in [0, 1).
  double unit();
  // True with probability `probability` (clamped to [0, 1]).
  bool chance(double probability);
  // True with probability numerator / denominator. REQUIRES: denominator > 0.
  bool one_in(uint64_t denominator) { return uniform(denominator) == 0; }

  template <class Container>
  void shuffle(Container& items) {
    for (size_t index = items.size(); index > 1; index--) {
      const size_t other = static_cast<size_t>(uniform(index));
      using std::swap;
      swap(items[index - 1], items[other]);
    }
  }

  template <class Container>
  auto& pick(Container& items) {
    QUIRE_ASSERT(!items.empty());
    return items[static_cast<size_t>(uniform(items.size()))];
  }

 private:
  uint64_t state_[4];
};

}  // namespace quire
