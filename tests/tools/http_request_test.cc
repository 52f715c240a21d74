// Goal: quired's HTTP request parsing answers every malformed, oversized or unsupported request
// with its own status, and hands a well-formed request to the handler with its method, path,
// query and announced body.
// Method: parse_request_head and request_head_end on literal heads; serialize on a response.
#include "tools/http_request.h"

#include <gtest/gtest.h>

#include <string>

namespace quire::test {
namespace {

using tools::HttpRequest;
using tools::HttpResponse;

int refused_status(std::string_view head) {
  auto parsed = tools::parse_request_head(head);
  const auto* refusal = std::get_if<HttpResponse>(&parsed);
  return refusal == nullptr ? 0 : refusal->status;
}

TEST(HttpRequest, HeadEndsAtTheFirstEmptyLine) {
  EXPECT_FALSE(tools::request_head_end("GET / HTTP/1.1\r\nHost: x\r\n").has_value());
  EXPECT_EQ(tools::request_head_end("GET / HTTP/1.1\r\n\r\nrest"), 18u);
  EXPECT_EQ(tools::request_head_end("GET / HTTP/1.1\n\n"), 16u);
  EXPECT_EQ(tools::request_head_end("\r\n"), 2u);
}

TEST(HttpRequest, GetWithPathAndQuery) {
  auto parsed = tools::parse_request_head(
      "GET /status?HA HTTP/1.1\r\nHost: 127.0.0.1:7201\r\nAccept: */*\r\n\r\n");
  ASSERT_TRUE(std::holds_alternative<HttpRequest>(parsed));
  const auto& request = std::get<HttpRequest>(parsed);
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.path, "/status");
  EXPECT_EQ(request.query, "HA");
  auto plain = tools::parse_request_head("GET /metrics HTTP/1.0\n\n");
  ASSERT_TRUE(std::holds_alternative<HttpRequest>(plain));
  EXPECT_EQ(std::get<HttpRequest>(plain).path, "/metrics");
  EXPECT_EQ(std::get<HttpRequest>(plain).query, "");
}

TEST(HttpRequest, MalformedRequestsAre400) {
  EXPECT_EQ(refused_status("garbage\r\n\r\n"), 400);
  EXPECT_EQ(refused_status("\r\n"), 400);
  EXPECT_EQ(refused_status("GET /status\r\n\r\n"), 400);
  EXPECT_EQ(refused_status("GET  /status HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(refused_status("GET status HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(refused_status("GET /sta\x01tus HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(refused_status("GET /status FTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(refused_status("G(T /status HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(refused_status("GET /status HTTP/1.1\r\nno colon here\r\n\r\n"), 400);
  EXPECT_EQ(refused_status("GET /status HTTP/1.1\r\nBad Name: x\r\n\r\n"), 400);
  EXPECT_EQ(refused_status("GET /status HTTP/1.1\r\nContent-Length: 5\r\n\r\n"), 400);
  EXPECT_EQ(refused_status("GET /status HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n"), 400);
  EXPECT_EQ(refused_status("GET /status HTTP/1.1\r\nContent-Length: 0\r\n\r\n"), 0);
}

TEST(HttpRequest, OtherMethodsAre405AndOtherVersions505) {
  auto patch = tools::parse_request_head("PATCH /v1/kv/a HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(std::holds_alternative<HttpResponse>(patch));
  const HttpResponse& refused = std::get<HttpResponse>(patch);
  EXPECT_EQ(refused.status, 405);
  ASSERT_EQ(refused.headers.size(), 1u);
  EXPECT_EQ(refused.headers[0].second, "GET, PUT, POST, DELETE");
  EXPECT_NE(tools::serialize(refused).find("\r\nAllow: GET, PUT, POST, DELETE\r\n"),
            std::string::npos);
  EXPECT_EQ(refused_status("HEAD /status HTTP/1.1\r\n\r\n"), 405);
  EXPECT_EQ(refused_status("DELETE /v1/kv/a HTTP/1.1\r\n\r\n"), 0);
  EXPECT_EQ(refused_status("POST /status HTTP/1.1\r\n\r\n"), 0);  // The router says 405.
  EXPECT_EQ(refused_status("GET /status HTTP/2.0\r\n\r\n"), 505);
}

TEST(HttpRequest, PutAndPostAnnounceBoundedBodies) {
  auto put = tools::parse_request_head(
      "PUT /v1/kv/a HTTP/1.1\r\nContent-Length: 12\r\nExpect: 100-continue\r\n\r\n");
  ASSERT_TRUE(std::holds_alternative<HttpRequest>(put));
  EXPECT_EQ(std::get<HttpRequest>(put).method, "PUT");
  EXPECT_EQ(std::get<HttpRequest>(put).content_length, 12u);
  EXPECT_TRUE(std::get<HttpRequest>(put).expects_continue);
  const std::string limit = std::to_string(tools::http_request_body_size_bytes_max);
  const std::string over = std::to_string(tools::http_request_body_size_bytes_max + 1);
  EXPECT_EQ(refused_status("POST /v1/txn HTTP/1.1\r\nContent-Length: " + limit + "\r\n\r\n"), 0);
  EXPECT_EQ(refused_status("POST /v1/txn HTTP/1.1\r\nContent-Length: " + over + "\r\n\r\n"), 413);
  EXPECT_EQ(refused_status("PUT /v1/kv/a HTTP/1.1\r\nContent-Length: 99999999999999\r\n\r\n"), 413);
  EXPECT_EQ(refused_status("PUT /v1/kv/a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), 411);
  EXPECT_EQ(refused_status("PUT /v1/kv/a HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400);
  EXPECT_EQ(
      refused_status("PUT /v1/kv/a HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
      400);
  EXPECT_EQ(refused_status("PUT /v1/kv/a HTTP/1.1\r\nExpect: something\r\n\r\n"), 400);
  EXPECT_EQ(refused_status("DELETE /v1/kv/a HTTP/1.1\r\nContent-Length: 3\r\n\r\n"), 400);
}

TEST(HttpRequest, ResponseNamesItsLengthAndCloses) {
  HttpResponse response;
  response.status = 503;
  response.body = "no leader\n";
  const std::string bytes = tools::serialize(response);
  EXPECT_TRUE(bytes.starts_with("HTTP/1.1 503 Service Unavailable\r\n")) << bytes;
  EXPECT_NE(bytes.find("\r\nContent-Length: 10\r\n"), std::string::npos) << bytes;
  EXPECT_NE(bytes.find("\r\nConnection: close\r\n"), std::string::npos) << bytes;
  EXPECT_TRUE(bytes.ends_with("\r\n\r\nno leader\n")) << bytes;
  EXPECT_EQ(tools::reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(tools::reason_phrase(299), "");
}

}  // namespace
}  // namespace quire::test
