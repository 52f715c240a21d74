// Position: where a member's history ends, for the election restriction. It is the (term,
// counter) of its prepared write set if it has one, else of its committed one; positions order
// by term first, then counter (docs/protocol.md, "Election").
#pragma once

#include <compare>

#include "io/base/ids.h"

namespace quire::engine::core {

struct Position {
  Term term;
  CommitCounter counter;

  auto operator<=>(const Position&) const = default;
};

}  // namespace quire::engine::core
