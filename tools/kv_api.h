// KvApi: the JSON key-value API on a member's HTTP port (docs/operations.md, "HTTP JSON API").
// Each request is mapped by tools/kv_json.h and sent through an in-process engine::Client
// connected to the whole group, the client the CLI uses, so the outcomes are the CLI's: a write
// at a follower is forwarded (the client finds the leader and follows NOT_LEADER itself; the
// HTTP client is never redirected), a write whose answer was lost is unknown (504), never a
// plain failure. Local and historical reads are served by this member.
//
// Bounds: at most requests_in_flight_max requests at once (503 past it, at once); each holds one
// client from a pool that keeps at most idle_clients_max of them, with their connections, for
// the next requests. Each request ends by request_timeout (a write sent by then may wait
// ClientOptions::attempt_timeout more for its answer).
//
// Lifecycle: on the runtime's thread, like tools/http_server.h, whose handler calls answer().
// stop() refuses new requests (503); the object must outlive every request in flight (the HTTP
// server's stop() waits for them).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "engine/client.h"
#include "engine/transport.h"
#include "io/runtime.h"
#include "tools/http_request.h"
#include "tools/kv_json.h"

namespace quire::tools {

struct KvApiOptions {
  size_t requests_in_flight_max = 32;
  size_t idle_clients_max = 8;
  Duration request_timeout = Duration::seconds(10);
};

class KvApi {
 public:
  // `self`: this member's address in `members`, where local and historical reads go.
  KvApi(io::Runtime& runtime, engine::GroupIdentity group, std::vector<io::Address> members,
        io::Address self, KvApiOptions options = {});
  ~KvApi();
  KvApi(const KvApi&) = delete;
  KvApi& operator=(const KvApi&) = delete;

  // Whether `request` is the API's (its path starts with /v1/).
  static bool serves(const HttpRequest& request);
  // Answers one request of the API. Suspends while the group answers.
  HttpResponse answer(const HttpRequest& request);
  void stop() { stopping_ = true; }
  size_t requests_in_flight() const { return in_flight_; }

 private:
  std::unique_ptr<engine::Client> take_client();
  void give_back(std::unique_ptr<engine::Client> client);
  // The group's answer to `call`, through `client`, by `deadline`. Suspends.
  Result<wire::ClientResponse> send(engine::Client& client, const KvCall& call, Instant deadline);

  io::Runtime& runtime_;
  engine::GroupIdentity group_;
  std::vector<io::Address> members_;
  io::Address self_;
  KvApiOptions options_;
  std::vector<std::unique_ptr<engine::Client>> idle_clients_;
  size_t in_flight_ = 0;
  bool stopping_ = false;
};

}  // namespace quire::tools
