// Fabric: the simulated network between nodes. Connections carry frames in order with a drawn
// latency; a link can be blocked (partitions: frames are held and, past the retransmit timeout,
// the connection breaks), clogged (frames are held, then delivered), reset, or flip bits in
// flight. A frame is never lost inside a live connection: it arrives, or the connection breaks
// and both ends see `closed`. See docs/io.md, "Simulated network".
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "io/base/rng.h"
#include "io/network.h"

namespace quire::sim {

class World;
class SimRuntime;
class SimConnection;
class SimListener;

struct InFlight {
  Bytes frame;
  Instant due;
  Instant first_attempt;
  bool fin = false;
};

// Both directions of one connection. Side 0 connected, side 1 accepted.
struct ConnectionState {
  uint64_t id = 0;
  size_t node[2] = {0, 0};
  bool broken = false;
  bool closed_here[2] = {false, false};  // Side i closed (or its process died).
  bool fin_arrived[2] = {false, false};  // Side i received the other side's close.
  std::deque<Bytes> inbox[2];            // Arrived at side i, not yet received.
  std::deque<InFlight> in_flight[2];     // Sent by side i, not yet arrived.
  uint64_t unread_bytes[2] = {0, 0};     // Sent by side i, not yet received by the other.
  bool pump_armed[2] = {false, false};
  SimConnection* endpoint[2] = {nullptr, nullptr};
};

class Fabric {
 public:
  Fabric(World& world, uint64_t seed);
  ~Fabric();

  // The io::Network of one process of `node`.
  std::unique_ptr<io::Network> endpoint(SimRuntime& runtime, size_t node);

  void set_blocked(size_t from, size_t to, bool blocked);
  bool blocked(size_t from, size_t to) const { return blocked_.contains({from, to}); }
  void clog(size_t from, size_t to, Instant until);
  Instant clogged_until(size_t from, size_t to) const;
  void heal();
  size_t reset_node(size_t node);
  bool reset_random();
  size_t live_connection_count();

  // Used by endpoints.
  World& world() { return world_; }
  Rng& rng() { return rng_; }
  std::shared_ptr<ConnectionState> open_connection(size_t client_node, size_t server_node);
  void send(ConnectionState& state, int side, Bytes frame, bool fin);
  void break_connection(ConnectionState& state, const char* why);
  void add_listener(size_t node, uint16_t port, SimListener* listener);
  void remove_listener(size_t node, uint16_t port);
  SimListener* listener(size_t node, uint16_t port) const;
  Duration draw_latency();

 private:
  void arm_pump(const std::shared_ptr<ConnectionState>& state, int side, Instant when);
  void pump(const std::shared_ptr<ConnectionState>& state, int side);
  void wake(ConnectionState& state, int side);

  World& world_;
  Rng rng_;
  std::set<std::pair<size_t, size_t>> blocked_;
  std::map<std::pair<size_t, size_t>, Instant> clogged_;
  std::map<uint64_t, std::weak_ptr<ConnectionState>> connections_;  // By id: deterministic.
  std::map<std::pair<size_t, uint16_t>, SimListener*> listeners_;
  uint64_t next_connection_ = 1;
};

}  // namespace quire::sim
