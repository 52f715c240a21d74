#include "tools/http_server.h"

#include "io/base/text.h"

namespace quire::tools {
Result<std::unique_ptr<HttpServer>> HttpServer::start(io::real::RealRuntime& runtime,
                                                      const io::Address& address, Handler handler,
                                                      HttpServerOptions options) {
  QUIRE_ASSERT(options.connections_max > 0);
  QUIRE_TRY_ASSIGN(auto listener, runtime.real_network().listen_tcp(address));
  std::unique_ptr<HttpServer> server(
      new HttpServer(runtime, std::move(listener), std::move(handler), options));
  server->spawn_tracked("http-accept", [server = server.get()] { server->accept_loop(); });
  return server;
}

HttpServer::HttpServer(io::real::RealRuntime& runtime,
                       std::unique_ptr<io::real::TcpListener> listener, Handler handler,
                       HttpServerOptions options)
    : runtime_(runtime),
      listener_(std::move(listener)),
      port_(listener_->port()),
      handler_(std::move(handler)),
      options_(options),
      all_stopped_(runtime) {}

HttpServer::~HttpServer() {
  QUIRE_ASSERT(fibers_running_ == 0 || runtime_.scheduler().killing());
}

void HttpServer::spawn_tracked(std::string name, std::function<void()> body) {
  if (fibers_running_++ == 0) all_stopped_.reset();
  runtime_.spawn(std::move(name), [this, body = std::move(body)] {
    // Counts the fiber out however it ends, the runtime's unwinding included.
    struct Done {
      HttpServer& server;
      ~Done() {
        if (--server.fibers_running_ == 0) server.all_stopped_.set();
      }
    } done{*this};
    body();
  });
}

void HttpServer::stop() {
  stopping_ = true;
  listener_->close();
  // Closing wakes each connection's fiber, which then erases itself.
  for (io::real::TcpConnection* connection : std::set(connections_))
    connection->close();
  if (fibers_running_ > 0) all_stopped_.wait();
  QUIRE_ASSERT(connections_.empty());
}

void HttpServer::accept_loop() {
  while (!stopping_) {
    auto accepted = listener_->accept_tcp();
    if (!accepted.ok()) {
      if (stopping_ || accepted.code() == ErrorCode::closed) return;
      // Out of descriptors, most likely: wait for some to close rather than spin.
      runtime_.trace(concat("http accept failed: ", accepted.error().to_string()));
      runtime_.sleep_for(Duration::milliseconds(100));
      continue;
    }
    std::shared_ptr<io::real::TcpConnection> connection = std::move(*accepted);
    if (connections_.size() >= options_.connections_max) {
      // The small answer fits the socket's buffer: the accept loop does not wait on this peer.
      // What the client already sent is read first (without waiting): unread bytes at close
      // would make the kernel reset the connection, and the client could miss the 503.
      stats_.connections_refused++;
      (void)connection->receive_bytes(http_request_head_size_bytes_max, runtime_.now());
      (void)connection->send_bytes(as_bytes(serialize(
          refusal(503, concat("too many HTTP connections (", options_.connections_max, ")")))));
      connection->close();
      continue;
    }
    connections_.insert(connection.get());
    spawn_tracked(concat("http-", next_connection_++), [this, connection] {
      struct Forget {
        HttpServer& server;
        io::real::TcpConnection* connection;
        ~Forget() { server.connections_.erase(connection); }
      } forget{*this, connection.get()};
      serve(*connection);
      connection->close();
    });
  }
}

HttpResponse HttpServer::answer(io::real::TcpConnection& connection) {
  const Instant deadline = runtime_.now() + options_.request_deadline;
  std::string received;
  for (;;) {
    if (const std::optional<size_t> end = request_head_end(received)) {
      if (*end > http_request_head_size_bytes_max) break;
      auto parsed = parse_request_head(std::string_view(received).substr(0, *end));
      if (auto* refused = std::get_if<HttpResponse>(&parsed)) return std::move(*refused);
      HttpRequest& request = std::get<HttpRequest>(parsed);
      if (std::optional<HttpResponse> refused =
              receive_body(connection, received.substr(*end), deadline, request)) {
        return std::move(*refused);
      }
      HttpResponse response = handler_(request);
      stats_.requests_answered++;
      return response;
    }
    if (received.size() > http_request_head_size_bytes_max) break;
    // Never more than one byte past the bound, whatever the client sends.
    auto bytes =
        connection.receive_bytes(http_request_head_size_bytes_max + 1 - received.size(), deadline);
    if (!bytes.ok()) {
      if (bytes.code() == ErrorCode::timeout) return refusal(408, "no complete request in time");
      return refusal(400, "the connection closed before the request was complete");
    }
    received.append(as_text(*bytes));
  }
  return refusal(431,
                 concat("the request head exceeds ", http_request_head_size_bytes_max, " bytes"));
}

std::optional<HttpResponse> HttpServer::receive_body(io::real::TcpConnection& connection,
                                                     std::string received, Instant deadline,
                                                     HttpRequest& request) {
  QUIRE_ASSERT(request.content_length <= http_request_body_size_bytes_max);
  if (request.content_length == 0) return std::nullopt;
  // The client waits for this before it sends the body (curl does for bodies over 1 MiB); an
  // oversized body was refused with 413 before this point, so it never comes.
  if (request.expects_continue && received.empty() &&
      !connection.send_bytes(as_bytes(std::string_view("HTTP/1.1 100 Continue\r\n\r\n"))).ok()) {
    return refusal(400, "the connection closed before the request was complete");
  }
  while (received.size() < request.content_length) {
    auto bytes = connection.receive_bytes(request.content_length - received.size(), deadline);
    if (!bytes.ok()) {
      if (bytes.code() == ErrorCode::timeout) return refusal(408, "no complete request in time");
      return refusal(400, "the connection closed before the request body was complete");
    }
    received.append(as_text(*bytes));
  }
  // One request per connection: bytes past the body are not a second request, and are dropped.
  received.resize(request.content_length);
  request.body = std::move(received);
  return std::nullopt;
}

void HttpServer::serve(io::real::TcpConnection& connection) {
  HttpResponse response = answer(connection);
  if (response.status >= 400) stats_.requests_refused++;
  finish(connection, response);
}

void HttpServer::finish(io::real::TcpConnection& connection, const HttpResponse& response) {
  if (!connection.send_bytes(as_bytes(serialize(response))).ok()) return;
  const Instant deadline = runtime_.now() + options_.linger;
  // Unread bytes at close make the kernel reset the connection, which can destroy the answer
  // before the client reads it: wait for the client to close first, within bounds.
  while (!stopping_) {
    auto dropped = connection.receive_bytes(64 * 1024, deadline);
    if (!dropped.ok()) return;
  }
}

}  // namespace quire::tools
