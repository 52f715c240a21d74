// XXH3-64, the checksum of every record, block, root block, frame and file in quire.
#pragma once

#include <cstdint>
#include <memory>

#include "io/base/bytes.h"

namespace quire {

uint64_t checksum64(ByteView bytes);

// Streaming XXH3-64: equal input, split anywhere, gives the same digest as checksum64().
class Checksummer {
 public:
  Checksummer();
  ~Checksummer();
  Checksummer(const Checksummer&) = delete;
  Checksummer& operator=(const Checksummer&) = delete;

  void update(ByteView bytes);
  void update_u64(uint64_t value);
  uint64_t digest() const;
  void reset();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace quire
