// The JSON key-value API's mapping (docs/operations.md, "HTTP JSON API"): a /v1 request to the
// client request it makes of the group (engine/wire/wire.proto), and the group's answer to the
// HTTP response, with the same outcome semantics as the CLI (tools/quire.cc). Pure functions of
// their inputs, so that every parameter, body and outcome has a unit test
// (tests/tools/kv_json_test.cc); tools/kv_api.h sends the requests.
//
// Keys in paths and query strings are percent-decoded bytes (any byte as %XX; '+' is a plus).
// Keys and values in JSON bodies are UTF-8 strings, or base64 (RFC 4648, padded) with
// ?encoding=base64. A PUT's body is the value's raw bytes, and GET ?encoding=raw answers with
// them, so binary values need no encoding at all.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "engine/wire/wire.pb.h"
#include "io/base/result.h"
#include "tools/http_request.h"
#include "tools/kv_text.h"

namespace quire::tools {

// How keys and values travel in JSON bodies; raw: a GET's value as the body itself.
enum class KvEncoding { utf8, base64, raw };

// Where a call goes: to the leader, which engine::Client::call finds (writes and linearizable
// reads: a follower forwards them), or to the member that took the HTTP request (local and
// historical reads, which any member serves).
enum class KvRoute { leader, this_member };

// What the answer holds: one key's value, a scan's entries, or a write's commit point.
enum class KvShape { get, scan, write };

struct KvCall {
  KvShape shape = KvShape::write;
  KvRoute route = KvRoute::leader;
  KvEncoding encoding = KvEncoding::utf8;
  wire::ClientRequest request;
};

inline constexpr uint32_t kv_scan_limit_default = 100;
inline constexpr uint32_t kv_scan_limit_max = 10'000;  // The client service's own bound.
// How long a local read waits at its member for min_commit before it answers timeout.
inline constexpr uint32_t kv_local_read_wait_ms = 5'000;

// The call a /v1 request makes, or the answer to send at once: 400 (a bad parameter or body,
// with the reason), 404 (no such endpoint), 405 (a method the endpoint does not take).
std::variant<KvCall, HttpResponse> parse_kv_request(const HttpRequest& request);

// A POST /v1/txn body: {"conditions": [...], "operations": [...]} (docs/operations.md).
// Errors: invalid_argument, naming where the body is wrong ("operations[1].put: not a string").
Result<wire::Transaction> parse_transaction_json(std::string_view body, KvEncoding encoding);

// The HTTP answer to what the group answered `call`, or to the client's error: 200 ok, 404 not
// found, 409 condition failed, 400 invalid, 503 unavailable / busy / timeout / not leader
// (nothing was written), 504 unknown (a write that may or may not have committed), 406 (a key or
// value that is not UTF-8 without ?encoding=base64).
HttpResponse kv_answer(const KvCall& call, const Result<wire::ClientResponse>& answer);

// `status` with the API's JSON body {"message": message, "outcome": outcome}.
HttpResponse kv_refusal(int status, std::string_view outcome, std::string_view message);

}  // namespace quire::tools
