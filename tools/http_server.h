// HttpServer: quired's HTTP endpoint (docs/operations.md, "HTTP: status, health and metrics"),
// served on the node's own fiber runtime: a listener fiber and one fiber per connection, on the
// same epoll loop as the node, so a handler reads the node's state directly, with no lock and
// no hand-off between threads, and a handler that suspends costs a fiber, not a thread.
//
// One request per connection (the response says Connection: close). Every resource is bounded:
// at most connections_max connections at once (a connection beyond them gets 503 at once), a
// request head of http_request_head_size_bytes_max (431 past it), a body of
// http_request_body_size_bytes_max (413 past it, refused before it is read), and
// request_deadline to receive the head and the body (408 past it). After the response the server
// reads and drops what the client still sends, for at most linger, so that closing does not reset
// the connection under an answer the client has not read yet.
//
// Lifecycle: start() listens; stop() closes the listener and every connection and waits for the
// server's fibers. Both on the runtime's thread; stop() suspends, and must run before the
// handler's state goes away.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>

#include "io/network.h"
#include "io/real/real_network.h"
#include "io/real/real_runtime.h"
#include "io/sync.h"
#include "tools/http_request.h"

namespace quire::tools {

struct HttpServerOptions {
  size_t connections_max = 64;
  Duration request_deadline = Duration::seconds(5);
  Duration linger = Duration::seconds(1);
};

struct HttpServerStats {
  uint64_t requests_answered = 0;    // Parsed and answered by the handler.
  uint64_t requests_refused = 0;     // Any 4xx or 5xx: malformed, oversized, late, refused.
  uint64_t connections_refused = 0;  // Over connections_max: 503.
};

class HttpServer {
 public:
  // Answers one parsed request. May suspend; runs in the connection's fiber.
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  // Errors: those of RealNetwork::listen_tcp (already_exists: the port is in use).
  static Result<std::unique_ptr<HttpServer>> start(io::real::RealRuntime& runtime,
                                                   const io::Address& address, Handler handler,
                                                   HttpServerOptions options = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Suspends until every fiber of the server ended.
  void stop();
  uint16_t port() const { return port_; }
  const HttpServerStats& stats() const { return stats_; }

 private:
  HttpServer(io::real::RealRuntime& runtime, std::unique_ptr<io::real::TcpListener> listener,
             Handler handler, HttpServerOptions options);
  void accept_loop();
  void serve(io::real::TcpConnection& connection);
  // The response to what the client sent before the deadline. Suspends.
  HttpResponse answer(io::real::TcpConnection& connection);
  // Reads the rest of the request's body after `received` (the bytes past the head), before
  // `deadline`, into request.body; the refusal to send if it does not come (400, 408). Suspends.
  std::optional<HttpResponse> receive_body(io::real::TcpConnection& connection,
                                           std::string received, Instant deadline,
                                           HttpRequest& request);
  // Sends `response`, then drops what still arrives until the client closes or `linger` ends.
  void finish(io::real::TcpConnection& connection, const HttpResponse& response);
  void spawn_tracked(std::string name, std::function<void()> body);

  io::real::RealRuntime& runtime_;
  std::unique_ptr<io::real::TcpListener> listener_;
  uint16_t port_;
  Handler handler_;
  HttpServerOptions options_;
  std::set<io::real::TcpConnection*> connections_;
  bool stopping_ = false;
  size_t fibers_running_ = 0;
  io::Event all_stopped_;
  uint64_t next_connection_ = 0;
  HttpServerStats stats_;
};

}  // namespace quire::tools
