#include "engine/transport.h"

#include <algorithm>

#include "engine/codec.h"
#include "engine/member_list.h"
#include "io/base/text.h"

namespace quire::engine {

struct Transport::Link {
  Link(io::Runtime& runtime, NodeId member, size_t frames_max)
      : member(member), queue(runtime, frames_max) {}

  NodeId member;
  io::Channel<Bytes> queue;
  uint64_t queued_bytes = 0;
  std::unique_ptr<io::Connection> connection;
};

namespace {

Result<wire::Frame> receive_frame(io::Connection& connection, Instant deadline) {
  QUIRE_TRY_ASSIGN(Bytes bytes, connection.receive(deadline));
  return open_frame(bytes);
}

Status send_frame(io::Connection& connection, const wire::Frame& frame) {
  return connection.send(seal_frame(frame));
}

}  // namespace

Transport::Transport(io::Runtime& runtime, NodeId self, GroupIdentity group,
                     std::vector<MemberAddress> members, Handlers handlers,
                     TransportOptions options)
    : runtime_(runtime),
      self_(self),
      group_(std::move(group)),
      members_(std::move(members)),
      members_digest_(member_list_digest(members_)),
      handlers_(std::move(handlers)),
      options_(options),
      stop_requested_(runtime),
      all_stopped_(runtime) {
  for (const MemberAddress& member : members_) {
    if (member.id == self_) continue;
    links_.emplace(member.id,
                   std::make_unique<Link>(runtime_, member.id, options_.link_queue_frames_max));
  }
}

Transport::~Transport() {
  QUIRE_ASSERT(fibers_running_ == 0 || runtime_.scheduler().killing());
}

const io::Address& Transport::address_of(NodeId member) const {
  for (const MemberAddress& each : members_) {
    if (each.id == member) return each.address;
  }
  QUIRE_UNREACHABLE();
}

void Transport::spawn_tracked(std::string name, std::function<void()> body) {
  fibers_running_++;
  runtime_.spawn(std::move(name), [this, body = std::move(body)] {
    struct Done {
      Transport& transport;
      ~Done() {
        if (--transport.fibers_running_ == 0 && transport.stopping_) transport.all_stopped_.set();
      }
    } done{*this};
    body();
  });
}

Status Transport::start() {
  QUIRE_TRY_ASSIGN(listener_, runtime_.network().listen(address_of(self_)));
  spawn_tracked("accept", [this] { accept_loop(); });
  for (auto& [member, link] : links_) {
    Link* raw = link.get();
    spawn_tracked(concat("link-", member), [this, raw] { run_link(*raw); });
  }
  return ok_status();
}

void Transport::stop() {
  if (stopping_) return;
  stopping_ = true;
  stop_requested_.set();
  if (listener_) listener_->close();
  for (auto& [member, link] : links_) {
    link->queue.close();
    if (link->connection) link->connection->close();
  }
  for (io::Connection* connection : open_connections_)
    connection->close();
  if (fibers_running_ > 0) all_stopped_.wait();
}

void Transport::accept_loop() {
  while (!stopping_) {
    auto accepted = listener_->accept();
    if (!accepted.ok()) {
      if (stopping_ || accepted.code() == ErrorCode::closed) return;
      continue;
    }
    std::shared_ptr<io::Connection> connection = std::move(*accepted);
    spawn_tracked(concat("in-", next_connection_++), [this, connection] {
      open_connections_.push_back(connection.get());
      struct Forget {
        std::vector<io::Connection*>& open;
        io::Connection* connection;
        ~Forget() { std::erase(open, connection); }
      } forget{open_connections_, connection.get()};
      serve_connection(*connection);
    });
  }
}

void Transport::count_rejection(std::string why) {
  stats_.frames_rejected++;
  stats_.last_rejection = std::move(why);
}

Status Transport::refuse(io::Connection& connection, const std::string& reason) {
  stats_.handshakes_refused++;
  stats_.last_refusal = reason;
  runtime_.trace(concat("transport refuses a peer: ", reason));
  wire::Frame frame;
  frame.mutable_hello_reply()->set_accepted(false);
  frame.mutable_hello_reply()->set_reason(reason);
  frame.mutable_hello_reply()->set_node(self_.value());
  (void)send_frame(connection, frame);
  connection.close();
  return Error(ErrorCode::refused, reason);
}

void Transport::serve_connection(io::Connection& connection) {
  auto hello_frame = receive_frame(connection, runtime_.now() + options_.handshake_timeout);
  if (!hello_frame.ok()) {
    // Garbled in flight (it fails its checksum) or never sent: no refusal, which a client takes
    // as the group's final word (a wrong group or token). Closed, the connection is one failed
    // attempt: the client tries again or asks another member (fuzz seed 17, docs/harness.md).
    count_rejection(concat("no readable hello: ", hello_frame.error().to_string()));
    runtime_.trace(concat("transport closes a connection without a readable hello: ",
                          hello_frame.error().to_string()));
    connection.close();
    return;
  }
  if (!hello_frame->has_hello()) {
    count_rejection("expected a hello");
    (void)refuse(connection, "expected a hello");
    return;
  }
  const wire::Hello& hello = hello_frame->hello();
  if (hello.group() != group_.name) {
    (void)refuse(connection, concat("wrong group: this is '", group_.name, "', the peer is in '",
                                    hello.group(), "'"));
    return;
  }
  if (hello.token() != group_.token) {
    (void)refuse(connection, concat("wrong token for group '", group_.name, "'"));
    return;
  }
  if (hello.protocol_version() != protocol_version) {
    (void)refuse(connection, concat("protocol version ", hello.protocol_version(), ", expected ",
                                    protocol_version));
    return;
  }
  const NodeId peer(hello.node());
  const bool is_member = hello.peer() == wire::Hello::MEMBER;
  if (is_member && (peer == self_ || !links_.contains(peer))) {
    (void)refuse(connection, concat("node ", peer, " is not a member of '", group_.name, "'"));
    return;
  }
  if (is_member && hello.members_digest() != members_digest_) {
    // Members with different lists would count different majorities.
    (void)refuse(connection,
                 concat("member list differs: member ", self_, " has ", member_list_text(members_),
                        " (digest ", hex64(members_digest_), "), member ", peer, " has digest ",
                        hex64(hello.members_digest())));
    return;
  }
  if (!is_member && hello.peer() != wire::Hello::CLIENT) {
    (void)refuse(connection, "unknown kind of peer");
    return;
  }
  wire::Frame reply;
  reply.mutable_hello_reply()->set_accepted(true);
  reply.mutable_hello_reply()->set_node(self_.value());
  if (!send_frame(connection, reply).ok()) return;
  if (is_member) {
    serve_member(connection, peer);
  } else {
    serve_client(connection);
  }
}

void Transport::serve_member(io::Connection& connection, NodeId peer) {
  while (!stopping_) {
    auto frame = receive_frame(connection, Instant::max());
    if (!frame.ok()) {
      if (frame.code() != ErrorCode::closed) {
        count_rejection(concat("from member ", peer, ": ", frame.error().to_string()));
      }
      return;
    }
    stats_.frames_received++;
    if (frame->has_peer()) {
      auto envelope = decode_envelope(frame->peer());
      if (!envelope.ok() || envelope->from != peer || envelope->to != self_) {
        count_rejection(concat("a bad message from member ", peer));
        runtime_.trace(concat("transport drops a bad message from ", peer));
        return;
      }
      handlers_.on_peer_message(std::move(*envelope));
    } else if (frame->has_bulk_request()) {
      wire::Frame response;
      *response.mutable_bulk_response() = handlers_.on_bulk_request(peer, frame->bulk_request());
      if (!send_frame(connection, response).ok()) return;
    } else {
      count_rejection(concat("a frame of no known kind from member ", peer));
      return;
    }
  }
}

void Transport::serve_client(io::Connection& connection) {
  while (!stopping_) {
    auto frame = receive_frame(connection, Instant::max());
    if (!frame.ok()) {
      if (frame.code() != ErrorCode::closed) {
        count_rejection(concat("from a client: ", frame.error().to_string()));
      }
      return;
    }
    if (!frame->has_client_request()) {
      count_rejection("a client frame that is no request");
      return;
    }
    wire::Frame response;
    *response.mutable_client_response() = handlers_.on_client_request(frame->client_request());
    if (!send_frame(connection, response).ok()) return;
  }
}

Result<std::unique_ptr<io::Connection>> Transport::dial(NodeId member, Instant deadline) {
  QUIRE_TRY_ASSIGN(std::unique_ptr<io::Connection> connection,
                   runtime_.network().connect(address_of(member), deadline));
  wire::Frame hello;
  hello.mutable_hello()->set_group(group_.name);
  hello.mutable_hello()->set_token(group_.token);
  hello.mutable_hello()->set_protocol_version(protocol_version);
  hello.mutable_hello()->set_peer(wire::Hello::MEMBER);
  hello.mutable_hello()->set_node(self_.value());
  hello.mutable_hello()->set_members_digest(members_digest_);
  QUIRE_TRY(send_frame(*connection, hello));
  const Instant handshake_deadline =
      std::min(deadline, runtime_.now() + options_.handshake_timeout);
  QUIRE_TRY_ASSIGN(wire::Frame reply, receive_frame(*connection, handshake_deadline));
  if (!reply.has_hello_reply()) {
    return Error(ErrorCode::corruption, concat("member ", member, " answered the hello oddly"));
  }
  if (!reply.hello_reply().accepted()) {
    stats_.handshakes_refused++;
    stats_.last_refusal = reply.hello_reply().reason();
    return Error(ErrorCode::refused,
                 concat("member ", member, " refused us: ", reply.hello_reply().reason()));
  }
  return connection;
}

void Transport::run_link(Link& link) {
  Duration delay = options_.reconnect_delay_min;
  while (!stopping_) {
    auto dialed = dial(link.member, runtime_.now() + options_.connect_timeout);
    if (!dialed.ok()) {
      if (stopping_) return;
      // Exponential back-off with jitter, so that a restarting group does not reconnect in step.
      const int64_t jitter =
          static_cast<int64_t>(runtime_.rng().uniform(static_cast<uint64_t>(delay.ns() / 2 + 1)));
      (void)stop_requested_.wait(runtime_.now() + delay + Duration::nanoseconds(jitter));
      delay = std::min(delay * 2, options_.reconnect_delay_max);
      continue;
    }
    delay = options_.reconnect_delay_min;
    link.connection = std::move(*dialed);
    for (;;) {
      auto frame = link.queue.receive();
      if (!frame.ok()) {
        link.connection.reset();
        return;  // Closed by stop().
      }
      link.queued_bytes -= frame->size();
      if (!link.connection->send(*frame).ok()) break;
      stats_.frames_sent++;
    }
    link.connection.reset();
  }
}

void Transport::send(const core::Envelope& envelope) {
  auto found = links_.find(envelope.to);
  QUIRE_ASSERT(found != links_.end());
  Link& link = *found->second;
  wire::Frame frame;
  *frame.mutable_peer() = encode_envelope(envelope);
  Bytes sealed = seal_frame(frame);
  if (link.queued_bytes + sealed.size() > options_.link_queue_bytes_max) {
    stats_.frames_dropped++;
    return;
  }
  const uint64_t size = sealed.size();
  if (!link.queue.try_send(std::move(sealed)).ok()) {
    stats_.frames_dropped++;
    return;
  }
  link.queued_bytes += size;
}

Result<wire::BulkResponse> Transport::bulk(NodeId peer, const wire::BulkRequest& request,
                                           Instant deadline) {
  QUIRE_TRY_ASSIGN(std::unique_ptr<io::Connection> connection, dial(peer, deadline));
  wire::Frame frame;
  *frame.mutable_bulk_request() = request;
  QUIRE_TRY(send_frame(*connection, frame));
  QUIRE_TRY_ASSIGN(wire::Frame reply, receive_frame(*connection, deadline));
  if (!reply.has_bulk_response() || reply.bulk_response().request_id() != request.request_id()) {
    return Error(ErrorCode::corruption, concat("member ", peer, " answered another request"));
  }
  return std::move(*reply.mutable_bulk_response());
}

}  // namespace quire::engine
