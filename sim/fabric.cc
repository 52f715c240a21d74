#include "sim/fabric.h"

#include <algorithm>

#include "io/base/text.h"
#include "io/sync.h"
#include "sim/sim_runtime.h"
#include "sim/world.h"

namespace quire::sim {

// One end of a connection, owned by the process that connected or accepted it.
class SimConnection : public io::Connection {
 public:
  SimConnection(Fabric& fabric, SimRuntime& runtime, std::shared_ptr<ConnectionState> state,
                int side)
      : fabric_(fabric),
        runtime_(runtime),
        state_(std::move(state)),
        side_(side),
        receivers_(runtime),
        senders_(runtime) {
    QUIRE_ASSERT(state_->endpoint[side_] == nullptr);
    state_->endpoint[side_] = this;
  }

  ~SimConnection() override {
    close();
    state_->endpoint[side_] = nullptr;
  }

  Status send(ByteView frame) override {
    if (frame.size() > io::max_frame_size_bytes) {
      return Error(ErrorCode::invalid_argument,
                   concat("frame of ", frame.size(), " bytes exceeds the limit"));
    }
    const uint64_t limit = fabric_.world().network_model().send_buffer_bytes;
    while (usable() && state_->unread_bytes[side_] > 0 &&
           state_->unread_bytes[side_] + frame.size() > limit) {
      senders_.wait();
    }
    if (!usable()) return Error(ErrorCode::closed, concat("connection to ", peer(), " closed"));
    fabric_.send(*state_, side_, Bytes(frame.begin(), frame.end()), false);
    return ok_status();
  }

  Result<Bytes> receive(Instant deadline) override {
    for (;;) {
      if (state_->broken)
        return Error(ErrorCode::closed, concat("connection to ", peer(), " reset"));
      std::deque<Bytes>& inbox = state_->inbox[side_];
      if (!inbox.empty()) {
        Bytes frame = std::move(inbox.front());
        inbox.pop_front();
        const int other = 1 - side_;
        QUIRE_ASSERT(state_->unread_bytes[other] >= frame.size());
        state_->unread_bytes[other] -= frame.size();
        if (state_->endpoint[other] != nullptr) state_->endpoint[other]->wake();
        return frame;
      }
      if (state_->closed_here[side_] || state_->fin_arrived[side_]) {
        return Error(ErrorCode::closed, concat("connection to ", peer(), " closed"));
      }
      if (!receivers_.wait(deadline)) {
        return Error(ErrorCode::timeout, concat("no frame from ", peer(), " before the deadline"));
      }
    }
  }

  void close() override {
    if (state_->closed_here[side_]) return;
    state_->closed_here[side_] = true;
    state_->inbox[side_].clear();
    if (!state_->broken) fabric_.send(*state_, side_, Bytes(), true);
    wake();
  }

  std::string peer() const override { return fabric_.world().node_name(state_->node[1 - side_]); }

  void wake() {
    receivers_.notify_all();
    senders_.notify_all();
  }

 private:
  bool usable() const {
    return !state_->broken && !state_->closed_here[side_] && !state_->fin_arrived[side_];
  }

  Fabric& fabric_;
  SimRuntime& runtime_;
  std::shared_ptr<ConnectionState> state_;
  int side_;
  io::WaitQueue receivers_;
  io::WaitQueue senders_;
};

class SimListener : public io::Listener {
 public:
  static constexpr size_t backlog_limit = 128;

  SimListener(Fabric& fabric, SimRuntime& runtime, size_t node, uint16_t port)
      : fabric_(fabric), runtime_(runtime), node_(node), port_(port), acceptors_(runtime) {
    fabric_.add_listener(node_, port_, this);
  }
  ~SimListener() override { close(); }

  Result<std::unique_ptr<io::Connection>> accept() override {
    for (;;) {
      if (closed_) return Error(ErrorCode::closed, "listener closed");
      if (!backlog_.empty()) {
        std::shared_ptr<ConnectionState> state = std::move(backlog_.front());
        backlog_.pop_front();
        runtime_.trace(
            concat("net accept c", state->id, " from ", fabric_.world().node_name(state->node[0])));
        return std::unique_ptr<io::Connection>(
            std::make_unique<SimConnection>(fabric_, runtime_, std::move(state), 1));
      }
      acceptors_.wait();
    }
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    fabric_.remove_listener(node_, port_);
    for (auto& state : backlog_)
      fabric_.break_connection(*state, "listener closed");
    backlog_.clear();
    acceptors_.notify_all();
  }

  bool enqueue(std::shared_ptr<ConnectionState> state) {
    if (closed_ || backlog_.size() >= backlog_limit) return false;
    backlog_.push_back(std::move(state));
    acceptors_.notify_one();
    return true;
  }

 private:
  Fabric& fabric_;
  SimRuntime& runtime_;
  size_t node_;
  uint16_t port_;
  bool closed_ = false;
  std::deque<std::shared_ptr<ConnectionState>> backlog_;
  io::WaitQueue acceptors_;
};

// The io::Network of one process.
class SimNetwork : public io::Network {
 public:
  SimNetwork(Fabric& fabric, SimRuntime& runtime, size_t node)
      : fabric_(fabric), runtime_(runtime), node_(node) {}

  Result<std::unique_ptr<io::Listener>> listen(const io::Address& address) override {
    if (address.host != fabric_.world().node_name(node_)) {
      return Error(ErrorCode::invalid_argument, concat("node ", fabric_.world().node_name(node_),
                                                       " cannot listen on ", address.to_string()));
    }
    if (fabric_.listener(node_, address.port) != nullptr) {
      return Error(ErrorCode::already_exists, concat("port ", address.port, " in use"));
    }
    runtime_.trace(concat("net listen ", address.to_string()));
    return std::unique_ptr<io::Listener>(
        std::make_unique<SimListener>(fabric_, runtime_, node_, address.port));
  }

  Result<std::unique_ptr<io::Connection>> connect(const io::Address& address,
                                                  Instant deadline) override {
    World& world = fabric_.world();
    const size_t target = world.find_node(address.host);
    if (target == world.node_count()) {
      return Error(ErrorCode::unreachable, concat("unknown host ", address.host));
    }
    runtime_.trace(concat("net connect ", address.to_string()));
    // The handshake cannot cross a blocked link in either direction: the SYN is retried until
    // the deadline, as TCP would.
    while (fabric_.blocked(node_, target) || fabric_.blocked(target, node_)) {
      if (runtime_.now() >= deadline) {
        return Error(ErrorCode::timeout, concat("connect to ", address.to_string(), " timed out"));
      }
      runtime_.sleep_until(
          std::min(deadline, runtime_.now() + world.network_model().retransmit_interval));
    }
    runtime_.sleep_for(fabric_.draw_latency());
    SimListener* listener = fabric_.listener(target, address.port);
    if (listener == nullptr) {
      runtime_.sleep_for(fabric_.draw_latency());
      return Error(ErrorCode::unreachable, concat("nobody listens on ", address.to_string()));
    }
    std::shared_ptr<ConnectionState> state = fabric_.open_connection(node_, target);
    auto client = std::make_unique<SimConnection>(fabric_, runtime_, state, 0);
    if (!listener->enqueue(state)) {
      fabric_.break_connection(*state, "backlog full");
      return Error(ErrorCode::unreachable, concat("backlog of ", address.to_string(), " is full"));
    }
    runtime_.sleep_for(fabric_.draw_latency());
    if (state->broken) {
      return Error(ErrorCode::closed, concat("connection to ", address.to_string(), " reset"));
    }
    return std::unique_ptr<io::Connection>(std::move(client));
  }

 private:
  Fabric& fabric_;
  SimRuntime& runtime_;
  size_t node_;
};

Fabric::Fabric(World& world, uint64_t seed) : world_(world), rng_(seed) {}

Fabric::~Fabric() = default;

std::unique_ptr<io::Network> Fabric::endpoint(SimRuntime& runtime, size_t node) {
  return std::make_unique<SimNetwork>(*this, runtime, node);
}

Duration Fabric::draw_latency() {
  const NetworkModel& model = world_.network_model();
  QUIRE_ASSERT(model.latency_min <= model.latency_max);
  int64_t ns = static_cast<int64_t>(rng_.between(static_cast<uint64_t>(model.latency_min.ns()),
                                                 static_cast<uint64_t>(model.latency_max.ns())));
  if (rng_.chance(model.slow_probability)) {
    ns += static_cast<int64_t>(rng_.uniform(static_cast<uint64_t>(model.slow_max.ns()) + 1));
  }
  return Duration::nanoseconds(ns);
}

void Fabric::set_blocked(size_t from, size_t to, bool blocked) {
  if (blocked) {
    blocked_.insert({from, to});
  } else {
    blocked_.erase({from, to});
  }
}

void Fabric::clog(size_t from, size_t to, Instant until) {
  clogged_[{from, to}] = until;
}

Instant Fabric::clogged_until(size_t from, size_t to) const {
  auto found = clogged_.find({from, to});
  return found == clogged_.end() ? Instant() : found->second;
}

void Fabric::heal() {
  blocked_.clear();
  clogged_.clear();
}

std::shared_ptr<ConnectionState> Fabric::open_connection(size_t client_node, size_t server_node) {
  auto state = std::make_shared<ConnectionState>();
  state->id = next_connection_++;
  state->node[0] = client_node;
  state->node[1] = server_node;
  connections_[state->id] = state;
  return state;
}

void Fabric::send(ConnectionState& state, int side, Bytes frame, bool fin) {
  QUIRE_ASSERT(!state.broken);
  std::deque<InFlight>& queue = state.in_flight[side];
  Instant due = world_.now() + draw_latency();
  if (!queue.empty()) due = std::max(due, queue.back().due);  // In order within a connection.
  if (!fin) state.unread_bytes[side] += frame.size();
  queue.push_back(InFlight{std::move(frame), due, Instant::max(), fin});
  if (!state.pump_armed[side]) {
    auto found = connections_.find(state.id);
    QUIRE_ASSERT(found != connections_.end());
    arm_pump(found->second.lock(), side, due);
  }
}

void Fabric::arm_pump(const std::shared_ptr<ConnectionState>& state, int side, Instant when) {
  QUIRE_ASSERT(state != nullptr);
  state->pump_armed[side] = true;
  world_.schedule(
      std::max(when, world_.now()), [this, state, side] { pump(state, side); }, World::world_node,
      0);
}

void Fabric::pump(const std::shared_ptr<ConnectionState>& state, int side) {
  state->pump_armed[side] = false;
  std::deque<InFlight>& queue = state->in_flight[side];
  if (state->broken || queue.empty()) return;
  const int other = 1 - side;
  const size_t from = state->node[side];
  const size_t to = state->node[other];
  const Instant now = world_.now();
  InFlight& head = queue.front();
  if (blocked(from, to)) {
    if (head.first_attempt == Instant::max()) head.first_attempt = now;
    if (now - head.first_attempt >= world_.network_model().retransmit_timeout) {
      break_connection(*state, "retransmit timeout across a blocked link");
      return;
    }
    arm_pump(state, side, now + world_.network_model().retransmit_interval);
    return;
  }
  if (const Instant until = clogged_until(from, to); until > now) {
    arm_pump(state, side, until);
    return;
  }
  InFlight arrived = std::move(head);
  queue.pop_front();
  if (arrived.fin) {
    state->fin_arrived[other] = true;
  } else if (state->closed_here[other]) {
    state->unread_bytes[side] -= arrived.frame.size();  // The reader is gone; drop it.
  } else {
    if (!arrived.frame.empty() && rng_.chance(world_.network_model().bit_flip_probability)) {
      const uint64_t bit = rng_.uniform(arrived.frame.size() * 8);
      arrived.frame[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      world_.trace_event(World::world_node, concat("net bit flip c", state->id, " byte ", bit / 8));
    }
    state->inbox[other].push_back(std::move(arrived.frame));
  }
  wake(*state, other);
  if (!queue.empty()) arm_pump(state, side, queue.front().due);
}

void Fabric::wake(ConnectionState& state, int side) {
  if (state.endpoint[side] != nullptr) state.endpoint[side]->wake();
}

void Fabric::break_connection(ConnectionState& state, const char* why) {
  if (state.broken) return;
  state.broken = true;
  for (int side = 0; side < 2; side++) {
    state.inbox[side].clear();
    state.in_flight[side].clear();
    state.unread_bytes[side] = 0;
  }
  world_.trace_event(World::world_node,
                     concat("net reset c", state.id, " ", world_.node_name(state.node[0]), "-",
                            world_.node_name(state.node[1]), ": ", why));
  wake(state, 0);
  wake(state, 1);
}

size_t Fabric::reset_node(size_t node) {
  size_t count = 0;
  for (auto it = connections_.begin(); it != connections_.end();) {
    std::shared_ptr<ConnectionState> state = it->second.lock();
    if (state == nullptr) {
      it = connections_.erase(it);
      continue;
    }
    if (!state->broken && (state->node[0] == node || state->node[1] == node)) {
      break_connection(*state, "reset");
      count++;
    }
    ++it;
  }
  return count;
}

size_t Fabric::live_connection_count() {
  size_t count = 0;
  for (auto it = connections_.begin(); it != connections_.end();) {
    std::shared_ptr<ConnectionState> state = it->second.lock();
    if (state == nullptr) {
      it = connections_.erase(it);
      continue;
    }
    if (!state->broken) count++;
    ++it;
  }
  return count;
}

bool Fabric::reset_random() {
  std::vector<std::shared_ptr<ConnectionState>> live;
  for (auto& [id, weak] : connections_) {
    std::shared_ptr<ConnectionState> state = weak.lock();
    if (state != nullptr && !state->broken && !state->closed_here[0] && !state->closed_here[1]) {
      live.push_back(std::move(state));
    }
  }
  if (live.empty()) return false;
  break_connection(*rng_.pick(live), "reset fault");
  return true;
}

void Fabric::add_listener(size_t node, uint16_t port, SimListener* listener) {
  QUIRE_ASSERT(!listeners_.contains({node, port}));
  listeners_[{node, port}] = listener;
}

void Fabric::remove_listener(size_t node, uint16_t port) {
  listeners_.erase({node, port});
}

SimListener* Fabric::listener(size_t node, uint16_t port) const {
  auto found = listeners_.find({node, port});
  return found == listeners_.end() ? nullptr : found->second;
}

}  // namespace quire::sim
