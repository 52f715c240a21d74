// The number and usage-error helpers that quire and quired parse their flags with, so both
// programs reject the same malformed numbers with the same words (docs/operations.md).
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "io/base/result.h"
#include "io/base/text.h"

namespace quire::tools {

inline Error usage_error(std::string message) {
  return Error(ErrorCode::invalid_argument, std::move(message));
}

// `text` as a whole unsigned number in `base`; `flag` names it in the error.
inline Result<uint64_t> parse_number(std::string_view text, std::string_view flag, int base = 10) {
  uint64_t value = 0;
  const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || status != std::errc() || end != text.data() + text.size()) {
    return usage_error(concat(flag, ": '", text, "' is not a number"));
  }
  return value;
}

}  // namespace quire::tools
