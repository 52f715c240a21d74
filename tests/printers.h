// GoogleTest printers for quire's value types, so that failures show numbers, not bytes.
#pragma once

#include <ostream>

#include "io/base/ids.h"

namespace quire {

template <class Tag, class Rep>
void PrintTo(const StrongInt<Tag, Rep>& value, std::ostream* out) {
  *out << value.value();
}

inline void PrintTo(const Duration& duration, std::ostream* out) {
  *out << duration.ns() << "ns";
}
inline void PrintTo(const Instant& instant, std::ostream* out) {
  *out << instant.ns() << "ns";
}

}  // namespace quire
