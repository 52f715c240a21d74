// Quorum arithmetic: majorities of the electable members. constexpr, and checked at compile
// time here and by rapidcheck for every n (tests/engine/core/quorum_test.cc).
#pragma once

#include <cstddef>
#include <set>

#include "io/base/assert.h"
#include "io/base/ids.h"

namespace quire::engine::core {

// The smallest number of members that makes a majority of `member_count`.
constexpr size_t quorum_size(size_t member_count) {
  return member_count / 2 + 1;
}

// How many members may fail while a majority remains.
constexpr size_t fault_tolerance(size_t member_count) {
  return member_count == 0 ? 0 : member_count - quorum_size(member_count);
}

static_assert(quorum_size(1) == 1 && quorum_size(2) == 2 && quorum_size(3) == 2);
static_assert(quorum_size(4) == 3 && quorum_size(5) == 3 && quorum_size(7) == 4);
static_assert(quorum_size(5) * 2 > 5 && quorum_size(6) * 2 > 6);
static_assert(fault_tolerance(3) == 1 && fault_tolerance(5) == 2 && fault_tolerance(1) == 0);

// Votes of one round (one election, one write set's phase one): each member counts once, however
// often its answer arrives.
class VoteTally {
 public:
  explicit VoteTally(size_t member_count) : member_count_(member_count) {
    QUIRE_ASSERT(member_count > 0);
  }

  void grant(NodeId member) {
    denied_.erase(member);
    granted_.insert(member);
  }
  void deny(NodeId member) {
    if (!granted_.contains(member)) denied_.insert(member);
  }
  bool won() const { return granted_.size() >= quorum_size(member_count_); }
  // A majority can no longer be reached.
  bool lost() const { return denied_.size() > member_count_ - quorum_size(member_count_); }
  size_t granted_count() const { return granted_.size(); }
  bool granted(NodeId member) const { return granted_.contains(member); }
  const std::set<NodeId>& granted_members() const { return granted_; }

 private:
  size_t member_count_;
  std::set<NodeId> granted_;
  std::set<NodeId> denied_;
};

}  // namespace quire::engine::core
