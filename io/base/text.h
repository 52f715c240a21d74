// concat(): builds error messages and trace lines from strings and integers without iostreams.
#pragma once

#include <concepts>
#include <string>
#include <string_view>

namespace quire {

namespace detail {
inline void append_piece(std::string& out, std::string_view piece) {
  out.append(piece);
}
inline void append_piece(std::string& out, const char* piece) {
  out.append(piece);
}
inline void append_piece(std::string& out, const std::string& piece) {
  out.append(piece);
}
inline void append_piece(std::string& out, char piece) {
  out.push_back(piece);
}
inline void append_piece(std::string& out, bool piece) {
  out.append(piece ? "true" : "false");
}
template <std::integral T>
void append_piece(std::string& out, T piece) {
  out.append(std::to_string(piece));
}
template <class T>
requires requires(const T& value) {
  value.value();
}
void append_piece(std::string& out, const T& piece) {
  out.append(std::to_string(piece.value()));
}
}  // namespace detail

template <class... Pieces>
std::string concat(const Pieces&... pieces) {
  std::string out;
  (detail::append_piece(out, pieces), ...);
  return out;
}

// Lower-case hexadecimal, most significant nibble first, always 16 digits.
std::string hex64(unsigned long long value);

}  // namespace quire
