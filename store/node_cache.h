// NodeCache: decoded B+tree nodes by file offset, least recently used first out, bounded by an
// estimate of their memory. Only verified nodes enter it. A node's bytes never change at an
// offset below the committed end, so an entry there is never stale; entries past the committed
// end (nodes of a sealed, uncommitted write set) are dropped by evict_from() on rollback.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>

#include "store/node.h"

namespace quire::store {

class NodeCache {
 public:
  explicit NodeCache(uint64_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}

  // The node at `offset`, made most recently used; nullptr when absent.
  std::shared_ptr<const Node> find(uint64_t offset);
  // Adds (or replaces) the node at `offset`, then evicts least recently used nodes past the
  // bound. A node larger than the whole bound is not kept.
  void insert(uint64_t offset, std::shared_ptr<const Node> node);
  // Drops every node at an offset >= `offset`.
  void evict_from(uint64_t offset);
  void clear();

  uint64_t size_bytes() const { return size_bytes_; }
  uint64_t capacity_bytes() const { return capacity_bytes_; }
  size_t node_count() const { return index_.size(); }
  uint64_t hit_count() const { return hit_count_; }
  uint64_t miss_count() const { return miss_count_; }

 private:
  struct Entry {
    uint64_t offset;
    std::shared_ptr<const Node> node;
    uint64_t size_bytes;
  };
  void erase(std::list<Entry>::iterator entry);

  uint64_t capacity_bytes_;
  uint64_t size_bytes_ = 0;
  std::list<Entry> recency_;  // Front: most recently used.
  // Ordered by offset: evict_from drops a tail without visiting the rest.
  std::map<uint64_t, std::list<Entry>::iterator> index_;
  uint64_t hit_count_ = 0;
  uint64_t miss_count_ = 0;
};

}  // namespace quire::store
