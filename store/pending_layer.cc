#include "store/pending_layer.h"

#include "store/btree.h"

namespace quire::store {

bool PendingLayer::KeyLess::operator()(ByteView left, ByteView right) const {
  return compare_keys(left, right) < 0;
}

void PendingLayer::put(ByteView key, ByteView value) {
  auto found = mutations_.find(key);
  if (found == mutations_.end()) {
    found = mutations_.emplace(Bytes(key.begin(), key.end()), std::nullopt).first;
    size_bytes_ += key.size();
  } else if (found->second.has_value()) {
    size_bytes_ -= found->second->size();
  }
  found->second = Bytes(value.begin(), value.end());
  size_bytes_ += value.size();
}

void PendingLayer::remove(ByteView key) {
  auto found = mutations_.find(key);
  if (found == mutations_.end()) {
    mutations_.emplace(Bytes(key.begin(), key.end()), std::nullopt);
    size_bytes_ += key.size();
    return;
  }
  if (found->second.has_value()) size_bytes_ -= found->second->size();
  found->second.reset();
}

const std::optional<Bytes>* PendingLayer::find(ByteView key) const {
  const auto found = mutations_.find(key);
  return found == mutations_.end() ? nullptr : &found->second;
}

std::vector<Mutation> PendingLayer::mutations() const {
  std::vector<Mutation> out;
  out.reserve(mutations_.size());
  for (const auto& [key, value] : mutations_) {
    out.push_back(value.has_value() ? Mutation{key, false, *value} : Mutation{key, true, {}});
  }
  return out;
}

void PendingLayer::absorb(const PendingLayer& newer) {
  for (const auto& [key, value] : newer.mutations_) {
    if (value.has_value()) {
      put(key, *value);
    } else {
      remove(key);
    }
  }
}

void PendingLayer::clear() {
  mutations_.clear();
  size_bytes_ = 0;
}

}  // namespace quire::store
