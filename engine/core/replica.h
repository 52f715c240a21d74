// Replica: the replication protocol of one member as a pure state machine.
// Deterministic: equal state + equal input => equal effects and equal next state. It never
// suspends, never reads a clock, and draws randomness only from its own seeded Rng. The driver
// (engine/replica_driver.h) feeds it inputs and executes its effects; tests drive it directly.
// See docs/protocol.md.
#pragma once

#include <optional>
#include <string>

#include "engine/core/config.h"
#include "engine/core/effect.h"
#include "engine/core/input.h"
#include "engine/core/replica_state.h"

namespace quire::engine::core {

// What a member finds on its disk when it starts.
struct RecoveredState {
  Term term;
  NodeId voted_for;
  store::RootBlock committed;
  // A complete write set of counter committed + 1 that this member voted YES for (its blocks are
  // back in the journal). Unprepared blocks are rolled back by recovery and never reach here.
  std::optional<store::RootBlock> prepared;
  // The member set an unusable journal aside and has not rebuilt since (the journal-lost marker
  // is on disk): `committed` is not its history, so it neither votes nor campaigns.
  bool journal_lost = false;
};

// What a member reports about itself (status output, client redirects, checkers).
struct ReplicaStatus {
  Role role = Role::follower;
  Term term;
  NodeId leader;
  CommitCounter committed;
  CommitCounter leader_committed;
  bool catching_up = false;
  bool rebuilding = false;
  bool damaged = false;  // Waits to rebuild: committed bytes here are damaged beyond read repair.
  std::optional<CommitCounter> in_flight;  // Leader: the write set in its two-phase commit.
  bool in_flight_prepared_here = false;    // Leader: its own vote for it is durable.
  size_t participants = 0;                 // Leader: followers in that write set.
  bool ready_for_reads = false;
  std::string halog_retention;  // Leader: which retention rule applies.
  std::vector<NodeId> joined;   // Leader: followers at its commit point.
};

class Replica {
 public:
  // REQUIRES: config.members sorted ascending, containing config.self.
  Replica(const ReplicaConfig& config, const RecoveredState& recovered);

  [[nodiscard]] Step step(const Input& input);
  // Checks every invariant of docs/protocol.md, "State of a member"; asserts on a violation.
  // step() calls it after every input; the harness calls it too.
  void check_invariants() const;

  const ReplicaState& state() const { return state_; }
  const ReplicaConfig& config() const { return config_; }
  ReplicaStatus status() const;
  // One line of everything that decides what the replica does next, for failure reports.
  std::string describe() const;

 private:
  void receive(Context& context, const Envelope& envelope);
  void tick(Context& context);

  ReplicaConfig config_;
  Rng rng_;
  ReplicaState state_;
  // For the invariant that committed counters and terms never go back.
  CommitCounter highest_committed_;
  Term highest_term_;
};

}  // namespace quire::engine::core
