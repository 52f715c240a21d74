#include "store/address.h"

#include <charconv>

#include "io/base/text.h"

namespace quire::store {
namespace {

constexpr std::string_view address_marker = "address ";

}  // namespace

std::string address_text(Address address) {
  return concat(address_marker, address.offset, "+", address.length);
}

Error checksum_error(Address address, std::string_view what) {
  return Error(ErrorCode::checksum_mismatch,
               concat(what, " at ", address_text(address), " fails its checksum"));
}

std::optional<Address> failed_address(const Error& error) {
  if (error.code() != ErrorCode::checksum_mismatch) return std::nullopt;
  const std::string& message = error.message();
  const size_t at = message.find(address_marker);
  if (at == std::string::npos) return std::nullopt;
  const char* cursor = message.data() + at + address_marker.size();
  const char* end = message.data() + message.size();
  Address address;
  auto [after_offset, offset_error] = std::from_chars(cursor, end, address.offset);
  if (offset_error != std::errc() || after_offset == end || *after_offset != '+') {
    return std::nullopt;
  }
  auto [after_length, length_error] = std::from_chars(after_offset + 1, end, address.length);
  if (length_error != std::errc()) return std::nullopt;
  return address;
}

}  // namespace quire::store
