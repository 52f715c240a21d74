#include "tools/kv_json.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "io/base/text.h"

namespace quire::tools {
namespace {

using nlohmann::json;

constexpr std::string_view kv_prefix = "/v1/kv/";

// Prose (engine messages, addresses) never makes a dump fail: a stray byte becomes U+FFFD.
// Keys and values are checked with is_utf8() before they get here.
std::string dump(const json& object) {
  return object.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

HttpResponse json_response(int status, const json& object) {
  HttpResponse response;
  response.status = status;
  response.content_type = "application/json";
  response.body = dump(object);
  return response;
}

HttpResponse bad_request(std::string_view message) {
  return kv_refusal(400, "invalid", message);
}

// The query's parameters, decoded; each name at most once and one of `known`.
Result<std::map<std::string, std::string>> parse_query(
    std::string_view query, std::initializer_list<std::string_view> known) {
  std::map<std::string, std::string> parameters;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    query = amp == query.npos ? std::string_view() : query.substr(amp + 1);
    if (item.empty()) continue;
    const size_t equals = item.find('=');
    const std::string name(item.substr(0, equals));
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string names;
      for (const std::string_view each : known)
        names += concat(names.empty() ? "" : ", ", each);
      return Error(ErrorCode::invalid_argument, concat("unknown parameter '", name, "'",
                                                       names.empty() ? "; this endpoint takes none"
                                                                     : concat("; known: ", names)));
    }
    QUIRE_TRY_ASSIGN(
        std::string value,
        percent_decode(equals == item.npos ? std::string_view() : item.substr(equals + 1)));
    if (!parameters.emplace(name, std::move(value)).second) {
      return Error(ErrorCode::invalid_argument, concat("parameter '", name, "' given twice"));
    }
  }
  return parameters;
}

Result<uint64_t> parse_count(const std::string& name, const std::string& text) {
  uint64_t value = 0;
  if (text.empty() || text.size() > 19 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Error(ErrorCode::invalid_argument,
                 concat(name, "='", text, "': not a non-negative decimal number"));
  }
  for (const char digit : text)
    value = value * 10 + static_cast<uint64_t>(digit - '0');
  return value;
}

Result<KvEncoding> parse_encoding(const std::map<std::string, std::string>& parameters,
                                  bool raw_allowed) {
  const auto found = parameters.find("encoding");
  if (found == parameters.end() || found->second == "utf8") return KvEncoding::utf8;
  if (found->second == "base64") return KvEncoding::base64;
  if (found->second == "raw" && raw_allowed) return KvEncoding::raw;
  return Error(ErrorCode::invalid_argument, concat("encoding='", found->second, "': utf8 or base64",
                                                   raw_allowed ? " or raw" : ""));
}

// consistency, min_commit and at: which read, and at which member.
Status fill_read(const std::map<std::string, std::string>& parameters, KvCall& call) {
  wire::Read& read = *call.request.mutable_read();
  const auto consistency = parameters.find("consistency");
  const auto min_commit = parameters.find("min_commit");
  const auto at = parameters.find("at");
  if (at != parameters.end()) {
    if (consistency != parameters.end() || min_commit != parameters.end()) {
      return Error(ErrorCode::invalid_argument,
                   "at= is a historical read: it takes no consistency or min_commit");
    }
    QUIRE_TRY_ASSIGN(const uint64_t counter, parse_count("at", at->second));
    read.set_consistency(wire::Read::HISTORICAL);
    read.set_at_commit_counter(counter);
    call.route = KvRoute::this_member;
    return ok_status();
  }
  const std::string mode = consistency == parameters.end() ? "linearizable" : consistency->second;
  if (mode == "linearizable") {
    if (min_commit != parameters.end()) {
      return Error(ErrorCode::invalid_argument, "min_commit needs consistency=local");
    }
    read.set_consistency(wire::Read::LINEARIZABLE);
    call.route = KvRoute::leader;
    return ok_status();
  }
  if (mode != "local") {
    return Error(ErrorCode::invalid_argument,
                 concat("consistency='", mode, "': linearizable or local"));
  }
  read.set_consistency(wire::Read::LOCAL);
  if (min_commit != parameters.end()) {
    QUIRE_TRY_ASSIGN(const uint64_t counter, parse_count("min_commit", min_commit->second));
    read.set_min_commit_counter(counter);
    read.set_wait_ms(kv_local_read_wait_ms);
  }
  call.route = KvRoute::this_member;
  return ok_status();
}

Result<KvCall> parse_key_request(const HttpRequest& request) {
  QUIRE_TRY_ASSIGN(std::string key, percent_decode(request.path.substr(kv_prefix.size())));
  if (key.empty()) return Error(ErrorCode::invalid_argument, "no key: /v1/kv/{key}");
  KvCall call;
  if (request.method == "GET") {
    QUIRE_TRY_ASSIGN(auto parameters,
                     parse_query(request.query, {"consistency", "min_commit", "at", "encoding"}));
    QUIRE_TRY_ASSIGN(call.encoding, parse_encoding(parameters, true));
    QUIRE_TRY(fill_read(parameters, call));
    call.shape = KvShape::get;
    call.request.mutable_read()->add_keys(std::move(key));
    return call;
  }
  QUIRE_TRY(parse_query(request.query, {}));
  wire::Operation& operation = *call.request.mutable_transaction()->add_operations();
  operation.set_key(std::move(key));
  if (request.method == "PUT") {
    operation.set_put(request.body);
  } else {
    operation.set_remove(true);
  }
  return call;
}

Result<KvCall> parse_scan_request(const HttpRequest& request) {
  QUIRE_TRY_ASSIGN(auto parameters,
                   parse_query(request.query, {"begin", "end", "limit", "consistency", "min_commit",
                                               "at", "encoding"}));
  KvCall call;
  call.shape = KvShape::scan;
  QUIRE_TRY_ASSIGN(call.encoding, parse_encoding(parameters, false));
  QUIRE_TRY(fill_read(parameters, call));
  wire::Read& read = *call.request.mutable_read();
  read.set_scan_begin(parameters["begin"]);
  read.set_scan_end(parameters["end"]);
  uint64_t limit = kv_scan_limit_default;
  if (const auto found = parameters.find("limit"); found != parameters.end()) {
    QUIRE_TRY_ASSIGN(limit, parse_count("limit", found->second));
  }
  if (limit == 0 || limit > kv_scan_limit_max) {
    return Error(ErrorCode::invalid_argument,
                 concat("limit=", limit, ": 1 to ", kv_scan_limit_max));
  }
  read.set_scan_limit(static_cast<uint32_t>(limit));
  return call;
}

Result<KvCall> parse_txn_request(const HttpRequest& request) {
  QUIRE_TRY_ASSIGN(auto parameters, parse_query(request.query, {"encoding"}));
  KvCall call;
  QUIRE_TRY_ASSIGN(call.encoding, parse_encoding(parameters, false));
  QUIRE_TRY_ASSIGN(*call.request.mutable_transaction(),
                   parse_transaction_json(request.body, call.encoding));
  return call;
}

// Keeps the message of the first syntax error, where nlohmann's own parser would throw it.
class RecordingParser : public nlohmann::detail::json_sax_dom_parser<json> {
 public:
  explicit RecordingParser(json& result) : json_sax_dom_parser(result, false) {}
  bool parse_error(size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& failure) {
    message = failure.what();
    return json_sax_dom_parser::parse_error(position, last_token, failure);
  }
  std::string message;
};

Error body_error(std::string_view where, std::string_view what) {
  return Error(ErrorCode::invalid_argument, concat(where, ": ", what));
}

// A key or value of the body: a string, decoded from base64 with ?encoding=base64.
Result<std::string> body_bytes(const json& object, std::string_view name, std::string_view where,
                               KvEncoding encoding) {
  const std::string field = concat(where, ".", name);
  const auto found = object.find(name);
  if (found == object.end()) return body_error(field, "missing");
  if (!found->is_string()) return body_error(field, "not a string");
  const std::string& text = found->get_ref<const std::string&>();
  if (encoding != KvEncoding::base64) return text;
  auto decoded = base64_decode(text);
  if (!decoded.ok()) return body_error(field, decoded.error().message());
  return std::move(*decoded);
}

// Exactly the fields `allowed`: a misspelt one ("valueEquals") is an error, not ignored.
Status only_fields(const json& object, std::string_view where,
                   std::initializer_list<std::string_view> allowed) {
  if (!object.is_object()) return body_error(where, "not an object");
  for (const auto& [name, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      return body_error(where, concat("unknown field '", name, "'"));
    }
  }
  return ok_status();
}

// Which one of `kinds` the object has; an error unless exactly one.
Result<std::string_view> one_of(const json& object, std::string_view where,
                                std::initializer_list<std::string_view> kinds) {
  std::optional<std::string_view> kind;
  std::string names;
  for (const std::string_view each : kinds) {
    names += concat(names.empty() ? "" : ", ", each);
    if (!object.contains(each)) continue;
    if (kind) return body_error(where, concat("both ", *kind, " and ", each));
    kind = each;
  }
  if (!kind) return body_error(where, concat("needs one of ", names));
  return *kind;
}

Status require_true(const json& object, std::string_view name, std::string_view where) {
  const json& value = object.at(name);
  if (!value.is_boolean() || !value.get<bool>()) {
    return body_error(concat(where, ".", name), "must be true");
  }
  return ok_status();
}

Status parse_condition(const json& object, std::string_view where, KvEncoding encoding,
                       wire::Condition& condition) {
  QUIRE_TRY(only_fields(object, where, {"key", "value_equals", "version_equals", "absent"}));
  QUIRE_TRY_ASSIGN(std::string key, body_bytes(object, "key", where, encoding));
  condition.set_key(std::move(key));
  QUIRE_TRY_ASSIGN(const std::string_view kind,
                   one_of(object, where, {"value_equals", "version_equals", "absent"}));
  if (kind == "value_equals") {
    QUIRE_TRY_ASSIGN(std::string value, body_bytes(object, kind, where, encoding));
    condition.set_value_equals(std::move(value));
  } else if (kind == "version_equals") {
    const json& version = object.at(kind);
    if (!version.is_number_unsigned()) {
      return body_error(concat(where, ".version_equals"), "not a non-negative integer");
    }
    condition.set_version_equals(version.get<uint64_t>());
  } else {
    QUIRE_TRY(require_true(object, kind, where));
    condition.set_absent(true);
  }
  return ok_status();
}

Status parse_operation(const json& object, std::string_view where, KvEncoding encoding,
                       wire::Operation& operation) {
  QUIRE_TRY(only_fields(object, where, {"key", "put", "remove"}));
  QUIRE_TRY_ASSIGN(std::string key, body_bytes(object, "key", where, encoding));
  operation.set_key(std::move(key));
  QUIRE_TRY_ASSIGN(const std::string_view kind, one_of(object, where, {"put", "remove"}));
  if (kind == "put") {
    QUIRE_TRY_ASSIGN(std::string value, body_bytes(object, kind, where, encoding));
    operation.set_put(std::move(value));
  } else {
    QUIRE_TRY(require_true(object, kind, where));
    operation.set_remove(true);
  }
  return ok_status();
}

// The array `name` of the body (absent: empty), each element handed to `parse`.
template <typename Parse>
Status each_element(const json& body, std::string_view name, Parse parse) {
  const auto found = body.find(name);
  if (found == body.end()) return ok_status();
  if (!found->is_array()) return body_error(name, "not an array");
  for (size_t index = 0; index < found->size(); index++) {
    QUIRE_TRY(parse((*found)[index], concat(name, "[", index, "]")));
  }
  return ok_status();
}

// An answer's key or value as JSON: UTF-8 as it is, or base64. Unset when it is not UTF-8 and
// the caller asked for UTF-8.
std::optional<json> encoded(const std::string& bytes, KvEncoding encoding) {
  if (encoding == KvEncoding::base64) return json(base64_encode(bytes));
  if (!is_utf8(bytes)) return std::nullopt;
  return json(bytes);
}

HttpResponse not_utf8() {
  return kv_refusal(406, "not_acceptable",
                    "a key or value in the answer is not UTF-8: ask again with ?encoding=base64 "
                    "(or, for one key, ?encoding=raw)");
}

HttpResponse get_answer(const KvCall& call, const wire::ClientResponse& response) {
  const std::string& key = call.request.read().keys(0);
  const bool found = response.results_size() == 1 && response.results(0).found();
  if (call.encoding == KvEncoding::raw && found) {
    HttpResponse raw;
    raw.content_type = "application/octet-stream";
    raw.body = response.results(0).value();
    raw.headers.emplace_back("X-Quire-Version", concat(response.results(0).version()));
    raw.headers.emplace_back("X-Quire-Commit-Counter", concat(response.commit_counter()));
    return raw;
  }
  // A raw miss answers in JSON: there are no bytes to send, and 404 says why.
  const KvEncoding encoding = call.encoding == KvEncoding::raw ? KvEncoding::utf8 : call.encoding;
  std::optional<json> key_json = encoded(key, encoding);
  if (!key_json) return not_utf8();
  json object = {{"commit_counter", response.commit_counter()}, {"key", *key_json}};
  if (!found) {
    object["outcome"] = "not_found";
    return json_response(404, object);
  }
  std::optional<json> value_json = encoded(response.results(0).value(), encoding);
  if (!value_json) return not_utf8();
  object["outcome"] = "ok";
  object["value"] = *value_json;
  object["version"] = response.results(0).version();
  return json_response(200, object);
}

HttpResponse scan_answer(const KvCall& call, const wire::ClientResponse& response) {
  json entries = json::array();
  for (const wire::KeyValue& entry : response.results()) {
    std::optional<json> key = encoded(entry.key(), call.encoding);
    std::optional<json> value = encoded(entry.value(), call.encoding);
    if (!key || !value) return not_utf8();
    entries.push_back({{"key", *key}, {"value", *value}, {"version", entry.version()}});
  }
  return json_response(200, {{"commit_counter", response.commit_counter()},
                             {"entries", std::move(entries)},
                             {"outcome", "ok"}});
}

std::string outcome_name(wire::Outcome outcome) {
  std::string name = wire::Outcome_Name(outcome);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

HttpResponse unknown_outcome(std::string_view why) {
  return kv_refusal(504, "unknown",
                    concat("the write may or may not have committed (", why,
                           "); read the key before retrying a write that is not idempotent"));
}

// Nothing was done; the client may retry, after a second.
HttpResponse not_now(std::string_view outcome, std::string_view message) {
  HttpResponse response = kv_refusal(503, outcome, message);
  response.headers.emplace_back("Retry-After", "1");
  return response;
}

}  // namespace

std::variant<KvCall, HttpResponse> parse_kv_request(const HttpRequest& request) {
  const auto call_or_400 = [](Result<KvCall> call) -> std::variant<KvCall, HttpResponse> {
    if (!call.ok()) return bad_request(call.error().message());
    return std::move(*call);
  };
  if (request.path.starts_with(kv_prefix)) {
    if (request.method != "GET" && request.method != "PUT" && request.method != "DELETE") {
      return method_not_allowed(request.method, "GET, PUT, DELETE");
    }
    return call_or_400(parse_key_request(request));
  }
  if (request.path == "/v1/txn") {
    if (request.method != "POST") return method_not_allowed(request.method, "POST");
    return call_or_400(parse_txn_request(request));
  }
  if (request.path == "/v1/scan") {
    if (request.method != "GET") return method_not_allowed(request.method, "GET");
    return call_or_400(parse_scan_request(request));
  }
  return kv_refusal(404, "invalid",
                    concat("no endpoint ", request.path,
                           "; the API's endpoints: /v1/kv/{key}, /v1/txn, /v1/scan"));
}

Result<wire::Transaction> parse_transaction_json(std::string_view body, KvEncoding encoding) {
  QUIRE_ASSERT(encoding != KvEncoding::raw);
  json parsed;
  RecordingParser parser(parsed);
  if (!json::sax_parse(body, &parser) || parsed.is_discarded()) {
    return Error(ErrorCode::invalid_argument,
                 concat("the body is not JSON: ",
                        parser.message.empty() ? std::string("no value") : parser.message));
  }
  QUIRE_TRY(only_fields(parsed, "the body", {"conditions", "operations"}));
  wire::Transaction transaction;
  QUIRE_TRY(each_element(parsed, "conditions", [&](const json& object, std::string_view where) {
    return parse_condition(object, where, encoding, *transaction.add_conditions());
  }));
  QUIRE_TRY(each_element(parsed, "operations", [&](const json& object, std::string_view where) {
    return parse_operation(object, where, encoding, *transaction.add_operations());
  }));
  if (transaction.operations_size() == 0) {
    return Error(ErrorCode::invalid_argument, "operations: at least one put or remove");
  }
  return transaction;
}

HttpResponse kv_answer(const KvCall& call, const Result<wire::ClientResponse>& answer) {
  const bool write = call.shape == KvShape::write;
  if (!answer.ok()) {
    // Only a write can have an unknown outcome: a read whose answer was lost changed nothing.
    if (write && answer.code() == ErrorCode::unknown_outcome) {
      return unknown_outcome(answer.error().message());
    }
    return not_now("unavailable", answer.error().message());
  }
  const wire::ClientResponse& response = *answer;
  switch (response.outcome()) {
    case wire::OK:
      if (call.shape == KvShape::get) return get_answer(call, response);
      if (call.shape == KvShape::scan) return scan_answer(call, response);
      return json_response(200, {{"commit_counter", response.commit_counter()}, {"outcome", "ok"}});
    case wire::CONDITION_FAILED:
      return kv_refusal(409, "condition_failed",
                        response.message().empty()
                            ? std::string("a condition did not hold: nothing was written")
                            : response.message());
    case wire::UNKNOWN:
      return unknown_outcome(response.message());
    case wire::INVALID:
      return kv_refusal(400, "invalid", response.message());
    default:
      return not_now(outcome_name(response.outcome()), response.message());
  }
}

HttpResponse kv_refusal(int status, std::string_view outcome, std::string_view message) {
  return json_response(status, {{"message", message}, {"outcome", outcome}});
}

}  // namespace quire::tools
