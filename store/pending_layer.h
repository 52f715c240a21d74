// PendingLayer: the leader's mutations not yet sealed into a write set, in key order. It sits on
// top of the last sealed (or committed) tree: a lookup sees the layer first. Seal turns it into
// one sorted batch for BTreeUpdate; rollback drops it. Memory only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "io/base/bytes.h"
#include "store/btree_update.h"

namespace quire::store {

class PendingLayer {
 public:
  void put(ByteView key, ByteView value);
  void remove(ByteView key);

  // nullptr: the layer does not touch `key`; else the value it sets, or nullopt for a removal.
  const std::optional<Bytes>* find(ByteView key) const;

  bool empty() const { return mutations_.empty(); }
  size_t size() const { return mutations_.size(); }
  // Keys plus values held, for the engine's group-commit bound.
  uint64_t size_bytes() const { return size_bytes_; }
  // The batch for BTreeUpdate, in key order; views into this layer.
  std::vector<Mutation> mutations() const;
  void clear();
  // Applies `newer` on top of this layer (its puts and removes win).
  void absorb(const PendingLayer& newer);

 private:
  struct KeyLess {
    using is_transparent = void;
    bool operator()(ByteView left, ByteView right) const;
  };

  std::map<Bytes, std::optional<Bytes>, KeyLess> mutations_;
  uint64_t size_bytes_ = 0;
};

}  // namespace quire::store
