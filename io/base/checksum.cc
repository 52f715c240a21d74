#include "io/base/checksum.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace quire {

struct Checksummer::State {
  XXH3_state_t xxh3;
};

uint64_t checksum64(ByteView bytes) {
  return XXH3_64bits(bytes.data(), bytes.size());
}

Checksummer::Checksummer() : state_(std::make_unique<State>()) {
  reset();
}
Checksummer::~Checksummer() = default;

void Checksummer::update(ByteView bytes) {
  XXH3_64bits_update(&state_->xxh3, bytes.data(), bytes.size());
}

void Checksummer::update_u64(uint64_t value) {
  uint8_t encoded[8];
  store_le<uint64_t>(encoded, value);
  update(ByteView(encoded, sizeof encoded));
}

uint64_t Checksummer::digest() const {
  return XXH3_64bits_digest(&state_->xxh3);
}

void Checksummer::reset() {
  XXH3_64bits_reset(&state_->xxh3);
}

}  // namespace quire
