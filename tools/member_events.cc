#include "tools/member_events.h"

#include "engine/client_service.h"
#include "engine/replica_driver.h"
#include "io/base/assert.h"
#include "store/journal.h"

namespace quire::tools {
namespace {

// A resync or rebuild logs its progress at most this often.
constexpr int64_t progress_interval_ms = 5'000;

uint64_t id(NodeId node) {
  return node.value();
}

std::string text(const char* value) {
  return std::string(value);
}

double mib_per_second(uint64_t bytes, int64_t elapsed_ms) {
  if (elapsed_ms <= 0) return 0.0;
  return static_cast<double>(bytes) / (1024.0 * 1024.0) / (static_cast<double>(elapsed_ms) / 1e3);
}

double seconds(int64_t elapsed_ms) {
  return static_cast<double>(elapsed_ms) / 1e3;
}

}  // namespace

MemberSnapshot snapshot_member(const engine::Node& node) {
  MemberSnapshot snapshot;
  const engine::ReplicaDriver* driver = node.driver();
  const engine::ClientService* clients = node.clients();
  snapshot.running = driver != nullptr && clients != nullptr;
  if (!snapshot.running) return snapshot;
  snapshot.status = driver->replica().status();
  snapshot.driver = driver->stats();
  snapshot.read_repairs = clients->read_repairs();
  if (const engine::Scrubber* scrubber = node.scrubber()) snapshot.scrub = scrubber->stats();
  if (const engine::Transport* transport = node.transport())
    snapshot.transport = transport->stats();
  if (const store::Journal* journal = node.journal()) {
    snapshot.journal_end_bytes = journal->root().end_offset;
  }
  return snapshot;
}

void MemberEvents::observe(const MemberSnapshot& snapshot, int64_t now_ms) {
  if (!snapshot.running) return;
  if (!last_) {
    // The first look: where the member starts from, and no deltas.
    log_.log(LogLevel::info, "member_running",
             {{"role", text(engine::core::role_name(snapshot.status.role))},
              {"leader", id(snapshot.status.leader)},
              {"term", snapshot.status.term.value()},
              {"committed", snapshot.status.committed.value()}});
    last_ = snapshot;
    return;
  }
  observe_leadership(snapshot);
  observe_elections(snapshot);
  observe_resync(snapshot, now_ms);
  observe_rebuild(snapshot, now_ms);
  observe_repairs(snapshot);
  observe_refusals(snapshot);
  observe_disk(snapshot);
  last_ = snapshot;
  log_.flush_suppressed();
}

void MemberEvents::observe_leadership(const MemberSnapshot& now) {
  const engine::core::ReplicaStatus& before = last_->status;
  const engine::core::ReplicaStatus& after = now.status;
  if (after.term != before.term) {
    log_.log(LogLevel::info, "term_changed",
             {{"term", after.term.value()}, {"previous", before.term.value()}});
  }
  if (after.role != before.role) {
    log_.log(LogLevel::info, "role_changed",
             {{"role", text(engine::core::role_name(after.role))},
              {"previous", text(engine::core::role_name(before.role))},
              {"term", after.term.value()}});
  }
  if (after.leader != before.leader) {
    log_.log(after.leader == node_none ? LogLevel::warn : LogLevel::info, "leader_changed",
             {{"leader", id(after.leader)},
              {"previous", id(before.leader)},
              {"term", after.term.value()}});
  }
}

void MemberEvents::observe_elections(const MemberSnapshot& now) {
  const engine::DriverStats& before = last_->driver;
  const engine::DriverStats& after = now.driver;
  QUIRE_ASSERT(after.elections_started >= before.elections_started);
  QUIRE_ASSERT(after.elections_won >= before.elections_won);
  if (after.elections_started != before.elections_started) {
    log_.log(LogLevel::info, "election_started",
             {{"term", now.status.term.value()},
              {"count", after.elections_started - before.elections_started}});
  }
  if (after.elections_won != before.elections_won) {
    log_.log(LogLevel::info, "election_won",
             {{"term", now.status.term.value()},
              {"followers", static_cast<uint64_t>(now.status.joined.size())},
              {"elections_won", after.elections_won}});
  }
  // An election is lost once the member is no longer a candidate without having won it; a
  // candidate that starts another election lost the one before.
  // A member alone in its group wins without a counted candidacy: never count below zero.
  const uint64_t resolved = after.elections_won + elections_lost_;
  const uint64_t unresolved =
      after.elections_started > resolved ? after.elections_started - resolved : 0;
  const uint64_t pending = now.status.role == engine::core::Role::candidate ? 1 : 0;
  if (unresolved > pending) {
    const uint64_t lost = unresolved - pending;
    elections_lost_ += lost;
    log_.log(LogLevel::info, "election_lost",
             {{"term", now.status.term.value()},
              {"leader", id(now.status.leader)},
              {"count", lost},
              {"elections_lost", elections_lost_}});
  }
}

void MemberEvents::observe_resync(const MemberSnapshot& now, int64_t now_ms) {
  const bool resyncing = now.status.catching_up && !now.status.rebuilding;
  if (resyncing && !resync_) {
    resync_ = CatchUp{now_ms, now_ms, now.status.committed.value(), now.driver.halogs_replayed,
                      now.journal_end_bytes};
    log_.log(LogLevel::info, "resync_started",
             {{"committed", now.status.committed.value()},
              {"leader", id(now.status.leader)},
              {"leader_committed", now.status.leader_committed.value()}});
    return;
  }
  if (!resync_) return;
  const uint64_t bytes =
      now.journal_end_bytes - std::min(now.journal_end_bytes, resync_->bytes_begin);
  EventFields fields = {
      {"committed", now.status.committed.value()},
      {"leader_committed", now.status.leader_committed.value()},
      {"commit_points", now.status.committed.value() - resync_->committed_begin},
      {"halogs_replayed", now.driver.halogs_replayed - resync_->halogs_replayed_begin},
      {"bytes", bytes},
      {"seconds", seconds(now_ms - resync_->started_ms)}};
  if (!resyncing) {
    log_.log(LogLevel::info, "resync_ended", std::move(fields));
    resync_.reset();
  } else if (now_ms - resync_->progress_logged_ms >= progress_interval_ms) {
    resync_->progress_logged_ms = now_ms;
    log_.log(LogLevel::info, "resync_progress", std::move(fields));
  }
}

void MemberEvents::observe_rebuild(const MemberSnapshot& now, int64_t now_ms) {
  const bool started = now.driver.rebuilds_started != last_->driver.rebuilds_started;
  if ((now.status.rebuilding || started) && !rebuild_) {
    rebuild_ = CatchUp{now_ms, now_ms, now.status.committed.value(), 0, 0};
    log_.log(LogLevel::warn, "rebuild_started",
             {{"committed", now.status.committed.value()},
              {"leader", id(now.status.leader)},
              {"damaged", now.status.damaged}});
  }
  if (!rebuild_) return;
  const int64_t elapsed_ms = now_ms - rebuild_->started_ms;
  const uint64_t bytes = now.driver.rebuild_bytes_installed;
  EventFields fields = {{"bytes", bytes},
                        {"bytes_total", now.driver.rebuild_bytes_total},
                        {"mib_per_second", mib_per_second(bytes, elapsed_ms)},
                        {"seconds", seconds(elapsed_ms)}};
  if (!now.status.rebuilding && !started) {
    const bool done = now.driver.rebuilds_completed != last_->driver.rebuilds_completed ||
                      now.status.committed.value() > rebuild_->committed_begin;
    fields.emplace_back("outcome", std::string(done ? "done" : "failed"));
    fields.emplace_back("committed", now.status.committed.value());
    log_.log(done ? LogLevel::info : LogLevel::warn, "rebuild_ended", std::move(fields));
    rebuild_.reset();
  } else if (now_ms - rebuild_->progress_logged_ms >= progress_interval_ms) {
    rebuild_->progress_logged_ms = now_ms;
    log_.log(LogLevel::info, "rebuild_progress", std::move(fields));
  }
}

void MemberEvents::observe_repairs(const MemberSnapshot& now) {
  if (now.read_repairs != last_->read_repairs) {
    log_.log(LogLevel::warn, "read_repaired",
             {{"records", now.read_repairs - last_->read_repairs}, {"total", now.read_repairs}});
  }
  const engine::ScrubStats& before = last_->scrub;
  const engine::ScrubStats& after = now.scrub;
  if (after.blocks_repaired != before.blocks_repaired) {
    log_.log(LogLevel::warn, "scrub_repaired",
             {{"block_runs", after.blocks_repaired - before.blocks_repaired},
              {"total", after.blocks_repaired}});
  }
  if (after.blocks_unrepairable != before.blocks_unrepairable) {
    log_.log(LogLevel::error, "scrub_unrepairable",
             {{"block_runs", after.blocks_unrepairable - before.blocks_unrepairable},
              {"total", after.blocks_unrepairable}});
  }
  if (after.passes_completed != before.passes_completed) {
    const Duration took = after.last_pass_completed - after.last_complete_pass_started;
    log_.log(LogLevel::info, "scrub_pass",
             {{"pass", after.passes_completed},
              {"journal_mib", now.journal_end_bytes >> 20},
              {"blocks_verified", after.blocks_verified},
              {"blocks_failed", after.blocks_failed},
              {"seconds", seconds(took.ms())}});
  }
  if (now.driver.halog_checksum_failures != last_->driver.halog_checksum_failures) {
    log_.log(LogLevel::warn, "halog_rejected",
             {{"count", now.driver.halog_checksum_failures - last_->driver.halog_checksum_failures},
              {"total", now.driver.halog_checksum_failures}});
  }
}

void MemberEvents::observe_refusals(const MemberSnapshot& now) {
  const engine::TransportStats& before = last_->transport;
  const engine::TransportStats& after = now.transport;
  if (after.handshakes_refused != before.handshakes_refused) {
    log_.log(LogLevel::warn, "handshake_refused",
             {{"count", after.handshakes_refused - before.handshakes_refused},
              {"total", after.handshakes_refused},
              {"reason", after.last_refusal}});
  }
  if (after.frames_rejected != before.frames_rejected) {
    log_.log(LogLevel::warn, "frame_rejected",
             {{"count", after.frames_rejected - before.frames_rejected},
              {"total", after.frames_rejected},
              {"reason", after.last_rejection}});
  }
}

void MemberEvents::observe_disk(const MemberSnapshot& now) {
  const engine::DriverStats& before = last_->driver;
  const engine::DriverStats& after = now.driver;
  if (after.halog_purges != before.halog_purges) {
    // A follower purges what its leader's heartbeat allows; only a leader knows the rule.
    const std::string rule = now.status.role == engine::core::Role::leader
                                 ? now.status.halog_retention
                                 : std::string("the leader's (heartbeat)");
    log_.log(LogLevel::info, "halog_purged",
             {{"through", after.halogs_purged_through},
              {"purges", after.halog_purges - before.halog_purges},
              {"rule", rule}});
  }
  if (after.disk_full_errors != before.disk_full_errors) {
    log_.log(LogLevel::error, "disk_full",
             {{"count", after.disk_full_errors - before.disk_full_errors},
              {"total", after.disk_full_errors}});
  }
}

}  // namespace quire::tools
