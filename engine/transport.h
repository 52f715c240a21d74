// Transport: the connections of one member. It listens for members and clients, keeps one
// outgoing link to every other member, and speaks the handshake that keeps groups apart: a Hello
// naming the group, its token and the peer (and, from a member, the digest of its member list); a
// member of another group, a member with another member list, or a stranger, is refused with a
// reason and the connection closes. See docs/format.md, "The wire".
//
// Protocol messages are one-way and lossy by design: send() queues a frame for its peer's link
// and drops it when that queue is full (bounded in frames and bytes), since the protocol retries
// what matters. Bulk requests (HALogs, prefixes, records) and client requests are
// request/response on one connection.
//
// Fibers: "accept", one "in-<n>" per accepted connection, one "link-<member>" per peer. All
// suspend; none outlives stop().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/message.h"
#include "engine/wire/wire.pb.h"
#include "io/network.h"
#include "io/runtime.h"
#include "io/sync.h"

namespace quire::engine {

struct GroupIdentity {
  std::string name;
  uint64_t token = 0;
};

struct MemberAddress {
  NodeId id;
  io::Address address;
};

struct TransportOptions {
  size_t link_queue_frames_max = 1024;
  uint64_t link_queue_bytes_max = 64u << 20;
  Duration connect_timeout = Duration::seconds(1);
  Duration handshake_timeout = Duration::seconds(2);
  Duration reconnect_delay_min = Duration::milliseconds(50);
  Duration reconnect_delay_max = Duration::seconds(1);
};

struct TransportStats {
  uint64_t frames_sent = 0;
  uint64_t frames_dropped = 0;  // A full link queue.
  uint64_t frames_received = 0;
  uint64_t frames_rejected = 0;     // Bad checksum or bad contents: the connection closed.
  uint64_t handshakes_refused = 0;  // Wrong group, token or member, both directions.
  std::string last_refusal;
  std::string last_rejection;  // Why the last frame was rejected (for the daemon's log).
};

class Transport {
 public:
  struct Handlers {
    // A protocol message from a member. May suspend (backpressure into the driver).
    std::function<void(core::Envelope)> on_peer_message;
    // A bulk request from a member. May suspend (disk reads).
    std::function<wire::BulkResponse(NodeId from, const wire::BulkRequest&)> on_bulk_request;
    // A client request. May suspend (a transaction waits for its commit).
    std::function<wire::ClientResponse(const wire::ClientRequest&)> on_client_request;
  };

  Transport(io::Runtime& runtime, NodeId self, GroupIdentity group,
            std::vector<MemberAddress> members, Handlers handlers, TransportOptions options = {});
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Listens on this member's address and starts the links. Errors: those of listen().
  Status start();
  // Closes everything and waits for every fiber of the transport to end. Suspends.
  void stop();

  // Queues a protocol message for its peer's link; drops it if the queue is full. Never suspends.
  void send(const core::Envelope& envelope);
  // A request/response exchange with `peer` on a connection of its own. Suspends.
  // Errors: refused (the peer's handshake turned us away), unreachable, timeout, closed,
  // corruption (a bad answer).
  Result<wire::BulkResponse> bulk(NodeId peer, const wire::BulkRequest& request, Instant deadline);

  const TransportStats& stats() const { return stats_; }
  const io::Address& address_of(NodeId member) const;

 private:
  struct Link;
  void accept_loop();
  void serve_connection(io::Connection& connection);
  void serve_member(io::Connection& connection, NodeId peer);
  void serve_client(io::Connection& connection);
  void run_link(Link& link);
  // Connects to `member` and completes the handshake. Suspends.
  Result<std::unique_ptr<io::Connection>> dial(NodeId member, Instant deadline);
  Status refuse(io::Connection& connection, const std::string& reason);
  // A frame that breaks the protocol: counted, and why, for the daemon's log.
  void count_rejection(std::string why);
  void spawn_tracked(std::string name, std::function<void()> body);

  io::Runtime& runtime_;
  NodeId self_;
  GroupIdentity group_;
  std::vector<MemberAddress> members_;
  uint64_t members_digest_;  // Sent in every hello; a member hello with another is refused.
  Handlers handlers_;
  TransportOptions options_;
  std::unique_ptr<io::Listener> listener_;
  std::map<NodeId, std::unique_ptr<Link>> links_;
  std::vector<io::Connection*> open_connections_;
  bool stopping_ = false;
  // Set by stop(): wakes links sleeping out a reconnect back-off.
  io::Event stop_requested_;
  size_t fibers_running_ = 0;
  io::Event all_stopped_;
  uint64_t next_connection_ = 0;
  TransportStats stats_;
};

}  // namespace quire::engine
