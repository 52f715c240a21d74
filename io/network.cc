#include "io/network.h"

#include <charconv>

#include "io/base/text.h"

namespace quire::io {

std::string Address::to_string() const {
  return concat(host, ":", port);
}

Result<Address> Address::parse(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return Error(ErrorCode::invalid_argument, concat("address '", text, "' is not host:port"));
  }
  unsigned port = 0;
  const std::string_view digits = text.substr(colon + 1);
  const auto [end, status] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (status != std::errc() || end != digits.data() + digits.size() || port == 0 || port > 65535) {
    return Error(ErrorCode::invalid_argument, concat("address '", text, "' has a bad port"));
  }
  return Address{std::string(text.substr(0, colon)), static_cast<uint16_t>(port)};
}

}  // namespace quire::io
