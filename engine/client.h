// Client: talks to a replication group on behalf of an application, a benchmark or the
// simulator's workloads. It finds the leader (following not_leader redirects), and it keeps the
// outcome honest: a request is retried only when it surely did not apply (refused before it was
// sent, or answered not_leader, unavailable or busy); a connection that breaks after the request
// left makes the outcome unknown, and that is what the caller gets.
//
// One request at a time per Client (it owns one connection per member). Suspends.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/transport.h"
#include "engine/wire/wire.pb.h"
#include "io/runtime.h"

namespace quire::engine {

struct ClientOptions {
  Duration attempt_timeout = Duration::seconds(5);
  Duration retry_delay = Duration::milliseconds(20);
};

class Client {
 public:
  Client(io::Runtime& runtime, GroupIdentity group, std::vector<io::Address> members,
         ClientOptions options = {});
  ~Client();

  // Sends `request` to `member` once and waits for its answer. Errors: unknown_outcome (the
  // connection broke after the request was sent, or the answer is late), refused / closed /
  // timeout (it was never sent).
  Result<wire::ClientResponse> call_once(const io::Address& member, wire::ClientRequest request);
  // Sends `request` to the leader, following redirects and retrying what surely did not apply,
  // until `deadline`. The answer is the first definite one (ok, condition_failed, invalid,
  // timeout, unknown). Errors: unknown_outcome (as above; transactions only: a read whose answer
  // was lost is asked again), unavailable (no definite answer by the deadline, and nothing was
  // ever possibly applied).
  Result<wire::ClientResponse> call(wire::ClientRequest request, Instant deadline);
  // As call(), at one member, for reads that any member serves.
  Result<wire::ClientResponse> call_member(const io::Address& member, wire::ClientRequest request,
                                           Instant deadline);

  const io::Address& leader_guess() const { return members_[leader_guess_]; }

 private:
  Result<io::Connection*> connection_to(const io::Address& member);
  void forget(const io::Address& member);
  void guess_leader(const std::string& address);

  io::Runtime& runtime_;
  GroupIdentity group_;
  std::vector<io::Address> members_;
  ClientOptions options_;
  std::map<std::string, std::unique_ptr<io::Connection>> connections_;
  size_t leader_guess_ = 0;
  uint64_t next_request_ = 1;
};

}  // namespace quire::engine
