#include "io/base/rng.h"

#include <cstring>

#include "io/base/checksum.h"

namespace quire {
namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t rotate_left(uint64_t value, int count) {
  return (value << count) | (value >> (64 - count));
}

}  // namespace

uint64_t split_seed(uint64_t seed, std::string_view label, uint64_t index) {
  Checksummer checksummer;
  checksummer.update_u64(seed);
  checksummer.update_u64(label.size());
  checksummer.update(ByteView(reinterpret_cast<const uint8_t*>(label.data()), label.size()));
  checksummer.update_u64(index);
  return checksummer.digest();
}

Rng::Rng(uint64_t seed) {
  uint64_t state = seed;
  for (uint64_t& word : state_)
    word = splitmix64(state);
}

uint64_t Rng::next_u64() {
  const uint64_t result = rotate_left(state_[1] * 5, 7) * 9;
  const uint64_t shifted = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= shifted;
  state_[3] = rotate_left(state_[3], 45);
  return result;
}

uint64_t Rng::uniform(uint64_t bound) {
  QUIRE_ASSERT(bound > 0);
  // Lemire's nearly divisionless method: unbiased, one multiply in the common case.
  unsigned __int128 product = static_cast<unsigned __int128>(next_u64()) * bound;
  uint64_t low = static_cast<uint64_t>(product);
  if (low < bound) {
    const uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      product = static_cast<unsigned __int128>(next_u64()) * bound;
      low = static_cast<uint64_t>(product);
    }
  }
  return static_cast<uint64_t>(product >> 64);
}

uint64_t Rng::between(uint64_t low, uint64_t high) {
  QUIRE_ASSERT(low <= high);
  if (high - low == UINT64_MAX) return next_u64();
  return low + uniform(high - low + 1);
}

double Rng::unit() {
  return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
}

bool Rng::chance(double probability) {
  if (probability <= 0.0) return false;
  if (probability >= 1.0) return true;
  return unit() < probability;
}

}  // namespace quire
