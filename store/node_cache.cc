#include "store/node_cache.h"

namespace quire::store {

std::shared_ptr<const Node> NodeCache::find(uint64_t offset) {
  const auto found = index_.find(offset);
  if (found == index_.end()) {
    miss_count_++;
    return nullptr;
  }
  hit_count_++;
  recency_.splice(recency_.begin(), recency_, found->second);
  return found->second->node;
}

void NodeCache::insert(uint64_t offset, std::shared_ptr<const Node> node) {
  QUIRE_ASSERT(node != nullptr);
  const auto found = index_.find(offset);
  if (found != index_.end()) erase(found->second);
  const uint64_t size = node->memory_size_bytes();
  if (size > capacity_bytes_) return;
  recency_.push_front(Entry{offset, std::move(node), size});
  index_.emplace(offset, recency_.begin());
  size_bytes_ += size;
  while (size_bytes_ > capacity_bytes_)
    erase(std::prev(recency_.end()));
  QUIRE_ASSERT(index_.size() == recency_.size());
}

void NodeCache::evict_from(uint64_t offset) {
  for (auto found = index_.lower_bound(offset); found != index_.end();) {
    const auto entry = found->second;
    ++found;
    erase(entry);
  }
}

void NodeCache::clear() {
  recency_.clear();
  index_.clear();
  size_bytes_ = 0;
}

void NodeCache::erase(std::list<Entry>::iterator entry) {
  QUIRE_ASSERT(size_bytes_ >= entry->size_bytes);
  size_bytes_ -= entry->size_bytes;
  index_.erase(entry->offset);
  recency_.erase(entry);
}

}  // namespace quire::store
