// The byte encodings of the JSON key-value API (docs/operations.md, "HTTP JSON API"): keys in
// paths and query strings are percent-encoded, keys and values in JSON bodies UTF-8 or base64.
#pragma once

#include <string>
#include <string_view>

#include "io/base/result.h"

namespace quire::tools {

// "%41b" -> "Ab"; '+' stays a plus (RFC 3986, not HTML forms). Errors: invalid_argument (a '%'
// without two hex digits).
Result<std::string> percent_decode(std::string_view text);
// RFC 4648 base64, padded.
std::string base64_encode(std::string_view bytes);
// Errors: invalid_argument (a length not a multiple of 4, a byte outside the alphabet, padding
// anywhere but at the end).
Result<std::string> base64_decode(std::string_view text);
// Well-formed UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_utf8(std::string_view text);

}  // namespace quire::tools
