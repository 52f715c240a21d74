#include "engine/replica_driver.h"

#include "engine/bulk.h"
#include "io/base/text.h"
#include "store/format.h"
#include "store/halog_reader.h"

namespace quire::engine {
namespace {

template <class... Handlers>
struct Overloaded : Handlers... {
  using Handlers::operator()...;
};
template <class... Handlers>
Overloaded(Handlers...) -> Overloaded<Handlers...>;

core::ReplicaConfig protocol_config(const NodeConfig& config, uint64_t seed) {
  core::ReplicaConfig protocol = config.protocol;
  protocol.self = config.self;
  protocol.members.clear();
  for (const MemberAddress& member : config.members)
    protocol.members.push_back(member.id);
  protocol.seed = seed;
  return protocol;
}

std::vector<core::SharedBytes> share(std::vector<Bytes> blocks) {
  std::vector<core::SharedBytes> shared;
  shared.reserve(blocks.size());
  for (Bytes& block : blocks)
    shared.push_back(std::make_shared<const Bytes>(std::move(block)));
  return shared;
}

}  // namespace

ReplicaDriver::ReplicaDriver(io::Runtime& runtime, const NodeConfig& config,
                             store::Journal& journal, store::QuorumStateFile& quorum_state,
                             Transport& transport, const core::RecoveredState& recovered)
    : runtime_(runtime),
      config_(config),
      journal_(journal),
      quorum_state_(quorum_state),
      transport_(transport),
      replica_(protocol_config(config, runtime.rng().next_u64()), recovered),
      inbox_(runtime, config.inbox_capacity),
      journal_mutex_(runtime),
      helpers_done_(runtime) {}

ReplicaDriver::~ReplicaDriver() {
  QUIRE_ASSERT(helpers_running_ == 0 || runtime_.scheduler().killing());
}

void ReplicaDriver::post(core::Input input) {
  (void)inbox_.send(std::move(input));
}

bool ReplicaDriver::try_post(core::Input input) {
  return inbox_.try_send(std::move(input)).ok();
}

void ReplicaDriver::stop() {
  stopping_ = true;
  inbox_.close();
}

void ReplicaDriver::fail(const Error& error) {
  count_disk_full(error.code());
  if (!fatal_) {
    runtime_.trace(concat("node stops: ", error.to_string()));
    fatal_ = error;
  }
  stop();
}

void ReplicaDriver::spawn_helper(std::string name, std::function<void()> body) {
  // Nothing starts once stopping: a fetch or a rebuild would only hold up the stop (the restart
  // decides again). Before, stop() in the middle of a step let the ticker end and set
  // helpers_done_ while that step's effects went on; a helper spawned then was not waited for
  // and outlived the driver (the destructor's assertion, seen in bench_engine_real). The reset
  // keeps the event true to the count for any helper started after an idle moment.
  if (stopping_) return;
  if (helpers_running_++ == 0) helpers_done_.reset();
  runtime_.spawn(std::move(name), [this, body = std::move(body)] {
    // Counts the helper out however it ends, a crash's unwinding included.
    struct Done {
      ReplicaDriver& driver;
      ~Done() {
        if (--driver.helpers_running_ == 0) driver.helpers_done_.set();
      }
    } done{*this};
    body();
  });
}

Status ReplicaDriver::run() {
  spawn_helper("ticker", [this] { ticker(); });
  while (!stopping_) {
    core::Input input;
    if (!completions_.empty()) {
      input = std::move(completions_.front());
      completions_.pop_front();
    } else {
      auto received = inbox_.receive();
      if (!received.ok()) break;
      input = std::move(*received);
    }
    if (std::holds_alternative<core::Tick>(input)) sync_idle_root();
    if (fatal_) break;
    const core::ReplicaStatus before = replica_.status();
    const core::Step step = replica_.step(input);
    steps_++;
    for (const char* mark : step.marks) {
      runtime_.trace(concat("mark ", mark));
      if (config_.observer != nullptr) config_.observer->on_mark(config_.self, mark);
    }
    for (const core::Effect& effect : step.effects) {
      if (fatal_) break;
      count_effect(effect);
      execute(effect);
    }
    // A failed effect leaves the state machine ahead of the disk (it committed what the journal
    // did not): nothing of that step may be announced, the restart recovers what is durable.
    if (!fatal_) trace_transitions(before);
    // A failed sync anywhere (the scrubber, a rebuild, a read repair) leaves the journal refusing
    // writes until it is reopened: restart the node, which reopens it from what the disk holds.
    if (!fatal_ && (journal_.failed() || quorum_state_.failed())) {
      fail(Error(ErrorCode::io_error, "a sync failed; the node restarts to reopen its files"));
    }
  }
  stop();
  if (helpers_running_ > 0) helpers_done_.wait();
  // A clean stop leaves the last commit point durable, so the restart resumes at it.
  if (!fatal_ && journal_.root_unsynced() && !journal_.failed()) {
    io::MutexLock lock(journal_mutex_);
    if (const Status synced = journal_.sync_committed(); !synced.ok()) fail(synced.error());
  }
  if (fatal_) return *fatal_;
  return ok_status();
}

void ReplicaDriver::sync_idle_root() {
  // A commit's root block rides on the next sync of the journal (the next write set's prepare).
  // One still unsynced at two ticks in a row had no write set after it: sync it now, so that
  // an idle member's commit point is durable within two ticks, and a restart resumes there
  // instead of one commit point back.
  if (!journal_.root_unsynced()) {
    unsynced_root_seen_.reset();
    return;
  }
  const CommitCounter counter = journal_.commit_counter();
  if (unsynced_root_seen_ != counter) {
    unsynced_root_seen_ = counter;
    return;
  }
  unsynced_root_seen_.reset();
  io::MutexLock lock(journal_mutex_);
  if (const Status synced = journal_.sync_committed(); !synced.ok()) fail(synced.error());
}

void ReplicaDriver::ticker() {
  while (!stopping_) {
    runtime_.sleep_for(config_.tick_interval);
    if (!stopping_) (void)try_post(core::Tick{});
  }
}

void ReplicaDriver::count_transitions(const core::ReplicaStatus& before,
                                      const core::ReplicaStatus& after) {
  QUIRE_ASSERT(after.committed >= before.committed);
  stats_.commit_points += after.committed.value() - before.committed.value();
  if (after.role != before.role && after.role == core::Role::candidate) {
    stats_.elections_started++;
  }
  if (after.role != before.role && after.role == core::Role::leader) stats_.elections_won++;
  if (before.role == core::Role::leader && after.role != core::Role::leader) sealed_at_.clear();
  const bool resyncing = after.catching_up && !after.rebuilding;
  if (resyncing && !(before.catching_up && !before.rebuilding)) stats_.resyncs_started++;
}

void ReplicaDriver::trace_transitions(const core::ReplicaStatus& before) {
  const core::ReplicaStatus after = replica_.status();
  count_transitions(before, after);
  if (after.role != before.role || after.term != before.term) {
    runtime_.trace(concat("role ", core::role_name(after.role), " term ", after.term, " leader ",
                          after.leader, " committed ", after.committed));
  }
  if (after.committed != before.committed) {
    runtime_.trace(concat("committed ", after.committed, " term ", replica_.state().committed.term,
                          " hash ", hex64(replica_.state().committed.write_set_hash)));
    if (config_.observer != nullptr) {
      config_.observer->on_commit(config_.self, replica_.state().committed);
    }
    if (listener_ != nullptr) listener_->on_committed(after.committed);
  }
  const bool changed = after.role != before.role || after.term != before.term ||
                       after.leader != before.leader || after.committed != before.committed ||
                       after.catching_up != before.catching_up;
  if (changed && config_.observer != nullptr) config_.observer->on_status(config_.self, after);
}

void ReplicaDriver::count_effect(const core::Effect& effect) {
  if (const auto* send = std::get_if<core::Send>(&effect)) {
    const auto* block = std::get_if<core::Block>(&send->envelope.message);
    if (block != nullptr && block->bytes != nullptr)
      stats_.bytes_replicated += block->bytes->size();
  } else if (std::holds_alternative<core::Rebuild>(effect)) {
    stats_.rebuilds_started++;
  } else if (const auto* acknowledge = std::get_if<core::AcknowledgeWriteSet>(&effect)) {
    stats_.write_sets_acknowledged++;
    const auto sealed = sealed_at_.find(acknowledge->counter);
    if (sealed != sealed_at_.end()) {
      stats_.commit_latency.record(runtime_.now() - sealed->second);
    }
    // Write sets commit in order: any sealed before this one is settled too.
    sealed_at_.erase(sealed_at_.begin(), sealed_at_.upper_bound(acknowledge->counter));
  } else if (std::holds_alternative<core::AbandonWriteSets>(effect)) {
    sealed_at_.clear();
  }
}

void ReplicaDriver::count_disk_full(ErrorCode code) {
  if (code == ErrorCode::no_space) stats_.disk_full_errors++;
}

void ReplicaDriver::count_replay_failure(const Status& replayed) {
  QUIRE_ASSERT(!replayed.ok());
  // Damage in the peer's HALog, as against this member's disk failing (no_space, io_error).
  const ErrorCode code = replayed.code();
  count_disk_full(code);
  if (code == ErrorCode::checksum_mismatch || code == ErrorCode::corruption) {
    stats_.halog_checksum_failures++;
  }
}

void ReplicaDriver::execute(const core::Effect& effect) {
  std::visit(Overloaded{
                 [&](const core::Send& send) {
                   transport_.send(send.envelope);
                   const auto* vote = std::get_if<core::PrepareResponse>(&send.envelope.message);
                   if (vote != nullptr && config_.observer != nullptr) {
                     config_.observer->on_vote_sent(config_.self, vote->counter, vote->yes);
                   }
                 },
                 [&](const core::PersistQuorumState& persist) {
                   const Status stored =
                       quorum_state_.store(store::QuorumState{persist.term, persist.voted_for});
                   if (!stored.ok()) fail(stored.error());
                 },
                 [&](const core::SealWriteSet& seal_write_set) { seal(seal_write_set.term); },
                 [&](const core::ReproposeWriteSet& repropose_write_set) {
                   repropose(repropose_write_set.term, repropose_write_set.prepared);
                 },
                 [&](const core::LayDownBlock& block) {
                   io::MutexLock lock(journal_mutex_);
                   const Status laid = journal_.lay_down(*block.bytes);
                   if (laid.ok()) return;
                   runtime_.trace(concat("lay down of block ", block.sequence, " of ",
                                         block.counter, " failed: ", laid.error().to_string()));
                   if (journal_.failed()) return fail(laid.error());
                   count_disk_full(laid.code());
                   const Status dropped = journal_.rollback();
                   if (!dropped.ok()) return fail(dropped.error());
                   completions_.push_back(core::LayDownFailed{block.counter});
                 },
                 [&](const core::PrepareWriteSet& prepare) {
                   io::MutexLock lock(journal_mutex_);
                   const Status prepared = journal_.prepare(prepare.root);
                   if (!prepared.ok()) {
                     runtime_.trace(concat("prepare of ", prepare.root.commit_counter,
                                           " failed: ", prepared.error().to_string()));
                     if (journal_.failed()) return fail(prepared.error());
                   }
                   completions_.push_back(core::PrepareDone{prepare.root, prepared.ok()});
                 },
                 [&](const core::CommitWriteSet& commit) {
                   io::MutexLock lock(journal_mutex_);
                   const Status committed = journal_.commit(commit.root);
                   if (!committed.ok()) return fail(committed.error());
                   completions_.push_back(core::CommitDone{commit.root});
                 },
                 [&](const core::RollBack&) {
                   io::MutexLock lock(journal_mutex_);
                   const Status rolled_back = journal_.rollback();
                   if (!rolled_back.ok()) fail(rolled_back.error());
                 },
                 [&](const core::FetchHALog& fetch) { fetch_halog(fetch.peer, fetch.counter); },
                 [&](const core::ReplayHALog& replay) {
                   io::MutexLock lock(journal_mutex_);
                   auto reader = store::HALogReader::parse(*replay.halog);
                   Status replayed =
                       reader.ok() ? journal_.replay(*reader) : Status(reader.error());
                   if (replayed.ok()) {
                     stats_.halogs_replayed++;
                     completions_.push_back(core::CommitDone{journal_.root()});
                     return;
                   }
                   count_replay_failure(replayed);
                   runtime_.trace(concat("replay of HALog ", replay.root.commit_counter, " from ",
                                         replay.peer, " failed: ", replayed.error().to_string()));
                   if (journal_.failed()) return fail(replayed.error());
                   // What the replay laid down before it failed is not part of any commit point
                   // here.
                   if (const Status rolled_back = journal_.rollback(); !rolled_back.ok()) {
                     return fail(rolled_back.error());
                   }
                   const bool local = replayed.code() == ErrorCode::no_space ||
                                      replayed.code() == ErrorCode::io_error;
                   completions_.push_back(
                       core::ReplayFailed{replay.peer, replay.root.commit_counter, local});
                 },
                 [&](const core::Rebuild& rebuild_from) { rebuild(rebuild_from.peer); },
                 [&](const core::PurgeHALogs& purge) {
                   io::MutexLock lock(journal_mutex_);
                   const CommitCounter through = std::min(purge.through, journal_.commit_counter());
                   const Status purged = journal_.purge_halogs_through(through);
                   if (!purged.ok() && journal_.failed()) return fail(purged.error());
                   if (purged.ok()) {
                     stats_.halog_purges++;
                     stats_.halogs_purged_through = through.value();
                   }
                 },
                 [&](const core::AcknowledgeWriteSet& acknowledge) {
                   if (listener_ != nullptr) listener_->on_acknowledged(acknowledge.counter);
                 },
                 [&](const core::AbandonWriteSets& abandon) {
                   io::MutexLock lock(journal_mutex_);
                   journal_.discard_pending();
                   if (listener_ != nullptr) listener_->on_abandoned(abandon.in_flight);
                 },
                 [&](const core::ConfirmReads& confirm) {
                   if (listener_ != nullptr) listener_->on_reads_confirmed(confirm.through);
                 },
                 [&](const core::RefuseReads& refuse) {
                   if (listener_ != nullptr) listener_->on_reads_refused(refuse.through);
                 },
             },
             effect);
}

void ReplicaDriver::seal(Term term) {
  io::MutexLock lock(journal_mutex_);
  auto write_set = journal_.seal(term, runtime_.wall_clock_ns());
  if (!write_set.ok()) {
    runtime_.trace(concat("seal failed: ", write_set.error().to_string()));
    if (journal_.failed()) return fail(write_set.error());
    // Nothing was written: the pending transactions surely did not commit.
    journal_.discard_pending();
    if (listener_ != nullptr) listener_->on_abandoned(std::nullopt);
    completions_.push_back(core::SealSkipped{});
    return;
  }
  stats_.write_sets_sealed++;
  sealed_at_[write_set->root.commit_counter] = runtime_.now();
  if (listener_ != nullptr) listener_->on_sealed(write_set->root);
  completions_.push_back(
      core::WriteSetSealed{write_set->root, share(std::move(write_set->blocks))});
}

void ReplicaDriver::repropose(Term term, const store::RootBlock& prepared) {
  io::MutexLock lock(journal_mutex_);
  auto blocks = journal_.uncommitted_blocks();
  if (!blocks.ok()) return fail(blocks.error());
  store::RootBlock root = prepared;
  root.term = term;
  root.commit_time_ns = runtime_.wall_clock_ns();
  runtime_.trace(concat("re-propose write set ", root.commit_counter, " under term ", term));
  sealed_at_[root.commit_counter] = runtime_.now();
  completions_.push_back(core::WriteSetSealed{root, share(std::move(*blocks))});
}

void ReplicaDriver::fetch_halog(NodeId peer, CommitCounter counter) {
  auto body = [this, peer, counter] {
    core::Input outcome = fetch_halog_from(transport_, runtime_, peer, counter,
                                           runtime_.now() + config_.fetch_timeout);
    if (!stopping_) post(std::move(outcome));
  };
  spawn_helper(concat("fetch-halog-", counter), body);
}

void ReplicaDriver::rebuild(NodeId peer) {
  auto body = [this, peer] {
    core::Input outcome = rebuild_from(transport_, runtime_, journal_, journal_mutex_, peer,
                                       config_.prefix_chunk_bytes, config_.fetch_timeout, stats_);
    // This member holds a history again: the journal-lost marker goes before the core hears it
    // (the unlink is durable), so the member votes only once the marker is gone.
    if (std::holds_alternative<core::RebuildDone>(outcome)) {
      const std::string marker = config_.data_path(store::format::journal_lost_marker_file_name);
      auto present = runtime_.disk().exists(marker);
      if (!present.ok() || (*present && !runtime_.disk().unlink(marker).ok())) {
        outcome = core::RebuildFailed{peer};
      }
    }
    if (std::holds_alternative<core::RebuildDone>(outcome)) stats_.rebuilds_completed++;
    if (!stopping_) post(std::move(outcome));
  };
  spawn_helper(concat("rebuild-from-", peer), body);
}

}  // namespace quire::engine
