// The HTTP/1.1 that quired's status endpoint speaks (docs/operations.md, "HTTP: status, health and
// metrics"): GET only, one request per connection, a request head of at most
// http_request_head_size_bytes_max. Parsing is a pure function of the bytes received, so that every
// malformed or oversized request has one answer (400, 405, 431, 505) and a unit test
// (tests/tools/http_request_test.cc); the sockets are tools/http_server.h's.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace quire::tools {

// Enough for any scraper's or curl's head; a longer one is refused with 431, not buffered.
inline constexpr size_t http_request_head_size_bytes_max = 8 * 1024;

struct HttpRequest {
  std::string method;  // Always "GET" once parsed.
  std::string path;    // "/status": the target up to '?'.
  std::string query;   // "HA": after '?', not decoded ("" when none).
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// A plain-text answer with `status` and `reason` as its body (a 4xx or 5xx).
HttpResponse refusal(int status, std::string reason);

// Where the head ends in `received` (just past its empty line, CRLF CRLF or LF LF), if it does.
std::optional<size_t> request_head_end(std::string_view received);

// The request in a complete head (what request_head_end() delimits), or the refusal to send:
// 400 (malformed, or a body announced), 405 (a method other than GET), 505 (not HTTP/1.x).
std::variant<HttpRequest, HttpResponse> parse_request_head(std::string_view head);

// The response as bytes: status line, Content-Type, Content-Length, Connection: close, body.
std::string serialize(const HttpResponse& response);
// "OK", "Bad Request", ...; "" for a status this server never sends.
std::string_view reason_phrase(int status);

}  // namespace quire::tools
