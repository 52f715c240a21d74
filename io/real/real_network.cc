#include "io/real/real_network.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "io/base/text.h"
#include "io/real/errno_text.h"

namespace quire::io::real {
namespace {

constexpr size_t frame_header_size_bytes = 4;
// Bytes asked of the kernel per read when no large frame is pending.
constexpr size_t read_chunk_size_bytes = 64 * 1024;
constexpr int listen_backlog = 512;
constexpr uint32_t socket_events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

std::string address_text(const sockaddr_storage& address) {
  char host[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET6) {
    const auto& ipv6 = reinterpret_cast<const sockaddr_in6&>(address);
    ::inet_ntop(AF_INET6, &ipv6.sin6_addr, host, sizeof host);
    return Address{std::string(host), ntohs(ipv6.sin6_port)}.to_string();
  }
  const auto& ipv4 = reinterpret_cast<const sockaddr_in&>(address);
  ::inet_ntop(AF_INET, &ipv4.sin_addr, host, sizeof host);
  return Address{std::string(host), ntohs(ipv4.sin_port)}.to_string();
}

uint16_t port_of(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
}

void set_no_delay(int fd) {
  const int on = 1;
  // Failure costs latency, not correctness (Nagle's algorithm stays on).
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

Error connect_error(int error_number, std::string_view peer) {
  const std::string message = concat("connect to ", peer, ": ", errno_text(error_number));
  switch (error_number) {
    case ECONNREFUSED:
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ECONNRESET:
      return Error(ErrorCode::unreachable, message);
    case ETIMEDOUT:
      return Error(ErrorCode::timeout, message);
    default:
      return Error(ErrorCode::io_error, message);
  }
}

}  // namespace

Result<SocketAddress> resolve(const Address& address) {
  // "localhost" stays 127.0.0.1, as before names were resolved: a resolver that lists ::1 first
  // must not move a member's listener off the address its peers and clients dial.
  const std::string host = address.host == "localhost" ? "127.0.0.1" : address.host;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int status = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (status != 0 || found == nullptr) {
    const std::string reason = status == EAI_SYSTEM ? errno_text(errno) : ::gai_strerror(status);
    if (found != nullptr) ::freeaddrinfo(found);
    return Error(ErrorCode::invalid_argument,
                 concat("host '", address.host, "' does not resolve: ", reason));
  }
  // The first answer, for listen and connect alike, so both ends agree on the family.
  SocketAddress result;
  QUIRE_ASSERT(found->ai_addrlen <= sizeof result.storage);
  std::memcpy(&result.storage, found->ai_addr, found->ai_addrlen);
  result.length = static_cast<socklen_t>(found->ai_addrlen);
  ::freeaddrinfo(found);
  if (result.storage.ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6&>(result.storage).sin6_port = htons(address.port);
  } else {
    QUIRE_ASSERT(result.storage.ss_family == AF_INET);
    reinterpret_cast<sockaddr_in&>(result.storage).sin_port = htons(address.port);
  }
  return result;
}

// ---- TcpConnection ----

Result<std::unique_ptr<TcpConnection>> TcpConnection::adopt(Runtime& runtime, EventLoop& loop,
                                                            UniqueFd fd, std::string peer,
                                                            size_t send_buffer_bytes_max) {
  const int raw_fd = fd.get();
  std::unique_ptr<TcpConnection> connection(
      new TcpConnection(runtime, loop, std::move(fd), std::move(peer), send_buffer_bytes_max));
  QUIRE_TRY(loop.watch(raw_fd, socket_events, static_cast<EventSource*>(connection.get())));
  connection->watched_ = true;
  return connection;
}

TcpConnection::TcpConnection(Runtime& runtime, EventLoop& loop, UniqueFd fd, std::string peer,
                             size_t send_buffer_bytes_max)
    : loop_(loop),
      fd_(std::move(fd)),
      peer_(std::move(peer)),
      send_buffer_bytes_max_(send_buffer_bytes_max),
      readers_(runtime),
      writers_(runtime) {
  QUIRE_ASSERT(fd_.valid());
  QUIRE_ASSERT(send_buffer_bytes_max_ > 0);
}

TcpConnection::~TcpConnection() {
  close();
  QUIRE_ASSERT(readers_.empty() && writers_.empty());
}

Status TcpConnection::finish_connect(Instant deadline) {
  for (;;) {
    if (closed_here_) return closed_error();
    int error_number = 0;
    socklen_t length = sizeof error_number;
    if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error_number, &length) < 0) {
      error_number = errno;
    }
    if (error_number != 0) return connect_error(error_number, peer_);
    sockaddr_storage peer_address{};
    socklen_t peer_length = sizeof peer_address;
    if (::getpeername(fd_.get(), reinterpret_cast<sockaddr*>(&peer_address), &peer_length) == 0) {
      return ok_status();
    }
    if (errno != ENOTCONN) {
      return Error(ErrorCode::io_error, concat("getpeername ", peer_, ": ", errno_text(errno)));
    }
    EventLoop::IoWaitScope waiting(loop_);
    if (!writers_.wait(deadline)) {
      return Error(ErrorCode::timeout, concat("connect to ", peer_, " timed out"));
    }
  }
}

Status TcpConnection::send(ByteView frame) {
  if (frame.size() > max_frame_size_bytes) {
    return Error(ErrorCode::invalid_argument,
                 concat("frame of ", frame.size(), " bytes to ", peer_, " exceeds the limit of ",
                        max_frame_size_bytes));
  }
  uint8_t header[frame_header_size_bytes];
  store_le<uint32_t>(header, static_cast<uint32_t>(frame.size()));
  return queue(ByteView(header, sizeof header), frame);
}

Status TcpConnection::send_bytes(ByteView bytes) {
  return queue(ByteView(), bytes);
}

Status TcpConnection::queue(ByteView header, ByteView body) {
  for (;;) {
    if (closed_here_ || peer_finished_ || !broken_reason_.empty()) return closed_error();
    if (outgoing_.size() <= send_buffer_bytes_max_) break;
    EventLoop::IoWaitScope waiting(loop_);
    writers_.wait();
  }
  outgoing_.append(header);
  outgoing_.append(body);
  if (!write_blocked_) flush();
  if (!broken_reason_.empty()) return closed_error();
  return ok_status();
}

void TcpConnection::flush() {
  QUIRE_ASSERT(!closed_here_);
  while (!outgoing_.empty()) {
    const ByteView pending = outgoing_.readable();
    const ssize_t count = ::send(fd_.get(), pending.data(), pending.size(), MSG_NOSIGNAL);
    if (count >= 0) {
      outgoing_.consume(static_cast<size_t>(count));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      write_blocked_ = true;
      break;
    }
    break_with(concat("send: ", errno_text(errno)));
    return;
  }
  if (outgoing_.size() <= send_buffer_bytes_max_) writers_.notify_all();
}

Result<Bytes> TcpConnection::receive(Instant deadline) {
  for (;;) {
    if (closed_here_) return closed_error();
    const ByteView buffered = incoming_.readable();
    if (buffered.size() >= frame_header_size_bytes) {
      const uint32_t length = load_le<uint32_t>(buffered.data());
      if (length > max_frame_size_bytes) {
        break_with(concat("peer sent a frame of ", length, " bytes, above the limit of ",
                          max_frame_size_bytes));
        incoming_.clear();
        return closed_error();
      }
      const size_t frame_end = frame_header_size_bytes + length;
      if (buffered.size() >= frame_end) {
        Bytes frame(buffered.begin() + frame_header_size_bytes, buffered.begin() + frame_end);
        incoming_.consume(frame_end);
        return frame;
      }
    }
    // A partial frame at the end of the stream is dropped with the connection.
    if (end_of_stream_) return closed_error();
    // Room for the rest of a large pending frame at once, so it arrives in few reads.
    size_t wanted = read_chunk_size_bytes;
    if (buffered.size() >= frame_header_size_bytes) {
      const size_t frame_end = frame_header_size_bytes + load_le<uint32_t>(buffered.data());
      if (frame_end > buffered.size()) wanted = std::max(wanted, frame_end - buffered.size());
    }
    if (fill(wanted)) continue;
    EventLoop::IoWaitScope waiting(loop_);
    if (!readers_.wait(deadline)) {
      return Error(ErrorCode::timeout, concat("receive from ", peer_, " timed out"));
    }
  }
}

Result<Bytes> TcpConnection::receive_bytes(size_t size_bytes_max, Instant deadline) {
  QUIRE_ASSERT(size_bytes_max > 0);
  for (;;) {
    if (closed_here_) return closed_error();
    const ByteView buffered = incoming_.readable();
    if (!buffered.empty()) {
      const size_t count = std::min(buffered.size(), size_bytes_max);
      Bytes bytes(buffered.begin(), buffered.begin() + static_cast<ptrdiff_t>(count));
      incoming_.consume(count);
      return bytes;
    }
    if (end_of_stream_) return closed_error();
    // Never more than asked for: an unframed peer must not make this end buffer more.
    if (fill(size_bytes_max)) continue;
    EventLoop::IoWaitScope waiting(loop_);
    if (!readers_.wait(deadline)) {
      return Error(ErrorCode::timeout, concat("receive from ", peer_, " timed out"));
    }
  }
}

bool TcpConnection::fill(size_t wanted) {
  QUIRE_ASSERT(!closed_here_ && !end_of_stream_);
  QUIRE_ASSERT(wanted > 0);
  for (;;) {
    const MutableByteView target = incoming_.prepare(wanted);
    const ssize_t count = ::recv(fd_.get(), target.data(), target.size(), 0);
    if (count > 0) {
      incoming_.commit(static_cast<size_t>(count));
      return true;
    }
    if (count == 0) {
      break_with("peer closed the connection");
      return true;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
    break_with(concat("recv: ", errno_text(errno)));
    return true;
  }
}

void TcpConnection::break_with(std::string reason) {
  QUIRE_ASSERT(!reason.empty());
  if (!broken_reason_.empty()) return;
  broken_reason_ = std::move(reason);
  end_of_stream_ = true;
  peer_finished_ = true;
  outgoing_.clear();
  // Tells the peer at once (EOF or reset) instead of when this end gets closed.
  (void)::shutdown(fd_.get(), SHUT_RDWR);
  readers_.notify_all();
  writers_.notify_all();
}

Error TcpConnection::closed_error() const {
  if (closed_here_)
    return Error(ErrorCode::closed, concat("connection to ", peer_, " closed here"));
  if (!broken_reason_.empty()) {
    return Error(ErrorCode::closed, concat("connection to ", peer_, " broke: ", broken_reason_));
  }
  QUIRE_ASSERT(peer_finished_);
  return Error(ErrorCode::closed, concat("connection to ", peer_, " closed by the peer"));
}

void TcpConnection::on_events(uint32_t events) {
  QUIRE_ASSERT(!closed_here_);  // close() removes the socket from the epoll set.
  // The protocol never half-closes, so a FIN means the peer closed the whole connection.
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) peer_finished_ = true;
  // Senders parked on a full buffer learn of a FIN at once, not when the reset follows.
  if (events & (EPOLLOUT | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    write_blocked_ = false;
    if (broken_reason_.empty()) flush();
    writers_.notify_all();
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readers_.notify_all();
}

void TcpConnection::close() {
  if (closed_here_) return;
  // Best effort: what the kernel takes now still reaches the peer; the rest is dropped.
  if (broken_reason_.empty() && !write_blocked_ && !outgoing_.empty()) flush();
  closed_here_ = true;
  if (watched_) loop_.unwatch(fd_.get());
  watched_ = false;
  fd_.reset();
  outgoing_.clear();
  incoming_.clear();
  readers_.notify_all();
  writers_.notify_all();
}

// ---- TcpListener ----

Result<std::unique_ptr<TcpListener>> TcpListener::adopt(Runtime& runtime, EventLoop& loop,
                                                        UniqueFd fd, uint16_t port,
                                                        size_t send_buffer_bytes_max) {
  const int raw_fd = fd.get();
  std::unique_ptr<TcpListener> listener(
      new TcpListener(runtime, loop, std::move(fd), port, send_buffer_bytes_max));
  QUIRE_TRY(loop.watch(raw_fd, EPOLLIN | EPOLLET, static_cast<EventSource*>(listener.get())));
  listener->watched_ = true;
  return listener;
}

TcpListener::TcpListener(Runtime& runtime, EventLoop& loop, UniqueFd fd, uint16_t port,
                         size_t send_buffer_bytes_max)
    : runtime_(runtime),
      loop_(loop),
      fd_(std::move(fd)),
      port_(port),
      send_buffer_bytes_max_(send_buffer_bytes_max),
      acceptors_(runtime) {
  QUIRE_ASSERT(fd_.valid());
  QUIRE_ASSERT(port_ != 0);
}

TcpListener::~TcpListener() {
  close();
}

Result<std::unique_ptr<Connection>> TcpListener::accept() {
  QUIRE_TRY_ASSIGN(auto connection, accept_tcp());
  return std::unique_ptr<Connection>(std::move(connection));
}

Result<std::unique_ptr<TcpConnection>> TcpListener::accept_tcp() {
  for (;;) {
    if (closed_) return Error(ErrorCode::closed, concat("listener on port ", port_, " closed"));
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    UniqueFd fd(::accept4(fd_.get(), reinterpret_cast<sockaddr*>(&peer), &length,
                          SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (fd.valid()) {
      set_no_delay(fd.get());
      return TcpConnection::adopt(runtime_, loop_, std::move(fd), address_text(peer),
                                  send_buffer_bytes_max_);
    }
    // ECONNABORTED: a peer gave up while queued; take the next one.
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return Error(ErrorCode::io_error, concat("accept on port ", port_, ": ", errno_text(errno)));
    }
    EventLoop::IoWaitScope waiting(loop_);
    acceptors_.wait();
  }
}

void TcpListener::on_events(uint32_t /*events*/) {
  acceptors_.notify_all();
}

void TcpListener::close() {
  if (closed_) return;
  closed_ = true;
  if (watched_) loop_.unwatch(fd_.get());
  watched_ = false;
  fd_.reset();
  acceptors_.notify_all();
}

// ---- RealNetwork ----

RealNetwork::RealNetwork(Runtime& runtime, EventLoop& loop, size_t send_buffer_bytes_max)
    : runtime_(runtime), loop_(loop), send_buffer_bytes_max_(send_buffer_bytes_max) {}

Result<std::unique_ptr<Listener>> RealNetwork::listen(const Address& address) {
  QUIRE_TRY_ASSIGN(auto listener, listen_tcp(address));
  return std::unique_ptr<Listener>(std::move(listener));
}

Result<std::unique_ptr<TcpListener>> RealNetwork::listen_tcp(const Address& address) {
  QUIRE_TRY_ASSIGN(const SocketAddress local, resolve(address));
  UniqueFd fd(::socket(local.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error(ErrorCode::io_error, concat("socket: ", errno_text(errno)));
  const int on = 1;
  // A restarted node must get its port back while old connections sit in TIME_WAIT.
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0) {
    return Error(ErrorCode::io_error, concat("SO_REUSEADDR: ", errno_text(errno)));
  }
  if (::bind(fd.get(), local.as_sockaddr(), local.length) < 0) {
    const int error_number = errno;
    const std::string message =
        concat("bind ", address.to_string(), ": ", errno_text(error_number));
    if (error_number == EADDRINUSE) return Error(ErrorCode::already_exists, message);
    if (error_number == EADDRNOTAVAIL) return Error(ErrorCode::invalid_argument, message);
    return Error(ErrorCode::io_error, message);
  }
  if (::listen(fd.get(), listen_backlog) < 0) {
    const int error_number = errno;
    return Error(error_number == EADDRINUSE ? ErrorCode::already_exists : ErrorCode::io_error,
                 concat("listen ", address.to_string(), ": ", errno_text(error_number)));
  }
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &length) < 0) {
    return Error(ErrorCode::io_error, concat("getsockname: ", errno_text(errno)));
  }
  return TcpListener::adopt(runtime_, loop_, std::move(fd), port_of(bound), send_buffer_bytes_max_);
}

Result<std::unique_ptr<Connection>> RealNetwork::connect(const Address& address, Instant deadline) {
  QUIRE_TRY_ASSIGN(const SocketAddress remote, resolve(address));
  UniqueFd fd(::socket(remote.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error(ErrorCode::io_error, concat("socket: ", errno_text(errno)));
  set_no_delay(fd.get());
  int status = 0;
  do {
    status = ::connect(fd.get(), remote.as_sockaddr(), remote.length);
  } while (status < 0 && errno == EINTR);
  if (status < 0 && errno != EINPROGRESS) return connect_error(errno, address.to_string());
  // Registered only now: an unconnected socket reports EPOLLHUP, a connecting one nothing.
  QUIRE_TRY_ASSIGN(auto connection,
                   TcpConnection::adopt(runtime_, loop_, std::move(fd), address.to_string(),
                                        send_buffer_bytes_max_));
  QUIRE_TRY(connection->finish_connect(deadline));
  return std::unique_ptr<Connection>(std::move(connection));
}

}  // namespace quire::io::real
