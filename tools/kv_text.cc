#include "tools/kv_text.h"

#include <array>
#include <cstdint>

#include "io/base/text.h"

namespace quire::tools {
namespace {

constexpr std::string_view base64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int hex_digit(char digit) {
  if (digit >= '0' && digit <= '9') return digit - '0';
  if (digit >= 'a' && digit <= 'f') return digit - 'a' + 10;
  if (digit >= 'A' && digit <= 'F') return digit - 'A' + 10;
  return -1;
}

// Each byte's place in the alphabet, or -1.
constexpr std::array<int8_t, 256> base64_places() {
  std::array<int8_t, 256> places{};
  places.fill(-1);
  for (size_t index = 0; index < base64_alphabet.size(); index++) {
    places[static_cast<unsigned char>(base64_alphabet[index])] = static_cast<int8_t>(index);
  }
  return places;
}

}  // namespace

Result<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t index = 0; index < text.size(); index++) {
    if (text[index] != '%') {
      out += text[index];
      continue;
    }
    const bool complete = index + 2 < text.size();
    const int high = complete ? hex_digit(text[index + 1]) : -1;
    const int low = complete ? hex_digit(text[index + 2]) : -1;
    if (high < 0 || low < 0) {
      return Error(ErrorCode::invalid_argument,
                   concat("'", text, "': a '%' not followed by two hex digits"));
    }
    out += static_cast<char>(high * 16 + low);
    index += 2;
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t index = 0; index < bytes.size(); index += 3) {
    const size_t left = bytes.size() - index;
    uint32_t group = static_cast<uint32_t>(static_cast<unsigned char>(bytes[index])) << 16;
    if (left > 1) group |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[index + 1])) << 8;
    if (left > 2) group |= static_cast<unsigned char>(bytes[index + 2]);
    out += base64_alphabet[(group >> 18) & 63];
    out += base64_alphabet[(group >> 12) & 63];
    out += left > 1 ? base64_alphabet[(group >> 6) & 63] : '=';
    out += left > 2 ? base64_alphabet[group & 63] : '=';
  }
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  static constexpr std::array<int8_t, 256> places = base64_places();
  if (text.size() % 4 != 0) {
    return Error(ErrorCode::invalid_argument, "not base64: the length is not a multiple of 4");
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t index = 0; index < text.size(); index += 4) {
    const bool last = index + 4 == text.size();
    const size_t padding = !last ? 0 : text[index + 3] != '=' ? 0 : text[index + 2] == '=' ? 2 : 1;
    uint32_t group = 0;
    for (size_t offset = 0; offset < 4; offset++) {
      const int8_t place =
          offset >= 4 - padding ? 0 : places[static_cast<unsigned char>(text[index + offset])];
      if (place < 0) {
        return Error(ErrorCode::invalid_argument,
                     concat("not base64: byte ", index + offset, " is outside the alphabet"));
      }
      group = group << 6 | static_cast<uint32_t>(place);
    }
    out += static_cast<char>(group >> 16);
    if (padding < 2) out += static_cast<char>((group >> 8) & 0xff);
    if (padding < 1) out += static_cast<char>(group & 0xff);
  }
  return out;
}

bool is_utf8(std::string_view text) {
  size_t index = 0;
  while (index < text.size()) {
    const auto byte = [&](size_t at) { return static_cast<unsigned char>(text[at]); };
    const unsigned char lead = byte(index);
    if (lead < 0x80) {
      index++;
      continue;
    }
    size_t length = 0;
    uint32_t point = 0;
    if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2;
      point = lead & 0x1f;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      point = lead & 0x0f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      point = lead & 0x07;
    } else {
      return false;  // A continuation byte, an overlong lead (c0, c1) or f5 and above.
    }
    if (index + length > text.size()) return false;
    for (size_t offset = 1; offset < length; offset++) {
      if ((byte(index + offset) & 0xc0) != 0x80) return false;
      point = point << 6 | (byte(index + offset) & 0x3f);
    }
    const uint32_t shortest = length == 3 ? 0x800 : length == 4 ? 0x10000 : 0x80;
    if (point < shortest || point > 0x10ffff || (point >= 0xd800 && point <= 0xdfff)) {
      return false;
    }
    index += length;
  }
  return true;
}

}  // namespace quire::tools
