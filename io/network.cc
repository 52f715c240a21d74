#include "io/network.h"

#include <charconv>

#include "io/base/text.h"

namespace quire::io {

std::string Address::to_string() const {
  // An IPv6 literal holds colons of its own; brackets keep the port's colon the last one.
  if (host.find(':') != std::string::npos) return concat("[", host, "]:", port);
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
  std::string_view host = text.substr(0, colon);
  if (host.starts_with('[')) {
    if (!host.ends_with(']') || host.size() == 2) {
      return Error(ErrorCode::invalid_argument,
                   concat("address '", text, "': an IPv6 host is [address], closed by ']'"));
    }
    host = host.substr(1, host.size() - 2);
  } else if (host.find_first_of(":[]") != std::string_view::npos) {
    return Error(ErrorCode::invalid_argument,
                 concat("address '", text, "': write an IPv6 host in brackets, as [::1]:7101"));
  }
  return Address{std::string(host), static_cast<uint16_t>(port)};
}

}  // namespace quire::io
