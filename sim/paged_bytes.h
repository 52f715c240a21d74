// PagedBytes: the bytes of one simulated file, in fixed pages shared copy-on-write. The durable
// and current images of a file (disk_image.h) share every page a sync made equal, so a sync is a
// copy of page pointers, a file grows without moving what it holds, and a hole costs nothing (a
// missing page reads as zeros). Single-threaded, like the whole simulator.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "io/base/bytes.h"

namespace quire::sim {

class PagedBytes {
 public:
  // One sector: a write into a page shared with the other image copies this much.
  static constexpr size_t page_size_bytes = 4096;

  PagedBytes() = default;
  PagedBytes(const Bytes& bytes);  // NOLINT: implicit, so tests can assign plain bytes.
  PagedBytes& operator=(const Bytes& bytes);

  uint64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Truncates (dropped bytes read as zeros if the file grows again) or extends with zeros.
  void resize(uint64_t size_bytes);
  // Writes `data` at `offset`, growing the file if needed.
  void write(uint64_t offset, ByteView data);
  // REQUIRES: offset + target.size() <= size().
  void read(uint64_t offset, MutableByteView target) const;
  uint8_t at(uint64_t offset) const;
  void flip_bit(uint64_t offset, unsigned bit_index);
  // Takes `other`'s size, and its pages (shared) over [offset, offset + length): a sync makes the
  // durable image equal to the current one where the pending changes touched it.
  void share_from(const PagedBytes& other, uint64_t offset, uint64_t length);
  Bytes to_bytes() const;

  bool operator==(const PagedBytes& other) const;
  bool operator==(const Bytes& other) const { return *this == PagedBytes(other); }

 private:
  using Page = std::array<uint8_t, page_size_bytes>;
  // The page at `index`, unshared and present (copied if shared, created zeroed if missing).
  Page& writable_page(size_t index);

  std::vector<std::shared_ptr<Page>> pages_;  // Null: a page of zeros.
  uint64_t size_ = 0;
};

}  // namespace quire::sim
