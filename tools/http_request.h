// The HTTP/1.1 that quired's HTTP endpoint speaks (docs/operations.md, "HTTP: status, health and
// metrics" and "HTTP JSON API"): GET, PUT, POST and DELETE, one request per connection, a request
// head of at most http_request_head_size_bytes_max and, for PUT and POST, a body of at most
// http_request_body_size_bytes_max announced by Content-Length. Parsing is a pure function of the
// bytes received, so that every malformed or oversized request has one answer (400, 405, 411, 413,
// 431, 505) and a unit test (tests/tools/http_request_test.cc); the sockets are
// tools/http_server.h's.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace quire::tools {

// Enough for any scraper's or curl's head; a longer one is refused with 431, not buffered.
inline constexpr size_t http_request_head_size_bytes_max = 8 * 1024;
// A PUT or POST body: a value or a transaction of the JSON API. A larger one is refused with 413
// before it is read, so a connection never buffers more than this (64 connections: 64 MiB).
inline constexpr size_t http_request_body_size_bytes_max = 1024 * 1024;

struct HttpRequest {
  std::string method;  // "GET", "PUT", "POST" or "DELETE" once parsed.
  std::string path;    // "/status": the target up to '?', not decoded.
  std::string query;   // "HA": after '?', not decoded ("" when none).
  // PUT and POST: the body's size as Content-Length announced it (0 for GET and DELETE).
  size_t content_length = 0;
  bool expects_continue = false;  // "Expect: 100-continue": the client waits before the body.
  std::string body;               // Filled by the server once content_length bytes arrived.
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Beyond Content-Type, Content-Length, Connection and Cache-Control: Allow, Retry-After, ...
  std::vector<std::pair<std::string, std::string>> headers;
};

// A plain-text answer with `status` and `reason` as its body (a 4xx or 5xx).
HttpResponse refusal(int status, std::string reason);
// 405 for `method`, with the Allow header listing `allowed` ("GET" or "GET, PUT, DELETE").
HttpResponse method_not_allowed(std::string_view method, std::string_view allowed);

// Where the head ends in `received` (just past its empty line, CRLF CRLF or LF LF), if it does.
std::optional<size_t> request_head_end(std::string_view received);

// The request in a complete head (what request_head_end() delimits), or the refusal to send:
// 400 (malformed, or a body on GET or DELETE), 405 (a method other than GET, PUT, POST, DELETE),
// 411 (a chunked body: Content-Length is required), 413 (a body over
// http_request_body_size_bytes_max), 505 (not HTTP/1.x).
std::variant<HttpRequest, HttpResponse> parse_request_head(std::string_view head);

// The response as bytes: status line, Content-Type, Content-Length, the extra headers,
// Connection: close, body.
std::string serialize(const HttpResponse& response);
// "OK", "Bad Request", ...; "" for a status this server never sends.
std::string_view reason_phrase(int status);

}  // namespace quire::tools
