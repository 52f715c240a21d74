// Result<T>: the return type of everything that can fail at run time (I/O, checksums, peers).
// Programmer errors are assertions instead (assert.h). An error code exists only where some
// caller reacts to it differently; the message is for people. See STYLE.md, "Errors".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "io/base/assert.h"

namespace quire {

enum class ErrorCode : uint8_t {
  io_error,           // The device or the kernel failed the operation.
  corruption,         // Bytes are structurally invalid (bad magic, impossible length).
  checksum_mismatch,  // Bytes fail their checksum: repairable from a peer.
  not_found,          // A file, key, commit point or peer does not exist.
  already_exists,     // Create of something that exists.
  invalid_argument,   // A caller or a user passed something malformed.
  no_space,           // The disk is full.
  timeout,            // A deadline passed.
  closed,             // The connection or the object was closed, or its node is going down.
  refused,            // The member refused us in its handshake (wrong group, token, protocol,
                      // member list): final, no retry mends it.
  unreachable,        // Nobody listens at that address (connection refused, no route, reset
                      // during connect): the member is down; try another.
  not_leader,         // A write or linearizable read reached a member that is not the leader.
  stale_term,         // A message or a request carries a term older than the receiver's.
  busy,               // A bounded queue is full: back off and retry.
  unknown_outcome,    // A write may or may not have committed.
  unavailable,        // No quorum, or the data is not (yet) held here.
};

const char* error_code_name(ErrorCode code);

class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "checksum_mismatch: record at 4096+512 fails XXH3"
  std::string to_string() const;

 private:
  ErrorCode code_;
  std::string message_;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit.
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit.

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    QUIRE_ASSERT_MSG(ok(), std::get<1>(state_).to_string());
    return std::get<0>(state_);
  }
  const T& value() const& {
    QUIRE_ASSERT_MSG(ok(), std::get<1>(state_).to_string());
    return std::get<0>(state_);
  }
  T&& value() && {
    QUIRE_ASSERT_MSG(ok(), std::get<1>(state_).to_string());
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& {
    QUIRE_ASSERT(!ok());
    return std::get<1>(state_);
  }
  Error&& error() && {
    QUIRE_ASSERT(!ok());
    return std::get<1>(std::move(state_));
  }
  ErrorCode code() const { return error().code(); }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit.

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  void value() const { QUIRE_ASSERT_MSG(ok(), error_->to_string()); }

  const Error& error() const& {
    QUIRE_ASSERT(!ok());
    return *error_;
  }
  Error&& error() && {
    QUIRE_ASSERT(!ok());
    return std::move(*error_);
  }
  ErrorCode code() const { return error().code(); }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

inline Status ok_status() {
  return {};
}

}  // namespace quire

#define QUIRE_CONCAT_INNER(a, b) a##b
#define QUIRE_CONCAT(a, b) QUIRE_CONCAT_INNER(a, b)

// Returns the error of `expression` (a Result) from the enclosing function.
#define QUIRE_TRY(expression)                                               \
  do {                                                                      \
    auto quire_try_result = (expression);                                   \
    if (!quire_try_result.ok()) return std::move(quire_try_result).error(); \
  } while (false)

// Declares `target` from the value of `expression`, or returns its error.
#define QUIRE_TRY_ASSIGN(target, expression)                      \
  auto QUIRE_CONCAT(quire_try_, __LINE__) = (expression);         \
  if (!QUIRE_CONCAT(quire_try_, __LINE__).ok())                   \
    return std::move(QUIRE_CONCAT(quire_try_, __LINE__)).error(); \
  target = std::move(QUIRE_CONCAT(quire_try_, __LINE__)).value()
