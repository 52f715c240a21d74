// SimCluster: a replication group and its clients in one simulated world. Members run
// engine::Node under a supervisor that restarts a node whose run() failed (as systemd would);
// every member reports to the cluster's Observations. Clients are nodes of their own.
//
// Lifecycle: construct, start(), drive the world (world().run_until...), read observations and
// members' journals while they run; destruction unwinds every node.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/node.h"
#include "harness/cluster_spec.h"
#include "harness/observations.h"
#include "sim/world.h"

namespace quire::harness {

inline constexpr uint16_t member_port = 7000;

// The largest value the members accept with the spec's block size.
uint64_t value_size_bytes_max(const ClusterSpec& spec);

class SimCluster : public engine::NodeObserver {
 public:
  SimCluster(const ClusterSpec& spec, sim::TraceOptions trace = {});
  ~SimCluster() override;

  const ClusterSpec& spec() const { return spec_; }
  sim::World& world() { return *world_; }
  Observations& observations() { return observations_; }

  // Starts every member.
  void start();
  // Adds a client node running `body`; it starts at once.
  size_t add_client(const std::string& name, std::function<void(io::Runtime&)> body);

  const engine::GroupIdentity& group() const { return group_; }
  std::vector<io::Address> member_addresses() const;
  std::vector<NodeId> member_ids() const;
  size_t world_index(NodeId member) const { return member.value() - 1; }
  // The member's node while its process runs and its Node is up; null otherwise.
  engine::Node* node(NodeId member) const;
  // The world index of the member that leads the highest term among those that lead now, or
  // nullopt when none does.
  std::optional<size_t> leader_index() const;
  engine::NodeConfig member_config(NodeId member);

  void on_commit(NodeId node, const store::RootBlock& root) override;
  void on_status(NodeId node, const engine::core::ReplicaStatus& status) override;
  void on_sealed(NodeId node, const store::RootBlock& root,
                 const std::vector<engine::SealedTransaction>& transactions) override;
  void on_history_lost(NodeId node) override;
  void on_mark(NodeId node, std::string_view mark) override;
  void on_vote_sent(NodeId node, CommitCounter counter, bool yes) override;

  // The targeted crash points' feed (sim::FaultInjector::on_yes_sent, on_commit): world index and
  // counter of each YES sent and each commit point made durable. Unset: nothing is fed.
  std::function<void(size_t, uint64_t)> yes_sent_hook;
  std::function<void(size_t, uint64_t)> commit_hook;

 private:
  void run_member(io::Runtime& runtime, NodeId member);

  ClusterSpec spec_;
  engine::GroupIdentity group_;
  Observations observations_;
  std::map<NodeId, engine::Node*> running_;
  // Last: destroying the world unwinds the nodes, which use the members above.
  std::unique_ptr<sim::World> world_;
};

}  // namespace quire::harness
