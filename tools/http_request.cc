#include "tools/http_request.h"

#include <algorithm>
#include <cctype>

#include "io/base/assert.h"
#include "io/base/text.h"

namespace quire::tools {
namespace {

// RFC 9110 token characters: what a method and a header name may hold.
bool is_token(std::string_view text) {
  constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [&](char each) {
    return std::isalnum(static_cast<unsigned char>(each)) || extra.find(each) != extra.npos;
  });
}

// Visible ASCII only: no spaces, controls or bytes above 0x7e in a target.
bool is_visible(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char each) { return each > 0x20 && each < 0x7f; });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

bool equals_ignoring_case(std::string_view left, std::string_view right) {
  return left.size() == right.size() &&
         std::equal(left.begin(), left.end(), right.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

// The next line of `text` without its CRLF or LF; advances `text` past it.
std::string_view next_line(std::string_view& text) {
  const size_t end = text.find('\n');
  std::string_view line = text.substr(0, end);
  text = end == text.npos ? std::string_view() : text.substr(end + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// Content-Length as a decimal number of at most 19 digits (no sign, no spaces inside).
std::optional<size_t> parse_length(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  size_t length = 0;
  for (const char digit : text) {
    if (digit < '0' || digit > '9') return std::nullopt;
    length = length * 10 + static_cast<size_t>(digit - '0');
  }
  return length;
}

// The headers after the request line: only their shape is checked, and the three that frame a
// body (Content-Length, Transfer-Encoding, Expect). The refusal to send, if any.
std::optional<HttpResponse> read_headers(std::string_view head, HttpRequest& request) {
  std::optional<size_t> announced;
  while (!head.empty()) {
    const std::string_view line = next_line(head);
    if (line.empty()) break;
    const size_t colon = line.find(':');
    if (colon == line.npos || !is_token(line.substr(0, colon))) {
      return refusal(400, "malformed header line");
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (equals_ignoring_case(name, "Transfer-Encoding")) {
      // A chunked body has no length to bound before reading it.
      if (request.method == "PUT" || request.method == "POST") {
        return refusal(411, "chunked bodies are not accepted: send Content-Length");
      }
      return refusal(400, concat("a request body is not accepted with ", request.method));
    }
    if (equals_ignoring_case(name, "Content-Length")) {
      const std::optional<size_t> length = parse_length(value);
      if (!length || (announced && *announced != *length)) {
        return refusal(400, "malformed Content-Length");
      }
      announced = length;
    }
    if (equals_ignoring_case(name, "Expect")) {
      if (!equals_ignoring_case(value, "100-continue")) {
        return refusal(400, "Expect: only 100-continue");
      }
      request.expects_continue = true;
    }
  }
  request.content_length = announced.value_or(0);
  return std::nullopt;
}

}  // namespace

HttpResponse method_not_allowed(std::string_view method, std::string_view allowed) {
  HttpResponse response = refusal(405, concat("method ", method, " not allowed; only ", allowed));
  response.headers.emplace_back("Allow", std::string(allowed));
  return response;
}

HttpResponse refusal(int status, std::string reason) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(reason) + "\n";
  return response;
}

std::optional<size_t> request_head_end(std::string_view received) {
  // The first empty line ends the head, whichever line ending the client uses.
  size_t line_begin = 0;
  while (line_begin < received.size()) {
    const size_t end = received.find('\n', line_begin);
    if (end == received.npos) return std::nullopt;
    const size_t length = end - line_begin;
    if (length == 0 || (length == 1 && received[line_begin] == '\r')) return end + 1;
    line_begin = end + 1;
  }
  return std::nullopt;
}

std::variant<HttpRequest, HttpResponse> parse_request_head(std::string_view head) {
  QUIRE_ASSERT(head.size() <= http_request_head_size_bytes_max);
  const std::string_view request_line = next_line(head);
  const size_t first_space = request_line.find(' ');
  const size_t second_space = first_space == request_line.npos
                                  ? request_line.npos
                                  : request_line.find(' ', first_space + 1);
  if (second_space == request_line.npos ||
      request_line.find(' ', second_space + 1) != request_line.npos) {
    return refusal(400, "malformed request line");
  }
  const std::string_view method = request_line.substr(0, first_space);
  const std::string_view target =
      request_line.substr(first_space + 1, second_space - first_space - 1);
  const std::string_view version = request_line.substr(second_space + 1);
  if (!is_token(method)) return refusal(400, "malformed method");
  if (target.empty() || target.front() != '/' || !is_visible(target)) {
    return refusal(400, "the target must be a path such as /status");
  }
  if (!version.starts_with("HTTP/") || version.size() != 8 || version[6] != '.') {
    return refusal(400, "malformed HTTP version");
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return refusal(505, "HTTP/1.x only");
  HttpRequest request;
  request.method = std::string(method);
  if (std::optional<HttpResponse> refused = read_headers(head, request)) return *refused;
  if (method != "GET" && method != "PUT" && method != "POST" && method != "DELETE") {
    return method_not_allowed(method, "GET, PUT, POST, DELETE");
  }
  if (request.content_length > 0 && (method == "GET" || method == "DELETE")) {
    return refusal(400, concat("a request body is not accepted with ", method));
  }
  if (request.content_length > http_request_body_size_bytes_max) {
    return refusal(413, concat("the request body of ", request.content_length, " bytes exceeds ",
                               http_request_body_size_bytes_max, " bytes"));
  }
  const size_t question = target.find('?');
  request.path = std::string(target.substr(0, question));
  if (question != target.npos) request.query = std::string(target.substr(question + 1));
  return request;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "";
  }
}

std::string serialize(const HttpResponse& response) {
  const std::string_view reason = reason_phrase(response.status);
  QUIRE_ASSERT_MSG(!reason.empty(), concat("no reason phrase for status ", response.status));
  std::string bytes =
      concat("HTTP/1.1 ", response.status, " ", reason, "\r\nContent-Type: ", response.content_type,
             "\r\nContent-Length: ", response.body.size());
  for (const auto& [name, value] : response.headers)
    bytes += concat("\r\n", name, ": ", value);
  // One request per connection: the client need not guess whether this one stays open.
  bytes += "\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n";
  bytes += response.body;
  return bytes;
}

}  // namespace quire::tools
