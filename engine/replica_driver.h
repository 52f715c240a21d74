// ReplicaDriver: the one fiber that feeds inputs to the pure core (engine/core/replica.h) and
// executes its effects on the journal, the quorum-state file and the transport, in order, each to
// completion before the next ("persist before send"). Effect completions go back to the core
// before any new input. Bulk fetches (HALogs, rebuild) run in fibers of their own and post their
// outcome as inputs.
//
// Lifecycle: constructed by Node after recovery; run() until stop() or a fatal error (a failed
// sync: the journal refuses writes until reopened, so the node restarts). Suspends.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>

#include "engine/core/replica.h"
#include "engine/driver_stats.h"
#include "engine/node_config.h"
#include "engine/transport.h"
#include "engine/write_set_listener.h"
#include "io/runtime.h"
#include "io/sync.h"
#include "store/journal.h"
#include "store/quorum_state.h"

namespace quire::engine {

class ReplicaDriver {
 public:
  ReplicaDriver(io::Runtime& runtime, const NodeConfig& config, store::Journal& journal,
                store::QuorumStateFile& quorum_state, Transport& transport,
                const core::RecoveredState& recovered);
  ~ReplicaDriver();

  void set_listener(WriteSetListener* listener) { listener_ = listener; }
  // Runs until stop() (ok) or a fatal error (returned). Suspends.
  Status run();
  void stop();
  bool stopping() const { return stopping_; }

  // An input from another fiber. post() suspends while the inbox is full; try_post() drops.
  void post(core::Input input);
  bool try_post(core::Input input);

  const core::Replica& replica() const { return replica_; }
  // Held by every mutation of the journal, and by clients while they read and fill its pending
  // layer, so that those never overlap a commit or a rollback (store/journal.h, "Fibers").
  io::Mutex& journal_mutex() { return journal_mutex_; }
  uint64_t steps() const { return steps_; }
  const DriverStats& stats() const { return stats_; }

 private:
  // Runs `body` in a fiber that run() waits for before it returns.
  void spawn_helper(std::string name, std::function<void()> body);
  void ticker();
  void execute(const core::Effect& effect);
  // Counts what `effect` means for DriverStats, before execute() carries it out.
  void count_effect(const core::Effect& effect);
  // A replay of a peer's HALog failed with `replayed`.
  void count_replay_failure(const Status& replayed);
  void count_disk_full(ErrorCode code);
  void seal(Term term);
  void repropose(Term term, const store::RootBlock& prepared);
  void fetch_halog(NodeId peer, CommitCounter counter);
  void rebuild(NodeId peer);
  // Stops the node: a write the protocol relies on failed.
  void fail(const Error& error);
  void trace_transitions(const core::ReplicaStatus& before);
  // Counts what the step from `before` to the status now changed (DriverStats).
  void count_transitions(const core::ReplicaStatus& before, const core::ReplicaStatus& after);
  // On each tick: syncs a committed root block no write set's prepare synced since the last.
  void sync_idle_root();

  io::Runtime& runtime_;
  const NodeConfig& config_;
  store::Journal& journal_;
  store::QuorumStateFile& quorum_state_;
  Transport& transport_;
  core::Replica replica_;
  WriteSetListener* listener_ = nullptr;
  io::Channel<core::Input> inbox_;
  std::deque<core::Input> completions_;
  io::Mutex journal_mutex_;
  std::optional<Error> fatal_;
  bool stopping_ = false;
  uint64_t steps_ = 0;
  DriverStats stats_;
  // As leader: when each write set in flight was sealed or re-proposed, for commit_latency.
  // Bounded by the write sets in flight; emptied when the leadership ends.
  std::map<CommitCounter, Instant> sealed_at_;
  std::optional<CommitCounter> unsynced_root_seen_;  // Unsynced at the last tick.
  size_t helpers_running_ = 0;
  io::Event helpers_done_;
};

}  // namespace quire::engine
