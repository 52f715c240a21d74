// ReplicaState: everything one member knows, in one plain struct that every sub-protocol reads and
// writes (election.h, write_pipeline.h, two_phase_commit.h, resync.h, leadership.h). Context
// bundles it with the configuration, the seeded RNG and the effects of the current step.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/core/config.h"
#include "engine/core/effect.h"
#include "engine/core/position.h"
#include "engine/core/quorum.h"
#include "io/base/rng.h"
#include "store/root_block.h"

namespace quire::engine::core {

enum class Role : uint8_t { follower, pre_candidate, candidate, leader };
const char* role_name(Role role);

// What a leader knows about one follower, from its heartbeat responses and votes.
struct FollowerProgress {
  bool heard = false;  // In this leader's term.
  Ticks last_heard;
  CommitCounter committed;
  std::optional<HeldWriteSet> held;
  bool catching_up = false;
  uint64_t round_acknowledged = 0;
};

// The write set a leader has in flight (counter = committed + 1).
struct InFlightWriteSet {
  store::RootBlock root;
  std::vector<SharedBytes> blocks;
  bool reproposal = false;
  std::vector<NodeId> participants;  // Followers that get Prepare and Commit, in member order.
  VoteTally votes;
  bool prepared_here = false;           // The leader's own vote (durable).
  bool committing = false;              // CommitWriteSet issued.
  Ticks sent_at;                        // The last time the blocks went out.
  std::map<NodeId, Ticks> last_resend;  // To one participant after its NO.
};

struct LeaderState {
  std::map<NodeId, FollowerProgress> followers;
  std::optional<InFlightWriteSet> in_flight;
  bool sealing = false;       // SealWriteSet or ReproposeWriteSet issued, no answer yet.
  bool pending_work = false;  // The driver reported transactions not yet sealed.
  // Linearizable reads are served only after a write set of this term committed (or there was
  // nothing to re-propose).
  bool ready_for_reads = false;
  uint64_t round = 0;  // Of the last heartbeat sent.
  Ticks last_heartbeat;
  Ticks last_quorum_check;
  std::deque<std::pair<uint64_t, uint64_t>> reads_waiting;  // (read id, round that confirms it)
  CommitCounter retained_through;                           // Last value sent in heartbeats.
  std::string retention_rule;  // Which retention rule set it (status output).
};

struct ResyncState {
  bool active = false;
  bool rebuilding = false;
  NodeId peer;
  bool fetching = false;  // A FetchHALog or Rebuild is outstanding.
  CommitCounter fetching_counter;
  Ticks last_progress;
  std::set<NodeId> peers_missing;  // Peers that lack the HALog we need.
};

struct ReplicaState {
  // Durable: the quorum-state file and the journal.
  Term term;
  NodeId voted_for;
  std::optional<store::RootBlock> prepared;  // Matches `held` when present.
  store::RootBlock committed;
  std::optional<HeldWriteSet> held;

  // Volatile.
  Role role = Role::follower;
  NodeId leader;
  Ticks now;
  std::optional<Ticks> last_leader_contact;
  Ticks election_deadline;
  std::optional<VoteTally> election_votes;
  std::optional<LeaderState> leading;  // Present exactly when role == leader.
  // Follower: a Prepare that waits for its blocks, and since when.
  std::optional<store::RootBlock> prepare_waiting;
  Ticks prepare_waiting_since;
  bool preparing = false;          // PrepareWriteSet issued, no answer yet.
  bool committing = false;         // CommitWriteSet or ReplayHALog issued, no answer yet.
  CommitCounter leader_committed;  // From the last heartbeat.
  CommitCounter purged_through;
  ResyncState resync;
  // Committed bytes here are damaged beyond read repair: this member neither leads nor campaigns
  // until a rebuild from the leader replaced its journal. A failed rebuild is retried no sooner
  // than catch_up_stall_ticks after `damaged_rebuild_failed_at`.
  bool damaged = false;
  std::optional<Ticks> damaged_rebuild_failed_at;
  // Worse than damaged: the journal was set aside, so this member's position is not its history.
  // It grants no votes (nor pre-votes) until the rebuild. Implies `damaged`.
  bool history_lost = false;

  Position position() const {
    if (prepared) return Position{prepared->term, prepared->commit_counter};
    return Position{committed.term, committed.commit_counter};
  }
  bool is_leader() const { return role == Role::leader; }
  CommitCounter next_counter() const { return committed.commit_counter.next(); }
};

class Context {
 public:
  Context(const ReplicaConfig& config, ReplicaState& state, Rng& rng, std::vector<Effect>& effects,
          std::vector<const char*>& marks)
      : config(config), state(state), rng(rng), effects_(effects), marks_(marks) {}

  const ReplicaConfig& config;
  ReplicaState& state;
  Rng& rng;

  void emit(Effect effect) { effects_.push_back(std::move(effect)); }
  // Records that a named rare state was reached. `name` must be a string literal.
  void mark(const char* name) { marks_.push_back(name); }
  void send(NodeId to, Message message) {
    QUIRE_ASSERT(to != config.self);
    emit(Send{Envelope{config.self, to, state.term, std::move(message)}});
  }
  void send_to_others(const Message& message) {
    for (NodeId member : config.members) {
      if (member != config.self) send(member, message);
    }
  }
  void persist_quorum_state() { emit(PersistQuorumState{state.term, state.voted_for}); }
  size_t quorum() const { return quorum_size(config.member_count()); }

 private:
  std::vector<Effect>& effects_;
  std::vector<const char*>& marks_;
};

}  // namespace quire::engine::core
