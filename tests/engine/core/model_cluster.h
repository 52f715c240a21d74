// ModelCluster: pure Replicas wired to an in-memory model of the journal and a lossy network, for
// the core's unit and property tests (no scheduler, no fibers). Every action is explicit:
// deliver a message, drop one, duplicate one, tick, crash a member at any point between two
// effects, restart it from what its "disk" kept. Safety is checked after every action:
// - at most one leader per term;
// - no two different write sets commit at one counter, anywhere, ever;
// - an acknowledged write set is the one committed at its counter;
// - each replica's own invariants (Replica::check_invariants).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/core/replica.h"

namespace quire::engine::core::model {

// What one member's disk holds in the model.
struct ModelDisk {
  Term term;
  NodeId voted_for;
  // The journal's newest prepared record: the last vote PrepareWriteSet made durable.
  std::optional<store::RootBlock> prepared;
  store::RootBlock committed;
  std::map<uint64_t, store::RootBlock> history;  // Committed root by counter (the HALogs).
  CommitCounter purged_through;
  struct Held {
    CommitCounter counter;
    uint64_t write_set_hash = 0;
    std::vector<SharedBytes> blocks;
    bool synced = false;
  };
  std::optional<Held> held;
  // The last commit while its root block is unsynced (it rides on the next sync of the journal):
  // a crash may lose it, leaving its write set held (and synced) again.
  struct UnsyncedCommit {
    store::RootBlock previous;
    Held write_set;
  };
  std::optional<UnsyncedCommit> unsynced_commit;
  bool journal_lost = false;  // The journal-lost marker: set aside, not rebuilt yet.
};

struct ModelMember {
  NodeId id;
  std::unique_ptr<Replica> replica;  // Null while crashed.
  ModelDisk disk;
  std::deque<Input> completions;    // Effect completions, fed back in order.
  std::deque<Input> async_results;  // Fetches and rebuilds, fed back when the test says.
  std::deque<Effect> unexecuted;    // Effects of the current step not yet executed.
  uint64_t restarts = 0;
};

struct ClusterStats {
  uint64_t commits = 0;       // Commit points reached on any member.
  uint64_t acknowledged = 0;  // AcknowledgeWriteSet effects.
  uint64_t elections_won = 0;
  uint64_t reproposals = 0;
  uint64_t resync_fetches = 0;
  uint64_t rebuilds = 0;
  uint64_t crashes = 0;
  uint64_t commits_lost_at_crash = 0;  // Unsynced root blocks a crash took back.
  uint64_t messages_delivered = 0;
};

class ModelCluster {
 public:
  ModelCluster(size_t member_count, uint64_t seed, ReplicaConfig base = {});

  size_t size() const { return members_.size(); }
  ModelMember& member(size_t index) { return members_.at(index); }
  const std::vector<Envelope>& network() const { return network_; }
  const ClusterStats& stats() const { return stats_; }

  // Actions. Indexes are taken modulo the sizes, so that random numbers are always valid.
  void tick(size_t member);
  void tick_all();
  // Delivers (and removes) the message at `index` of the network bag.
  void deliver(size_t index);
  void drop(size_t index);
  void duplicate(size_t index);
  // Feeds the member's next queued completion, if any.
  void complete(size_t member);
  void complete_async(size_t member);
  // Gives the leader (if `member` leads) client work to seal.
  void submit(size_t member);
  // Crashes a member after executing only `effects_kept` of its unexecuted effects.
  void crash(size_t member);
  // Crashes whoever leads the highest term, if anyone.
  void crash_leader();
  void restart(size_t member);
  // Restarts a crashed member whose journal was unusable: it was set aside and the member starts
  // empty, with the journal-lost marker (engine/node.cc). The quorum state survives.
  void restart_with_journal_lost(size_t member);
  // The member found committed bytes it cannot read and no peer gave it a good copy.
  void report_damage(size_t member);
  // Cuts a member off: every message to or from it is dropped while cut.
  void set_cut(size_t member, bool cut);

  // Delivers everything, completes everything and ticks until quiet or `rounds` pass. With
  // `submit` the leader keeps getting work.
  void settle(size_t rounds, bool submit);

  // The member that leads the highest term, if any.
  std::optional<size_t> leader() const;
  // Throws nothing; asserts (QUIRE_ASSERT) on a safety violation.
  void check_safety();
  std::string describe() const;

 private:
  void step(size_t member, const Input& input);
  void execute_pending(size_t member, size_t limit);
  void execute(size_t member, const Effect& effect);
  store::RootBlock make_root(CommitCounter counter, Term term, uint64_t hash,
                             uint32_t blocks) const;
  void note_commit(size_t member, const store::RootBlock& root);
  RecoveredState recover(ModelDisk& disk) const;
  size_t index_of(NodeId id) const;

  std::vector<ModelMember> members_;
  std::vector<bool> cut_;
  std::vector<Envelope> network_;
  ReplicaConfig base_;
  Rng rng_;
  Rng durability_rng_;  // When unsynced roots reach the disk: its own stream, so the rest replays.
  ClusterStats stats_;
  std::map<uint64_t, NodeId> leader_by_term_;
  std::map<uint64_t, uint64_t> committed_hash_by_counter_;
  std::map<uint64_t, uint64_t> acknowledged_hash_by_counter_;
};

}  // namespace quire::engine::core::model
