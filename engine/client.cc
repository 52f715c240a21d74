#include "engine/client.h"

#include "engine/codec.h"
#include "io/base/planted_bug.h"
#include "io/base/text.h"

namespace quire::engine {
namespace {

// Outcomes after which the request surely did not apply and may go elsewhere.
bool retryable(wire::Outcome outcome) {
  return outcome == wire::NOT_LEADER || outcome == wire::UNAVAILABLE || outcome == wire::BUSY;
}

// Whether an error of call_once() ends call(): the group refusing the client (a wrong group,
// token or protocol version, which no retry mends), or an unknown outcome of a transaction (a
// retry could apply it twice). A member that is down (unreachable), silent or cut off is one
// member: the others are tried. A read or a status request changes nothing, so it is simply
// asked again.
bool final_error(const Error& error, const wire::ClientRequest& request) {
  if (error.code() == ErrorCode::refused) return true;
  if (planted(PlantedBug::client_gives_up_on_unreachable) &&
      error.code() == ErrorCode::unreachable) {
    return true;
  }
  return error.code() == ErrorCode::unknown_outcome && request.has_transaction();
}

}  // namespace

Client::Client(io::Runtime& runtime, GroupIdentity group, std::vector<io::Address> members,
               ClientOptions options)
    : runtime_(runtime),
      group_(std::move(group)),
      members_(std::move(members)),
      options_(options),
      read_patience_(options.read_attempt_timeout) {
  QUIRE_ASSERT(!members_.empty());
  QUIRE_ASSERT(options_.read_attempt_timeout <= options_.read_attempt_timeout_limit);
  leader_guess_ = static_cast<size_t>(runtime_.rng().uniform(members_.size()));
}

Client::~Client() = default;

void Client::forget(const io::Address& member) {
  connections_.erase(member.to_string());
}

Result<io::Connection*> Client::connection_to(const io::Address& member) {
  const std::string key = member.to_string();
  auto found = connections_.find(key);
  if (found != connections_.end()) return found->second.get();
  const Instant deadline = runtime_.now() + options_.connect_timeout;
  QUIRE_TRY_ASSIGN(std::unique_ptr<io::Connection> connection,
                   runtime_.network().connect(member, deadline));
  wire::Frame hello;
  hello.mutable_hello()->set_group(group_.name);
  hello.mutable_hello()->set_token(group_.token);
  hello.mutable_hello()->set_protocol_version(protocol_version);
  hello.mutable_hello()->set_peer(wire::Hello::CLIENT);
  QUIRE_TRY(connection->send(seal_frame(hello)));
  QUIRE_TRY_ASSIGN(Bytes reply_bytes, connection->receive(deadline));
  QUIRE_TRY_ASSIGN(wire::Frame reply, open_frame(reply_bytes));
  if (!reply.has_hello_reply() || !reply.hello_reply().accepted()) {
    return Error(ErrorCode::refused,
                 concat(key, " refused the client: ",
                        reply.has_hello_reply() ? reply.hello_reply().reason() : "no hello reply"));
  }
  io::Connection* raw = connection.get();
  connections_[key] = std::move(connection);
  return raw;
}

Result<wire::ClientResponse> Client::call_once(const io::Address& member,
                                               wire::ClientRequest request) {
  QUIRE_TRY_ASSIGN(io::Connection * connection, connection_to(member));
  const Duration patience = answer_timeout(request);
  const bool is_read = !request.has_transaction();
  const uint64_t id = next_request_++;
  request.set_request_id(id);
  wire::Frame frame;
  *frame.mutable_client_request() = std::move(request);
  if (Status sent = connection->send(seal_frame(frame)); !sent.ok()) {
    // send() fails only before the frame is queued: it never left.
    forget(member);
    return std::move(sent).error();
  }
  auto reply_bytes = connection->receive(runtime_.now() + patience);
  if (!reply_bytes.ok()) {
    forget(member);
    if (is_read) read_patience_ = std::min(read_patience_ * 2, options_.read_attempt_timeout_limit);
    return Error(ErrorCode::unknown_outcome, concat("no answer from ", member.to_string(), ": ",
                                                    reply_bytes.error().to_string()));
  }
  auto reply = open_frame(*reply_bytes);
  if (!reply.ok() || !reply->has_client_response() || reply->client_response().request_id() != id) {
    forget(member);
    return Error(ErrorCode::unknown_outcome, concat("a garbled answer from ", member.to_string()));
  }
  return std::move(*reply->mutable_client_response());
}

Duration Client::answer_timeout(const wire::ClientRequest& request) const {
  if (request.has_transaction()) return options_.attempt_timeout;
  const int64_t wait_ms = request.has_read() ? request.read().wait_ms() : 0;
  return read_patience_ + Duration::milliseconds(wait_ms);
}

void Client::guess_leader(const std::string& address) {
  for (size_t index = 0; index < members_.size(); index++) {
    if (members_[index].to_string() == address) {
      leader_guess_ = index;
      return;
    }
  }
  next_member();
}

void Client::next_member() {
  leader_guess_ = (leader_guess_ + 1) % members_.size();
}

void Client::note_answer(const io::Address& member, std::string answer) {
  last_answers_[member.to_string()] = std::move(answer);
}

std::string Client::answers_text() const {
  std::string text;
  for (const io::Address& member : members_) {
    const auto found = last_answers_.find(member.to_string());
    text += concat(text.empty() ? "" : "; ", member.to_string(), ": ",
                   found == last_answers_.end() ? std::string("not tried") : found->second);
  }
  return text;
}

Result<wire::ClientResponse> Client::call(wire::ClientRequest request, Instant deadline) {
  last_answers_.clear();
  while (runtime_.now() < deadline) {
    const io::Address member = members_[leader_guess_];
    auto response = call_once(member, request);
    if (!response.ok()) {
      if (final_error(response.error(), request)) return response;
      note_answer(member, response.error().to_string());
      next_member();
      runtime_.sleep_for(options_.retry_delay);
      continue;
    }
    if (!retryable(response->outcome())) return response;
    note_answer(member, concat(wire::Outcome_Name(response->outcome()),
                               response->message().empty() ? "" : " (", response->message(),
                               response->message().empty() ? "" : ")"));
    if (response->outcome() == wire::NOT_LEADER && !response->leader_address().empty() &&
        response->leader_address() != member.to_string()) {
      guess_leader(response->leader_address());
    } else {
      next_member();
      runtime_.sleep_for(options_.retry_delay);
    }
  }
  return Error(ErrorCode::unavailable,
               concat("no leader answered before the deadline; last answers: ", answers_text()));
}

Result<wire::ClientResponse> Client::call_member(const io::Address& member,
                                                 wire::ClientRequest request, Instant deadline) {
  last_answers_.clear();
  while (runtime_.now() < deadline) {
    auto response = call_once(member, request);
    if (!response.ok()) {
      if (final_error(response.error(), request)) return response;
      note_answer(member, response.error().to_string());
      runtime_.sleep_for(options_.retry_delay);
      continue;
    }
    if (!retryable(response->outcome())) return response;
    note_answer(member, wire::Outcome_Name(response->outcome()));
    runtime_.sleep_for(options_.retry_delay);
  }
  const auto last = last_answers_.find(member.to_string());
  return Error(
      ErrorCode::unavailable,
      concat(member.to_string(), " did not answer in time",
             last == last_answers_.end() ? std::string() : concat("; last: ", last->second)));
}

}  // namespace quire::engine
