// Goal: the JSON key-value API maps every request to the client request the CLI would send, refuses
// every malformed parameter or body with 400 and a message that says where, and gives each of the
// group's outcomes its own documented status code and body (docs/operations.md, "HTTP JSON API"):
// an unknown outcome is 504, never a plain failure.
// Method: parse_kv_request, parse_transaction_json and kv_answer on literal requests and
// responses; the bodies are read back with nlohmann-json.
#include "tools/kv_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace quire::test {
namespace {

using nlohmann::json;
using tools::HttpRequest;
using tools::HttpResponse;
using tools::KvCall;
using tools::KvEncoding;
using tools::KvRoute;
using tools::KvShape;

HttpRequest request(std::string method, std::string path, std::string query = "",
                    std::string body = "") {
  HttpRequest out;
  out.method = std::move(method);
  out.path = std::move(path);
  out.query = std::move(query);
  out.content_length = body.size();
  out.body = std::move(body);
  return out;
}

KvCall parsed_call(const HttpRequest& http) {
  auto parsed = tools::parse_kv_request(http);
  if (const auto* refused = std::get_if<HttpResponse>(&parsed)) {
    ADD_FAILURE() << "refused " << refused->status << ": " << refused->body;
    return {};
  }
  return std::get<KvCall>(parsed);
}

HttpResponse refused(const HttpRequest& http) {
  auto parsed = tools::parse_kv_request(http);
  if (const auto* refusal = std::get_if<HttpResponse>(&parsed)) return *refusal;
  ADD_FAILURE() << "accepted " << http.method << " " << http.path << "?" << http.query;
  return {};
}

std::string message_of(const HttpResponse& response) {
  const json body = json::parse(response.body);
  return body.at("message").get<std::string>();
}

TEST(KvJson, TransactionWithEveryConditionAndOperation) {
  auto transaction = tools::parse_transaction_json(
      R"({"conditions": [{"key": "a", "value_equals": "1"}, {"key": "b", "version_equals": 7},
                         {"key": "c", "absent": true}],
          "operations": [{"key": "a", "put": "2"}, {"key": "b", "remove": true}]})",
      KvEncoding::utf8);
  ASSERT_TRUE(transaction.ok()) << transaction.error().to_string();
  ASSERT_EQ(transaction->conditions_size(), 3);
  EXPECT_EQ(transaction->conditions(0).key(), "a");
  EXPECT_EQ(transaction->conditions(0).value_equals(), "1");
  EXPECT_EQ(transaction->conditions(1).version_equals(), 7u);
  EXPECT_EQ(transaction->conditions(2).expect_case(), wire::Condition::kAbsent);
  EXPECT_TRUE(transaction->conditions(2).absent());
  ASSERT_EQ(transaction->operations_size(), 2);
  EXPECT_EQ(transaction->operations(0).put(), "2");
  EXPECT_EQ(transaction->operations(1).kind_case(), wire::Operation::kRemove);
}

TEST(KvJson, TransactionInBase64CarriesAnyBytes) {
  auto transaction = tools::parse_transaction_json(
      R"({"operations": [{"key": "/wA=", "put": "AAEC"}]})", KvEncoding::base64);
  ASSERT_TRUE(transaction.ok()) << transaction.error().to_string();
  EXPECT_EQ(transaction->operations(0).key(), std::string("\xff\x00", 2));
  EXPECT_EQ(transaction->operations(0).put(), std::string("\x00\x01\x02", 3));
  auto bad = tools::parse_transaction_json(R"({"operations": [{"key": "a", "put": "AAEC"}]})",
                                           KvEncoding::base64);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(),
            "operations[0].key: not base64: the length is not a multiple of 4");
}

TEST(KvJson, MalformedJsonSaysWhereItBroke) {
  auto broken = tools::parse_transaction_json(R"({"operations": [)", KvEncoding::utf8);
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.code(), ErrorCode::invalid_argument);
  EXPECT_TRUE(broken.error().message().starts_with("the body is not JSON: "))
      << broken.error().message();
  EXPECT_NE(broken.error().message().find("parse error at line 1, column 17"), std::string::npos)
      << broken.error().message();
  auto empty = tools::parse_transaction_json("", KvEncoding::utf8);
  ASSERT_FALSE(empty.ok());
  EXPECT_TRUE(empty.error().message().starts_with("the body is not JSON: "))
      << empty.error().message();
  auto not_utf8 = tools::parse_transaction_json("{\"operations\": \"\xff\"}", KvEncoding::utf8);
  EXPECT_FALSE(not_utf8.ok());
}

TEST(KvJson, MisshapenTransactionsNameTheField) {
  const auto message = [](std::string_view body) {
    auto parsed = tools::parse_transaction_json(body, KvEncoding::utf8);
    return parsed.ok() ? std::string("accepted") : parsed.error().message();
  };
  EXPECT_EQ(message("[]"), "the body: not an object");
  EXPECT_EQ(message(R"({"ops": []})"), "the body: unknown field 'ops'");
  EXPECT_EQ(message(R"({"operations": {}})"), "operations: not an array");
  EXPECT_EQ(message(R"({"operations": []})"), "operations: at least one put or remove");
  EXPECT_EQ(message(R"({"operations": [{"put": "v"}]})"), "operations[0].key: missing");
  EXPECT_EQ(message(R"({"operations": [{"key": 5, "put": "v"}]})"),
            "operations[0].key: not a string");
  EXPECT_EQ(message(R"({"operations": [{"key": "a"}]})"),
            "operations[0]: needs one of put, remove");
  EXPECT_EQ(message(R"({"operations": [{"key": "a", "put": "v", "remove": true}]})"),
            "operations[0]: both put and remove");
  EXPECT_EQ(message(R"({"operations": [{"key": "a", "remove": false}]})"),
            "operations[0].remove: must be true");
  EXPECT_EQ(message(R"({"operations": [{"key": "a", "put": 3}]})"),
            "operations[0].put: not a string");
  EXPECT_EQ(message(R"({"operations": [{"key": "a", "put": "v", "value": "w"}]})"),
            "operations[0]: unknown field 'value'");
  const std::string put = R"("operations": [{"key": "a", "put": "v"}])";
  EXPECT_EQ(message(R"({"conditions": [{"key": "a", "version_equals": -1}], )" + put + "}"),
            "conditions[0].version_equals: not a non-negative integer");
  EXPECT_EQ(message(R"({"conditions": [{"key": "a", "valueEquals": "1"}], )" + put + "}"),
            "conditions[0]: unknown field 'valueEquals'");
  EXPECT_EQ(message(R"({"conditions": [{"key": "a"}], )" + put + "}"),
            "conditions[0]: needs one of value_equals, version_equals, absent");
  EXPECT_EQ(message(R"({"conditions": [{"key": "a", "absent": true}], )" + put + "}"), "accepted");
}

TEST(KvJson, KeyRequestsBecomeTheCliRequests) {
  const KvCall get = parsed_call(request("GET", "/v1/kv/a%2Fb%00c"));
  EXPECT_EQ(get.shape, KvShape::get);
  EXPECT_EQ(get.route, KvRoute::leader);
  EXPECT_EQ(get.request.read().consistency(), wire::Read::LINEARIZABLE);
  EXPECT_EQ(get.request.read().keys(0), std::string("a/b\0c", 5));

  const KvCall local = parsed_call(request("GET", "/v1/kv/a", "consistency=local&min_commit=12"));
  EXPECT_EQ(local.route, KvRoute::this_member);
  EXPECT_EQ(local.request.read().consistency(), wire::Read::LOCAL);
  EXPECT_EQ(local.request.read().min_commit_counter(), 12u);
  EXPECT_EQ(local.request.read().wait_ms(), tools::kv_local_read_wait_ms);

  const KvCall historical = parsed_call(request("GET", "/v1/kv/a", "at=3&encoding=raw"));
  EXPECT_EQ(historical.route, KvRoute::this_member);
  EXPECT_EQ(historical.encoding, KvEncoding::raw);
  EXPECT_EQ(historical.request.read().consistency(), wire::Read::HISTORICAL);
  EXPECT_EQ(historical.request.read().at_commit_counter(), 3u);

  const KvCall put = parsed_call(request("PUT", "/v1/kv/k", "", std::string("\xff\x00", 2)));
  EXPECT_EQ(put.shape, KvShape::write);
  EXPECT_EQ(put.route, KvRoute::leader);
  ASSERT_EQ(put.request.transaction().operations_size(), 1);
  EXPECT_EQ(put.request.transaction().operations(0).key(), "k");
  EXPECT_EQ(put.request.transaction().operations(0).put(), std::string("\xff\x00", 2));

  const KvCall remove = parsed_call(request("DELETE", "/v1/kv/k"));
  EXPECT_TRUE(remove.request.transaction().operations(0).remove());

  const KvCall scan = parsed_call(request("GET", "/v1/scan", "begin=a&end=m%20&limit=5"));
  EXPECT_EQ(scan.shape, KvShape::scan);
  EXPECT_EQ(scan.request.read().scan_begin(), "a");
  EXPECT_EQ(scan.request.read().scan_end(), "m ");
  EXPECT_EQ(scan.request.read().scan_limit(), 5u);
  EXPECT_EQ(parsed_call(request("GET", "/v1/scan")).request.read().scan_limit(),
            tools::kv_scan_limit_default);

  const KvCall txn =
      parsed_call(request("POST", "/v1/txn", "", R"({"operations": [{"key": "a", "put": "1"}]})"));
  EXPECT_EQ(txn.shape, KvShape::write);
  EXPECT_EQ(txn.request.transaction().operations(0).put(), "1");
}

TEST(KvJson, BadRequestsAre400WithTheReason) {
  const auto reason = [](const HttpRequest& http) {
    const HttpResponse response = refused(http);
    EXPECT_EQ(response.status, 400) << response.body;
    EXPECT_EQ(response.content_type, "application/json");
    EXPECT_EQ(json::parse(response.body).at("outcome"), "invalid");
    return message_of(response);
  };
  EXPECT_EQ(reason(request("GET", "/v1/kv/")), "no key: /v1/kv/{key}");
  EXPECT_EQ(reason(request("GET", "/v1/kv/a", "consistency=strong")),
            "consistency='strong': linearizable or local");
  EXPECT_EQ(reason(request("GET", "/v1/kv/a", "min_commit=3")),
            "min_commit needs consistency=local");
  EXPECT_EQ(reason(request("GET", "/v1/kv/a", "at=3&consistency=local")),
            "at= is a historical read: it takes no consistency or min_commit");
  EXPECT_EQ(reason(request("GET", "/v1/kv/a", "at=-1")),
            "at='-1': not a non-negative decimal number");
  EXPECT_EQ(reason(request("GET", "/v1/kv/a", "at=1&at=2")), "parameter 'at' given twice");
  EXPECT_EQ(reason(request("GET", "/v1/kv/a", "encoding=hex")),
            "encoding='hex': utf8 or base64 or raw");
  EXPECT_EQ(reason(request("GET", "/v1/kv/a%zz")), "'a%zz': a '%' not followed by two hex digits");
  EXPECT_EQ(reason(request("PUT", "/v1/kv/a", "ttl=5")),
            "unknown parameter 'ttl'; this endpoint takes none");
  EXPECT_EQ(reason(request("GET", "/v1/scan", "limit=0")), "limit=0: 1 to 10000");
  EXPECT_EQ(reason(request("GET", "/v1/scan", "limit=10001")), "limit=10001: 1 to 10000");
  EXPECT_EQ(reason(request("GET", "/v1/scan", "encoding=raw")), "encoding='raw': utf8 or base64");
  EXPECT_EQ(reason(request("POST", "/v1/txn", "", "{bad")).substr(0, 21), "the body is not JSON:");
}

TEST(KvJson, WrongMethodsAre405AndUnknownPaths404) {
  const HttpResponse post_key = refused(request("POST", "/v1/kv/a"));
  EXPECT_EQ(post_key.status, 405);
  ASSERT_EQ(post_key.headers.size(), 1u);
  EXPECT_EQ(post_key.headers[0].first, "Allow");
  EXPECT_EQ(post_key.headers[0].second, "GET, PUT, DELETE");
  EXPECT_EQ(refused(request("GET", "/v1/txn")).status, 405);
  EXPECT_EQ(refused(request("PUT", "/v1/scan")).status, 405);
  const HttpResponse nowhere = refused(request("GET", "/v1/keys"));
  EXPECT_EQ(nowhere.status, 404);
  EXPECT_NE(message_of(nowhere).find("/v1/kv/{key}, /v1/txn, /v1/scan"), std::string::npos);
}

wire::ClientResponse response(wire::Outcome outcome, std::string message = "") {
  wire::ClientResponse out;
  out.set_outcome(outcome);
  out.set_message(std::move(message));
  out.set_commit_counter(9);
  return out;
}

TEST(KvJson, EachOutcomeHasItsStatusAndBody) {
  const KvCall write = parsed_call(request("PUT", "/v1/kv/a", "", "v"));
  const auto answer = [&](const Result<wire::ClientResponse>& answered) {
    return tools::kv_answer(write, answered);
  };
  const HttpResponse ok = answer(response(wire::OK));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(json::parse(ok.body), json::parse(R"({"commit_counter": 9, "outcome": "ok"})"));
  const HttpResponse failed = answer(response(wire::CONDITION_FAILED));
  EXPECT_EQ(failed.status, 409);
  EXPECT_EQ(json::parse(failed.body).at("outcome"), "condition_failed");
  const HttpResponse unknown = answer(response(wire::UNKNOWN, "leadership ended"));
  EXPECT_EQ(unknown.status, 504);
  EXPECT_EQ(json::parse(unknown.body).at("outcome"), "unknown");
  EXPECT_NE(message_of(unknown).find("may or may not have committed (leadership ended)"),
            std::string::npos);
  const HttpResponse lost = answer(Error(ErrorCode::unknown_outcome, "no answer from x"));
  EXPECT_EQ(lost.status, 504);
  EXPECT_EQ(json::parse(lost.body).at("outcome"), "unknown");
  EXPECT_EQ(answer(response(wire::INVALID, "key of 2000 bytes")).status, 400);
  for (const auto& [outcome, name] :
       {std::pair{wire::UNAVAILABLE, "unavailable"}, std::pair{wire::BUSY, "busy"},
        std::pair{wire::TIMEOUT, "timeout"}, std::pair{wire::NOT_LEADER, "not_leader"}}) {
    const HttpResponse later = answer(response(outcome, "why"));
    EXPECT_EQ(later.status, 503) << name;
    EXPECT_EQ(json::parse(later.body), json({{"message", "why"}, {"outcome", name}}));
    ASSERT_EQ(later.headers.size(), 1u);
    EXPECT_EQ(later.headers[0].first, "Retry-After");
  }
  const HttpResponse no_leader = answer(Error(ErrorCode::unavailable, "no leader answered"));
  EXPECT_EQ(no_leader.status, 503);
  EXPECT_EQ(json::parse(no_leader.body).at("outcome"), "unavailable");
  // A read whose answer was lost changed nothing: unavailable, not unknown.
  const KvCall get = parsed_call(request("GET", "/v1/kv/a"));
  EXPECT_EQ(tools::kv_answer(get, Error(ErrorCode::unknown_outcome, "lost")).status, 503);
}

wire::ClientResponse found(std::string key, std::string value, uint64_t version) {
  wire::ClientResponse out = response(wire::OK);
  wire::KeyValue* entry = out.add_results();
  entry->set_key(std::move(key));
  entry->set_value(std::move(value));
  entry->set_version(version);
  entry->set_found(true);
  return out;
}

TEST(KvJson, ReadsAnswerInUtf8Base64OrRaw) {
  const KvCall get = parsed_call(request("GET", "/v1/kv/a"));
  const HttpResponse hit = tools::kv_answer(get, found("a", "héllo", 4));
  EXPECT_EQ(hit.status, 200);
  EXPECT_EQ(json::parse(hit.body),
            json::parse(R"({"commit_counter": 9, "key": "a", "outcome": "ok", "value": "héllo",
                            "version": 4})"));
  wire::ClientResponse miss = response(wire::OK);
  miss.add_results()->set_key("a");
  const HttpResponse missed = tools::kv_answer(get, miss);
  EXPECT_EQ(missed.status, 404);
  EXPECT_EQ(json::parse(missed.body),
            json::parse(R"({"commit_counter": 9, "key": "a", "outcome": "not_found"})"));
  const std::string binary("\xff\x00", 2);
  EXPECT_EQ(tools::kv_answer(get, found("a", binary, 4)).status, 406);
  const KvCall base64 = parsed_call(request("GET", "/v1/kv/a", "encoding=base64"));
  EXPECT_EQ(json::parse(tools::kv_answer(base64, found("a", binary, 4)).body).at("value"), "/wA=");
  const KvCall raw = parsed_call(request("GET", "/v1/kv/a", "encoding=raw"));
  const HttpResponse bytes = tools::kv_answer(raw, found("a", binary, 4));
  EXPECT_EQ(bytes.status, 200);
  EXPECT_EQ(bytes.body, binary);
  EXPECT_EQ(bytes.content_type, "application/octet-stream");
  EXPECT_EQ(tools::kv_answer(raw, miss).status, 404);

  const KvCall scan = parsed_call(request("GET", "/v1/scan", "limit=2"));
  wire::ClientResponse entries = found("a", "1", 2);
  *entries.add_results() = found("b", "2", 3).results(0);
  EXPECT_EQ(json::parse(tools::kv_answer(scan, entries).body),
            json::parse(R"({"commit_counter": 9, "outcome": "ok", "entries": [
                              {"key": "a", "value": "1", "version": 2},
                              {"key": "b", "value": "2", "version": 3}]})"));
  *entries.add_results() = found("c", binary, 5).results(0);
  EXPECT_EQ(tools::kv_answer(scan, entries).status, 406);
}

TEST(KvText, EncodingsRoundTripAndRefuseGarbage) {
  for (const std::string& bytes : {std::string(), std::string("f"), std::string("fo"),
                                   std::string("foo"), std::string("\x00\xff\x10\x80", 4)}) {
    auto decoded = tools::base64_decode(tools::base64_encode(bytes));
    ASSERT_TRUE(decoded.ok()) << decoded.error().message();
    EXPECT_EQ(*decoded, bytes);
  }
  EXPECT_EQ(tools::base64_encode("foob"), "Zm9vYg==");
  EXPECT_FALSE(tools::base64_decode("Zm9").ok());
  EXPECT_FALSE(tools::base64_decode("Zm9v!A==").ok());
  EXPECT_FALSE(tools::base64_decode("Zg==Zg==").ok());
  EXPECT_EQ(*tools::percent_decode("a%2fb+c%41"), "a/b+cA");
  EXPECT_FALSE(tools::percent_decode("a%4").ok());
  EXPECT_FALSE(tools::percent_decode("%").ok());
  EXPECT_TRUE(tools::is_utf8("plain ascii"));
  EXPECT_TRUE(tools::is_utf8("h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(tools::is_utf8("\xff"));
  EXPECT_FALSE(tools::is_utf8("\xc0\xaf"));          // Overlong '/'.
  EXPECT_FALSE(tools::is_utf8("\xed\xa0\x80"));      // A surrogate.
  EXPECT_FALSE(tools::is_utf8("\xf4\x90\x80\x80"));  // Above U+10FFFF.
  EXPECT_FALSE(tools::is_utf8("\xe2\x82"));          // Cut short.
}

}  // namespace
}  // namespace quire::test
