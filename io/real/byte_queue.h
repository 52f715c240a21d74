// ByteQueue: a contiguous FIFO of bytes for socket buffers. Bytes are appended at the back and
// consumed at the front; the storage is reused (compacted) before it grows, and is released when
// the queue empties after a large frame, so an idle connection holds little memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "io/base/bytes.h"

namespace quire::io::real {

class ByteQueue {
 public:
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  ByteView readable() const { return ByteView(data_.get() + begin_, size()); }
  void consume(size_t count);

  // Room for at least `count` more bytes after the readable ones, not yet part of the queue;
  // commit() adds what was filled in. Invalidates earlier spans.
  MutableByteView prepare(size_t count);
  void commit(size_t count);
  void append(ByteView bytes);
  void clear();

 private:
  std::unique_ptr<uint8_t[]> data_;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace quire::io::real
