#include "io/real/byte_queue.h"

#include <algorithm>
#include <cstring>

namespace quire::io::real {
namespace {

constexpr size_t capacity_bytes_min = 64 * 1024;
// An empty queue keeps at most this much storage; larger buffers served one big frame.
constexpr size_t idle_capacity_bytes_max = 1024 * 1024;

}  // namespace

void ByteQueue::consume(size_t count) {
  QUIRE_ASSERT(count <= size());
  begin_ += count;
  if (begin_ == end_) clear();
}

MutableByteView ByteQueue::prepare(size_t count) {
  if (capacity_ - end_ < count) {
    const size_t used = size();
    if (capacity_ - used >= count && data_ != nullptr) {
      std::memmove(data_.get(), data_.get() + begin_, used);
    } else {
      const size_t capacity = std::max({capacity_ * 2, used + count, capacity_bytes_min});
      // Not zero-filled: the bytes are written before they are read.
      std::unique_ptr<uint8_t[]> data(new uint8_t[capacity]);
      if (used > 0) std::memcpy(data.get(), data_.get() + begin_, used);
      data_ = std::move(data);
      capacity_ = capacity;
    }
    begin_ = 0;
    end_ = used;
  }
  QUIRE_ASSERT(capacity_ - end_ >= count);
  return MutableByteView(data_.get() + end_, capacity_ - end_);
}

void ByteQueue::commit(size_t count) {
  QUIRE_ASSERT(count <= capacity_ - end_);
  end_ += count;
}

void ByteQueue::append(ByteView bytes) {
  if (bytes.empty()) return;
  MutableByteView target = prepare(bytes.size());
  std::memcpy(target.data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

void ByteQueue::clear() {
  begin_ = 0;
  end_ = 0;
  if (capacity_ > idle_capacity_bytes_max) {
    data_.reset();
    capacity_ = 0;
  }
}

}  // namespace quire::io::real
