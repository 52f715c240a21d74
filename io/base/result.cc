#include "io/base/result.h"

namespace quire {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::io_error:
      return "io_error";
    case ErrorCode::corruption:
      return "corruption";
    case ErrorCode::checksum_mismatch:
      return "checksum_mismatch";
    case ErrorCode::not_found:
      return "not_found";
    case ErrorCode::already_exists:
      return "already_exists";
    case ErrorCode::invalid_argument:
      return "invalid_argument";
    case ErrorCode::no_space:
      return "no_space";
    case ErrorCode::timeout:
      return "timeout";
    case ErrorCode::closed:
      return "closed";
    case ErrorCode::refused:
      return "refused";
    case ErrorCode::unreachable:
      return "unreachable";
    case ErrorCode::not_leader:
      return "not_leader";
    case ErrorCode::stale_term:
      return "stale_term";
    case ErrorCode::busy:
      return "busy";
    case ErrorCode::unknown_outcome:
      return "unknown_outcome";
    case ErrorCode::unavailable:
      return "unavailable";
  }
  QUIRE_UNREACHABLE();
}

std::string Error::to_string() const {
  std::string out = error_code_name(code_);
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

}  // namespace quire
