// Network: connections that carry whole frames, in order, and fail loudly. A frame sent on a
// live connection is delivered once, in order, or the connection breaks and both ends see
// `closed`; nothing is lost silently inside a connection. Every call may suspend.
//
// Frames are opaque bytes of at most max_frame_size_bytes; a receiver that sees a larger length
// breaks the connection. Integrity beyond TCP's is the caller's: engine/ frames carry their own
// XXH3 because the simulator flips bits in flight (docs/io.md).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "io/base/bytes.h"
#include "io/base/ids.h"
#include "io/base/result.h"

namespace quire::io {

inline constexpr size_t max_frame_size_bytes = 64 * 1024 * 1024;

// "host:port", an IPv6 host in brackets ("[::1]:7101"; `host` holds it without them). The
// simulator resolves host names of its nodes; the real network numeric IPv4 and IPv6 addresses,
// "localhost" (127.0.0.1) and DNS names (getaddrinfo).
struct Address {
  std::string host;
  uint16_t port = 0;

  std::string to_string() const;
  static Result<Address> parse(std::string_view text);
  bool operator==(const Address&) const = default;
};

class Connection {
 public:
  virtual ~Connection() = default;

  // Queues one frame. Suspends while the connection's send buffer is full (backpressure).
  // Errors: closed, invalid_argument (frame too large).
  virtual Status send(ByteView frame) = 0;
  // The next frame. Errors: closed (peer closed, reset, or close() here), timeout.
  virtual Result<Bytes> receive(Instant deadline = Instant::max()) = 0;
  // Breaks the connection; pending and future calls at both ends fail with `closed`.
  virtual void close() = 0;
  virtual std::string peer() const = 0;
};

class Listener {
 public:
  virtual ~Listener() = default;
  // Errors: closed.
  virtual Result<std::unique_ptr<Connection>> accept() = 0;
  virtual void close() = 0;
};

class Network {
 public:
  virtual ~Network() = default;
  // Errors: already_exists (port in use), invalid_argument.
  virtual Result<std::unique_ptr<Listener>> listen(const Address& address) = 0;
  // Errors: unreachable (nobody listens, no route), timeout (no answer by `deadline`), closed.
  virtual Result<std::unique_ptr<Connection>> connect(const Address& address, Instant deadline) = 0;
};

}  // namespace quire::io
