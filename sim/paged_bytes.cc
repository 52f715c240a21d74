#include "sim/paged_bytes.h"

#include <algorithm>
#include <cstring>

#include "io/base/assert.h"

namespace quire::sim {

PagedBytes::PagedBytes(const Bytes& bytes) {
  write(0, bytes);
}

PagedBytes& PagedBytes::operator=(const Bytes& bytes) {
  pages_.clear();
  size_ = 0;
  write(0, bytes);
  return *this;
}

PagedBytes::Page& PagedBytes::writable_page(size_t index) {
  QUIRE_ASSERT(index < pages_.size());
  std::shared_ptr<Page>& page = pages_[index];
  if (page == nullptr) {
    page = std::make_shared<Page>();
    page->fill(0);
  } else if (page.use_count() > 1) {
    page = std::make_shared<Page>(*page);
  }
  return *page;
}

void PagedBytes::resize(uint64_t size_bytes) {
  if (size_bytes < size_) {
    // Zero the dropped tail of the last kept page: it must read as zeros if the file grows.
    const size_t last_index = size_bytes / page_size_bytes;
    const size_t offset_in_page = size_bytes % page_size_bytes;
    if (offset_in_page != 0 && last_index < pages_.size() && pages_[last_index] != nullptr) {
      Page& page = writable_page(last_index);
      std::fill(page.begin() + static_cast<std::ptrdiff_t>(offset_in_page), page.end(), 0);
    }
  }
  pages_.resize((size_bytes + page_size_bytes - 1) / page_size_bytes);
  size_ = size_bytes;
}

void PagedBytes::write(uint64_t offset, ByteView data) {
  if (data.empty()) return;
  const uint64_t end = offset + data.size();
  if (end > size_) resize(end);
  uint64_t done = 0;
  while (done < data.size()) {
    const uint64_t position = offset + done;
    const size_t index = position / page_size_bytes;
    const size_t in_page = position % page_size_bytes;
    const size_t count = std::min<uint64_t>(page_size_bytes - in_page, data.size() - done);
    std::memcpy(writable_page(index).data() + in_page, data.data() + done, count);
    done += count;
  }
}

void PagedBytes::read(uint64_t offset, MutableByteView target) const {
  QUIRE_ASSERT(offset + target.size() <= size_);
  uint64_t done = 0;
  while (done < target.size()) {
    const uint64_t position = offset + done;
    const size_t index = position / page_size_bytes;
    const size_t in_page = position % page_size_bytes;
    const size_t count = std::min<uint64_t>(page_size_bytes - in_page, target.size() - done);
    const std::shared_ptr<Page>& page = pages_[index];
    if (page == nullptr) {
      std::memset(target.data() + done, 0, count);
    } else {
      std::memcpy(target.data() + done, page->data() + in_page, count);
    }
    done += count;
  }
}

uint8_t PagedBytes::at(uint64_t offset) const {
  QUIRE_ASSERT(offset < size_);
  const std::shared_ptr<Page>& page = pages_[offset / page_size_bytes];
  return page == nullptr ? 0 : (*page)[offset % page_size_bytes];
}

void PagedBytes::flip_bit(uint64_t offset, unsigned bit_index) {
  QUIRE_ASSERT(offset < size_ && bit_index < 8);
  writable_page(offset / page_size_bytes)[offset % page_size_bytes] ^=
      static_cast<uint8_t>(1u << bit_index);
}

void PagedBytes::share_from(const PagedBytes& other, uint64_t offset, uint64_t length) {
  pages_.resize(other.pages_.size());
  size_ = other.size_;
  const uint64_t end = length > UINT64_MAX - offset ? UINT64_MAX : offset + length;
  const size_t first = offset / page_size_bytes;
  const size_t last = std::min<uint64_t>(pages_.size(), (end - 1) / page_size_bytes + 1);
  for (size_t index = first; index < last; index++)
    pages_[index] = other.pages_[index];
}

Bytes PagedBytes::to_bytes() const {
  Bytes bytes(size_);
  read(0, bytes);
  return bytes;
}

bool PagedBytes::operator==(const PagedBytes& other) const {
  if (size_ != other.size_) return false;
  for (size_t index = 0; index < pages_.size(); index++) {
    if (pages_[index] == other.pages_[index]) continue;  // Shared, or both zeros.
    const size_t length = std::min<uint64_t>(page_size_bytes, size_ - index * page_size_bytes);
    Bytes mine(length);
    Bytes theirs(length);
    read(index * page_size_bytes, mine);
    other.read(index * page_size_bytes, theirs);
    if (mine != theirs) return false;
  }
  return true;
}

}  // namespace quire::sim
