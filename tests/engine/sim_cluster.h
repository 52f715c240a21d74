// A simulated group of real Nodes for the engine's tests: members n1..nN in one world, each with
// a disk of its own, and client nodes that run a body to its end. Test support only.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/client.h"
#include "engine/node.h"
#include "io/base/text.h"
#include "sim/world.h"
#include "store/format.h"

namespace quire::engine::sim_cluster {

inline constexpr uint16_t port = 7000;
// Each node has a disk of its own and the journal at the root of its data directory.
inline const std::string journal_path(store::format::journal_file_name);

inline NodeConfig member_config(uint32_t self, uint32_t member_count) {
  NodeConfig config;
  config.self = NodeId(self);
  config.group = GroupIdentity{"test-group", 0x5eed};
  for (uint32_t id = 1; id <= member_count; id++) {
    config.members.push_back(MemberAddress{NodeId(id), io::Address{concat("n", id), port}});
  }
  config.journal.write_cache_block_size_bytes = 64 * 1024;
  return config;
}

struct Cluster {
  // Declared before the world: the world's destruction unwinds the nodes, which touch these.
  std::map<std::string, Node*> nodes;  // While running.
  std::vector<std::string> exits;
  sim::World world;

  explicit Cluster(uint64_t seed, uint32_t member_count = 3,
                   std::function<void(NodeConfig&)> tune = {})
      : world(sim::WorldOptions{.seed = seed}) {
    for (uint32_t id = 1; id <= member_count; id++) {
      const std::string name = concat("n", id);
      NodeConfig config = member_config(id, member_count);
      if (tune) tune(config);
      world.add_node(name, [this, config, name](io::Runtime& runtime) {
        Node node(runtime, config);
        nodes[name] = &node;
        struct Forget {
          std::map<std::string, Node*>& nodes;
          std::string name;
          ~Forget() { nodes.erase(name); }
        } forget{nodes, name};
        const Status outcome = node.run();
        exits.push_back(concat(name, ": ", outcome.ok() ? "ok" : outcome.error().to_string()));
      });
      world.start(id - 1);
    }
  }

  std::vector<io::Address> addresses() const {
    std::vector<io::Address> out;
    for (uint32_t id = 1; id <= 3; id++)
      out.push_back(io::Address{concat("n", id), port});
    return out;
  }

  // Runs `body` as the main of a new client node until it returns (or the deadline).
  bool run_client(const std::string& name, std::function<void(io::Runtime&)> body,
                  Duration limit = Duration::seconds(120)) {
    bool done = false;
    const size_t node = world.add_node(name, [&done, body](io::Runtime& runtime) {
      body(runtime);
      done = true;
    });
    world.start(node);
    return world.run_until([&] { return done; }, world.now() + limit);
  }
};

inline wire::ClientRequest put(const std::string& key, const std::string& value) {
  wire::ClientRequest request;
  wire::Operation* operation = request.mutable_transaction()->add_operations();
  operation->set_key(key);
  operation->set_put(value);
  return request;
}

inline wire::ClientRequest read_linearizable(const std::string& key) {
  wire::ClientRequest request;
  request.mutable_read()->set_consistency(wire::Read::LINEARIZABLE);
  request.mutable_read()->add_keys(key);
  return request;
}

inline wire::ClientRequest read_local(const std::string& key) {
  wire::ClientRequest request;
  request.mutable_read()->set_consistency(wire::Read::LOCAL);
  request.mutable_read()->add_keys(key);
  return request;
}

inline core::ReplicaStatus status_of(Cluster& cluster, const std::string& name) {
  const auto found = cluster.nodes.find(name);
  QUIRE_ASSERT(found != cluster.nodes.end() && found->second->driver() != nullptr);
  return found->second->driver()->replica().status();
}

inline std::string leader_name(Cluster& cluster) {
  for (const auto& [name, node] : cluster.nodes) {
    if (node->driver() != nullptr && node->driver()->replica().status().role == core::Role::leader)
      return name;
  }
  return {};
}

}  // namespace quire::engine::sim_cluster
