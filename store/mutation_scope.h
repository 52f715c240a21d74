// MutationScope: asserts that mutating calls of one object do not overlap. Fibers switch only
// where a call suspends, so two mutating calls overlap exactly when one suspends inside the other
// and a second fiber calls in; the caller (the engine's driver) must serialize them.
#pragma once

#include "io/base/assert.h"

namespace quire::store {

class MutationScope {
 public:
  explicit MutationScope(bool& mutating) : mutating_(mutating) {
    QUIRE_ASSERT_MSG(!mutating_, "overlapping mutating calls on one journal");
    mutating_ = true;
  }
  ~MutationScope() { mutating_ = false; }
  MutationScope(const MutationScope&) = delete;
  MutationScope& operator=(const MutationScope&) = delete;

 private:
  bool& mutating_;
};

}  // namespace quire::store
