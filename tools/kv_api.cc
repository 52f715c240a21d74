#include "tools/kv_api.h"

#include <algorithm>

#include "io/base/text.h"

namespace quire::tools {

KvApi::KvApi(io::Runtime& runtime, engine::GroupIdentity group, std::vector<io::Address> members,
             io::Address self, KvApiOptions options)
    : runtime_(runtime),
      group_(std::move(group)),
      members_(std::move(members)),
      self_(std::move(self)),
      options_(options) {
  QUIRE_ASSERT(!members_.empty());
  QUIRE_ASSERT(options_.requests_in_flight_max > 0);
  QUIRE_ASSERT(std::any_of(members_.begin(), members_.end(), [&](const io::Address& member) {
    return member.to_string() == self_.to_string();
  }));
}

KvApi::~KvApi() {
  QUIRE_ASSERT(in_flight_ == 0 || runtime_.scheduler().killing());
}

bool KvApi::serves(const HttpRequest& request) {
  return request.path.starts_with("/v1/");
}

std::unique_ptr<engine::Client> KvApi::take_client() {
  if (idle_clients_.empty()) {
    return std::make_unique<engine::Client>(runtime_, group_, members_);
  }
  std::unique_ptr<engine::Client> client = std::move(idle_clients_.back());
  idle_clients_.pop_back();
  return client;
}

void KvApi::give_back(std::unique_ptr<engine::Client> client) {
  // Beyond the bound a client goes, and its connections close with it.
  if (idle_clients_.size() < options_.idle_clients_max) idle_clients_.push_back(std::move(client));
}

HttpResponse KvApi::answer(const HttpRequest& request) {
  QUIRE_ASSERT(serves(request));
  auto parsed = parse_kv_request(request);
  if (auto* refused = std::get_if<HttpResponse>(&parsed)) return std::move(*refused);
  const KvCall& call = std::get<KvCall>(parsed);
  if (stopping_) return kv_refusal(503, "unavailable", "this member is stopping; ask another");
  if (in_flight_ >= options_.requests_in_flight_max) {
    HttpResponse busy =
        kv_refusal(503, "busy",
                   concat("too many API requests in flight at this member (",
                          options_.requests_in_flight_max, "); nothing was done: retry"));
    busy.headers.emplace_back("Retry-After", "1");
    return busy;
  }
  in_flight_++;
  struct Done {
    size_t& in_flight;
    ~Done() { in_flight--; }
  } done{in_flight_};
  std::unique_ptr<engine::Client> client = take_client();
  auto answered = send(*client, call, runtime_.now() + options_.request_timeout);
  give_back(std::move(client));
  return kv_answer(call, answered);
}

Result<wire::ClientResponse> KvApi::send(engine::Client& client, const KvCall& call,
                                         Instant deadline) {
  if (call.route == KvRoute::leader) return client.call(call.request, deadline);
  // This member's own answer, whatever it is (a historical read of a purged commit point is
  // unavailable at once): Client::call_member would ask again until the deadline. Only a
  // connection that broke or timed out is tried again (a read changes nothing); not one this
  // member refused or does not listen for (unreachable: it is starting or stopping), and not
  // once the member stops, whose shutdown would otherwise wait for the deadline.
  for (;;) {
    auto answered = client.call_once(self_, call.request);
    if (answered.ok() || answered.code() == ErrorCode::refused ||
        answered.code() == ErrorCode::unreachable || runtime_.now() >= deadline) {
      return answered;
    }
    if (stopping_) return Error(ErrorCode::unavailable, "this member is stopping; ask another");
    runtime_.sleep_for(Duration::milliseconds(20));
  }
}

}  // namespace quire::tools
