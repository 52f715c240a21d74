// Byte buffers and the little-endian codecs of every fixed layout on disk and on the wire.
// Every integer quire writes is little-endian, whatever the host (docs/format.md).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io/base/assert.h"

namespace quire {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;
using MutableByteView = std::span<uint8_t>;

inline ByteView as_bytes(std::string_view text) {
  return ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}
inline std::string_view as_text(ByteView bytes) {
  return std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}
inline Bytes to_bytes(std::string_view text) {
  const ByteView view = as_bytes(text);
  return Bytes(view.begin(), view.end());
}

template <class T>
inline void store_le(uint8_t* target, T value) {
  static_assert(std::is_unsigned_v<T>);
  for (size_t index = 0; index < sizeof(T); index++) {
    target[index] = static_cast<uint8_t>(value >> (8 * index));
  }
}

template <class T>
inline T load_le(const uint8_t* source) {
  static_assert(std::is_unsigned_v<T>);
  T value = 0;
  for (size_t index = 0; index < sizeof(T); index++) {
    value |= static_cast<T>(static_cast<T>(source[index]) << (8 * index));
  }
  return value;
}

// Appends fixed-width little-endian fields and raw bytes to a buffer it does not own.
class ByteWriter {
 public:
  explicit ByteWriter(Bytes& target) : target_(target) {}

  void u8(uint8_t value) { target_.push_back(value); }
  void u16(uint16_t value) { put(value); }
  void u32(uint32_t value) { put(value); }
  void u64(uint64_t value) { put(value); }
  void bytes(ByteView value) { target_.insert(target_.end(), value.begin(), value.end()); }
  // A u32 length, then the bytes.
  void blob(ByteView value) {
    QUIRE_ASSERT(value.size() <= UINT32_MAX);
    u32(static_cast<uint32_t>(value.size()));
    bytes(value);
  }
  void zeros(size_t count) { target_.resize(target_.size() + count, 0); }
  size_t size() const { return target_.size(); }

 private:
  template <class T>
  void put(T value) {
    const size_t at = target_.size();
    target_.resize(at + sizeof(T));
    store_le<T>(target_.data() + at, value);
  }
  Bytes& target_;
};

// Reads fixed-width fields from untrusted bytes. A read past the end does not assert: it marks
// the reader failed and returns zeros, so that a decoder checks ok() once at the end.
class ByteReader {
 public:
  explicit ByteReader(ByteView source) : source_(source) {}

  uint8_t u8() { return get<uint8_t>(); }
  uint16_t u16() { return get<uint16_t>(); }
  uint32_t u32() { return get<uint32_t>(); }
  uint64_t u64() { return get<uint64_t>(); }
  ByteView bytes(size_t count) {
    if (!ok_ || source_.size() - position_ < count) {
      ok_ = false;
      return {};
    }
    const ByteView out = source_.subspan(position_, count);
    position_ += count;
    return out;
  }
  ByteView blob() { return bytes(u32()); }
  void skip(size_t count) { (void)bytes(count); }

  bool ok() const { return ok_; }
  size_t position() const { return position_; }
  size_t remaining() const { return ok_ ? source_.size() - position_ : 0; }

 private:
  template <class T>
  T get() {
    if (!ok_ || source_.size() - position_ < sizeof(T)) {
      ok_ = false;
      return 0;
    }
    const T value = load_le<T>(source_.data() + position_);
    position_ += sizeof(T);
    return value;
  }
  ByteView source_;
  size_t position_ = 0;
  bool ok_ = true;
};

}  // namespace quire
