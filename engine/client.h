// Client: talks to a replication group on behalf of an application, a benchmark or the
// simulator's workloads. It finds the leader (following not_leader redirects) and remembers it,
// and it keeps the outcome honest: a transaction is retried only when it surely did not apply
// (never sent, or answered not_leader, unavailable or busy); a connection that breaks after the
// transaction left makes the outcome unknown, and that is what the caller gets. A read changes
// nothing, so a lost answer is asked again elsewhere.
//
// Until its deadline a call tries every member in turn: a member that is down (unreachable),
// paused or partitioned (no handshake within connect_timeout) costs one bound, not the deadline.
// Only the group refusing the client in its handshake (wrong group, token or protocol) ends a call
// early. docs/operations.md, "The client's retries".
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
  // Connect and handshake with one member. Shorter than the group's election timeout (300 ms at
  // the default tick), so a paused or cut-off member costs less than electing a new leader.
  Duration connect_timeout = Duration::milliseconds(250);
  // How long a read or status request first waits for its answer at one member before it is
  // asked again, beyond the time the read itself may wait (Read.wait_ms). As short as the group's
  // election timeout: a leader that stopped after it took the read costs the reader no more than
  // electing the next one does. Each read that goes unanswered doubles the wait, up to
  // read_attempt_timeout_limit, so a leader that is only slow (a quorum round or a read repair
  // on a loaded host) is not asked again and again: the client backs off instead of adding load.
  Duration read_attempt_timeout = Duration::milliseconds(300);
  Duration read_attempt_timeout_limit = Duration::seconds(4);
  // How long a transaction waits for its answer; past it the outcome is unknown.
  Duration attempt_timeout = Duration::seconds(5);
  Duration retry_delay = Duration::milliseconds(20);
};

class Client {
 public:
  Client(io::Runtime& runtime, GroupIdentity group, std::vector<io::Address> members,
         ClientOptions options = {});
  ~Client();

  // Sends `request` to `member` once and waits for its answer. Errors: unknown_outcome (the
  // connection broke after the request was sent, or the answer is late), refused (the member's
  // handshake turned the client away) / unreachable / closed / timeout (it was never sent).
  Result<wire::ClientResponse> call_once(const io::Address& member, wire::ClientRequest request);
  // Sends `request` to the leader, following redirects and retrying what surely did not apply,
  // until `deadline`. The answer is the first definite one (ok, condition_failed, invalid,
  // timeout, unknown). Errors: unknown_outcome (as above; transactions only: a read whose answer
  // was lost is asked again), refused (the group refused the client), unavailable (no definite
  // answer by the deadline, and nothing was ever possibly applied; the message names what each
  // member last answered).
  Result<wire::ClientResponse> call(wire::ClientRequest request, Instant deadline);
  // As call(), at one member, for reads that any member serves.
  Result<wire::ClientResponse> call_member(const io::Address& member, wire::ClientRequest request,
                                           Instant deadline);

  const io::Address& leader_guess() const { return members_[leader_guess_]; }

 private:
  Result<io::Connection*> connection_to(const io::Address& member);
  void forget(const io::Address& member);
  void guess_leader(const std::string& address);
  void next_member();
  // Keeps what `member` answered last, for the unavailable message.
  void note_answer(const io::Address& member, std::string answer);
  std::string answers_text() const;
  // How long to wait for the answer to `request` at one member.
  Duration answer_timeout(const wire::ClientRequest& request) const;

  io::Runtime& runtime_;
  GroupIdentity group_;
  std::vector<io::Address> members_;
  ClientOptions options_;
  std::map<std::string, std::unique_ptr<io::Connection>> connections_;
  std::map<std::string, std::string> last_answers_;  // Of the current call, by member address.
  size_t leader_guess_ = 0;
  Duration read_patience_;  // Doubles with every read attempt that went unanswered.
  uint64_t next_request_ = 1;
};

}  // namespace quire::engine
