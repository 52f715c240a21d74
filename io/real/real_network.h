// RealNetwork: io::Network over TCP/IPv4. Sockets are non-blocking and registered once in the
// loop's epoll set, edge-triggered; a fiber tries the syscall first and parks only after EAGAIN,
// so no edge is ever missed. TCP_NODELAY is on: frames are small and latency matters more than
// packet count.
//
// Framing: a u32 little-endian payload length, then the payload. A received length above
// io::max_frame_size_bytes breaks the connection (receive() fails with `closed` and says why).
//
// Backpressure: send() appends the frame to a user-space buffer and writes what the kernel takes;
// the loop writes the rest when the socket turns writable. send() first suspends while that
// buffer holds more than RealRuntimeOptions::connection_send_buffer_bytes_max, so a slow reader
// slows its writers instead of growing memory. receive() reads from the socket only when the
// caller wants a frame, so the kernel's window pushes back on a fast writer.
// See docs/io.md, "Real runtime".
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>

#include "io/network.h"
#include "io/real/byte_queue.h"
#include "io/real/event_loop.h"
#include "io/real/unique_fd.h"
#include "io/sync.h"

namespace quire::io::real {

// One TCP connection. Lifecycle: made by RealNetwork::connect() or TcpListener::accept(); close()
// or the destructor ends it. Methods that wait suspend the calling fiber.
class TcpConnection final : public Connection, private EventSource {
 public:
  // Takes a connected (or connecting) non-blocking socket and adds it to the epoll set.
  // Errors: io_error.
  static Result<std::unique_ptr<TcpConnection>> adopt(Runtime& runtime, EventLoop& loop,
                                                      UniqueFd fd, std::string peer,
                                                      size_t send_buffer_bytes_max);
  ~TcpConnection() override;

  // Suspends while the send buffer is over its bound. Errors: closed, invalid_argument.
  Status send(ByteView frame) override;
  // Frames that arrived complete before the peer closed are still delivered, then `closed`.
  // Errors: closed, timeout.
  Result<Bytes> receive(Instant deadline = Instant::max()) override;
  // Writes what the kernel takes of the send buffer without waiting, then closes the socket;
  // the rest is dropped. Wakes every fiber waiting here with `closed`.
  void close() override;
  std::string peer() const override { return peer_; }

  // Unframed use, for a protocol of its own on the socket (the daemon's HTTP endpoint,
  // tools/http_server.h); never mixed with send() / receive() on one connection.
  // The bytes that arrived, at least one and at most `size_bytes_max`, waiting for some until
  // `deadline`. Errors: closed (the end of the stream included), timeout.
  Result<Bytes> receive_bytes(size_t size_bytes_max, Instant deadline);
  // Queues `bytes` as they are, with no length header; backpressure as send(). Errors: closed.
  Status send_bytes(ByteView bytes);

  // Used by connect(): waits until the non-blocking connect finished. Errors: refused, timeout.
  Status finish_connect(Instant deadline);
  size_t send_buffer_size_bytes() const { return outgoing_.size(); }

 private:
  void on_events(uint32_t events) override;
  // Waits for room, appends `header` then `body` to the send buffer and flushes. Suspends.
  Status queue(ByteView header, ByteView body);
  // Writes from the send buffer until it is empty or the socket would block.
  void flush();
  // Reads up to `wanted` bytes the socket has into the receive buffer. False when the caller
  // must wait for readability (EAGAIN); true after progress, end of file or an error.
  bool fill(size_t wanted);
  // Marks the connection unusable (peer gone, reset, protocol violation) and wakes every waiter.
  void break_with(std::string reason);
  Error closed_error() const;
  TcpConnection(Runtime& runtime, EventLoop& loop, UniqueFd fd, std::string peer,
                size_t send_buffer_bytes_max);

  EventLoop& loop_;
  UniqueFd fd_;
  std::string peer_;
  size_t send_buffer_bytes_max_;
  ByteQueue incoming_;
  ByteQueue outgoing_;
  WaitQueue readers_;  // Fibers in receive() waiting for bytes.
  WaitQueue writers_;  // Fibers in send() waiting for room, or connect waiting for the handshake.
  bool watched_ = false;
  bool closed_here_ = false;
  bool write_blocked_ = false;  // The last write hit EAGAIN; EPOLLOUT resumes flushing.
  bool peer_finished_ = false;  // The peer closed (FIN or reset): sending is pointless.
  bool end_of_stream_ = false;  // Read returned 0 or failed: no more bytes will come.
  std::string broken_reason_;   // Non-empty once the connection broke.
};

class TcpListener final : public Listener, private EventSource {
 public:
  // Takes a listening non-blocking socket bound to `port` and adds it to the epoll set.
  // Errors: io_error.
  static Result<std::unique_ptr<TcpListener>> adopt(Runtime& runtime, EventLoop& loop, UniqueFd fd,
                                                    uint16_t port, size_t send_buffer_bytes_max);
  ~TcpListener() override;

  // Suspends until a peer connects. Errors: closed, io_error (out of descriptors).
  Result<std::unique_ptr<Connection>> accept() override;
  // accept() with the connection's real type, for unframed use (TcpConnection::receive_bytes).
  Result<std::unique_ptr<TcpConnection>> accept_tcp();
  // Wakes a fiber waiting in accept() with `closed`.
  void close() override;
  // The port actually bound: the one asked for, or the one the kernel picked for port 0.
  uint16_t port() const { return port_; }

 private:
  TcpListener(Runtime& runtime, EventLoop& loop, UniqueFd fd, uint16_t port,
              size_t send_buffer_bytes_max);
  void on_events(uint32_t events) override;

  Runtime& runtime_;
  EventLoop& loop_;
  UniqueFd fd_;
  uint16_t port_;
  size_t send_buffer_bytes_max_;
  WaitQueue acceptors_;
  bool watched_ = false;
  bool closed_ = false;
};

class RealNetwork final : public Network {
 public:
  RealNetwork(Runtime& runtime, EventLoop& loop, size_t send_buffer_bytes_max);

  // SO_REUSEADDR; port 0 picks a free port (TcpListener::port()). Errors: already_exists (port
  // in use), invalid_argument (host not numeric IPv4 nor "localhost"), io_error.
  Result<std::unique_ptr<Listener>> listen(const Address& address) override;
  // listen() with the listener's real type (TcpListener::accept_tcp). Errors: as listen().
  Result<std::unique_ptr<TcpListener>> listen_tcp(const Address& address);
  // Errors: refused (ECONNREFUSED, unreachable), timeout (deadline, or the kernel's SYN
  // retries ran out), invalid_argument, io_error.
  Result<std::unique_ptr<Connection>> connect(const Address& address, Instant deadline) override;

 private:
  Runtime& runtime_;
  EventLoop& loop_;
  size_t send_buffer_bytes_max_;
};

// A socket address of either family, as getaddrinfo gives it.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  const sockaddr* as_sockaddr() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// 127.0.0.1 for "localhost"; else numeric IPv4, IPv6 or a name, through getaddrinfo (the first
// address it gives). A name blocks the calling thread for the resolver's answer: /etc/hosts or a
// local resolver answers at once, a remote one may take seconds. Errors: invalid_argument.
Result<SocketAddress> resolve(const Address& address);

}  // namespace quire::io::real
