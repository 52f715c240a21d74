#include "io/base/text.h"

namespace quire {

std::string hex64(unsigned long long value) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int index = 15; index >= 0; index--) {
    out[static_cast<size_t>(index)] = digits[value & 0xf];
    value >>= 4;
  }
  return out;
}

}  // namespace quire
