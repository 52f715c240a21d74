#include "engine/node.h"

#include <algorithm>

#include "engine/bulk.h"
#include "engine/member_list.h"
#include "io/base/text.h"
#include "store/format.h"

namespace quire::engine {

Status NodeConfig::validate() const {
  if (group.name.empty()) return Error(ErrorCode::invalid_argument, "the group needs a name");
  if (members.empty() || member(self) == nullptr) {
    return Error(ErrorCode::invalid_argument, concat("node ", self, " is not among the members"));
  }
  for (size_t index = 1; index < members.size(); index++) {
    if (!(members[index - 1].id < members[index].id)) {
      return Error(ErrorCode::invalid_argument, "members must be listed by ascending id, once");
    }
  }
  if (self == node_none) return Error(ErrorCode::invalid_argument, "node id 0 is reserved");
  if (tick_interval <= Duration()) {
    return Error(ErrorCode::invalid_argument, "the tick interval must be positive");
  }
  if (protocol.election_timeout_ticks_min >= protocol.election_timeout_ticks_max ||
      protocol.heartbeat_interval_ticks >= protocol.election_timeout_ticks_min) {
    return Error(ErrorCode::invalid_argument,
                 "need heartbeat interval < election timeout min < election timeout max");
  }
  return journal.validate();
}

std::string NodeConfig::data_path(std::string_view name) const {
  return journal.directory.empty() ? std::string(name) : concat(journal.directory, "/", name);
}

const MemberAddress* NodeConfig::member(NodeId id) const {
  for (const MemberAddress& each : members) {
    if (each.id == id) return &each;
  }
  return nullptr;
}

Node::Node(io::Runtime& runtime, NodeConfig config)
    : runtime_(runtime), config_(std::move(config)) {}

Node::~Node() = default;

Result<core::RecoveredState> Node::recover() {
  auto opened = store::Journal::open(runtime_.disk(), config_.journal);
  const std::string lost_marker = config_.data_path(store::format::journal_lost_marker_file_name);
  // A journal that fails to open start after start is as unusable as a corrupt one: a latent
  // sector error in the bytes its recovery must read (past the committed end, or under a write
  // set it rolls forward) does not heal by itself, and the member would restart forever (fuzz
  // seeds 5000086, 5000169). A fault that passes (a misdirected write while rolling forward) gets
  // the starts before the last. A full disk is not the journal's fault: setting the journal aside
  // would not free the space a rebuild needs.
  bool keeps_failing = false;
  // invalid_argument: a journal of another format version, which no restart or rebuild should
  // touch (the operator decides); it stops the node with that message.
  if (!opened.ok() && opened.code() != ErrorCode::corruption &&
      opened.code() != ErrorCode::no_space && opened.code() != ErrorCode::invalid_argument &&
      config_.members.size() > 1) {
    QUIRE_TRY_ASSIGN(keeps_failing, note_failed_open());
    if (!keeps_failing) return std::move(opened).error();
  }
  if (!opened.ok() && (opened.code() == ErrorCode::corruption || keeps_failing) &&
      config_.members.size() > 1) {
    // No usable root block: keep the damaged file for the operator and start empty; the member
    // rebuilds from a peer. Until then it holds no history, so it must not vote: its vote could
    // elect a member that lacks a write set this member's lost YES helped commit. The marker is
    // durable before the journal goes, so a crash in between cannot leave an empty journal that
    // votes. A group of one has no peer: starting empty would lose every commit, so it stops with
    // the error instead.
    const std::string path = config_.data_path(store::format::journal_file_name);
    runtime_.trace(concat("journal unusable (", opened.error().to_string(), "); set aside"));
    QUIRE_TRY(mark_history_lost(lost_marker));
    QUIRE_TRY(runtime_.disk().rename(path, concat(path, ".corrupt-", runtime_.wall_clock_ns())));
    opened = store::Journal::open(runtime_.disk(), config_.journal);
  }
  QUIRE_TRY_ASSIGN(journal_, std::move(opened));
  QUIRE_TRY(clear_failed_opens());
  for (const std::string& note : journal_->recovery_notes())
    runtime_.trace(concat("recovery: ", note));
  // The quorum state is not rebuildable: a member that forgot its vote could vote twice in a
  // term. A damaged one stops the node with a clear error for the operator.
  const std::string quorum_path = config_.data_path(store::format::quorum_state_file_name);
  QUIRE_TRY_ASSIGN(quorum_state_, store::QuorumStateFile::open(runtime_.disk(), quorum_path));
  const store::QuorumState& quorum = quorum_state_->state();
  core::RecoveredState recovered;
  recovered.term = quorum.current_term;
  recovered.voted_for = quorum.voted_for;
  recovered.committed = journal_->root();
  QUIRE_TRY_ASSIGN(recovered.journal_lost, runtime_.disk().exists(lost_marker));
  // The vote is the journal's newest prepared record (one sync per commit point).
  const std::optional<store::RootBlock>& prepared = journal_->recovered_prepared();
  if (!recovered.journal_lost && config_.members.size() > 1 && lost_a_committed_root(prepared)) {
    QUIRE_TRY(mark_history_lost(lost_marker));
    recovered.journal_lost = true;
  }
  const std::optional<CommitCounter> held = journal_->uncommitted_counter();
  if (recovered.journal_lost && held) {
    // Its votes no longer count until it rebuilds, so neither does a write set it holds.
    QUIRE_TRY(journal_->rollback());
  } else if (held && prepared && prepared->commit_counter == *held &&
             *held == journal_->commit_counter().next() && journal_->prepare(*prepared).ok()) {
    recovered.prepared = prepared;
  } else if (held) {
    // Bytes without a vote: not part of this member's history.
    QUIRE_TRY(journal_->rollback());
  }
  runtime_.trace(concat("recovered term ", recovered.term, " committed ",
                        recovered.committed.commit_counter,
                        recovered.prepared ? " with a prepared write set" : ""));
  return recovered;
}

bool Node::lost_a_committed_root(const std::optional<store::RootBlock>& prepared) const {
  // This member voted YES for write set P only while it held P-1 committed, and its journal
  // never goes below a commit point it held (a rebuild installs a prefix at least that long). A
  // journal that opened below P-1 therefore lost a root block it had written: the newest slot
  // rotted, and the other slot was older. Held again from its blocks, P-1 would look merely
  // prepared; a vote for P, which may have helped commit P, would be forgotten.
  if (!prepared) return false;
  const CommitCounter opened = journal_->commit_counter();
  if (prepared->commit_counter.value() <= opened.value() + 1) return false;
  runtime_.trace(concat("journal opened at commit point ", opened, " below its vote for ",
                        prepared->commit_counter, ": a committed root block was lost"));
  return true;
}

Result<bool> Node::note_failed_open() {
  const std::string path = config_.data_path(store::format::journal_open_failures_file_name);
  QUIRE_TRY_ASSIGN(const std::unique_ptr<io::File> file,
                   runtime_.disk().open(path, io::OpenMode::create_or_open));
  QUIRE_TRY_ASSIGN(const uint64_t before, file->size());
  const uint8_t one = 1;
  QUIRE_TRY(file->write(before, ByteView(&one, 1)));
  QUIRE_TRY(file->sync());
  runtime_.trace(concat("journal failed to open ", before + 1, " start(s) in a row"));
  return before + 1 >= store::format::journal_open_failures_max;
}

Status Node::clear_failed_opens() {
  const std::string path = config_.data_path(store::format::journal_open_failures_file_name);
  QUIRE_TRY_ASSIGN(const bool exists, runtime_.disk().exists(path));
  if (!exists) return ok_status();
  return runtime_.disk().unlink(path);
}

Status Node::mark_history_lost(const std::string& lost_marker) {
  QUIRE_TRY_ASSIGN(const std::unique_ptr<io::File> marker,
                   runtime_.disk().open(lost_marker, io::OpenMode::create_or_open));
  if (config_.observer != nullptr) config_.observer->on_history_lost(config_.self);
  return ok_status();
}

Status Node::run() {
  QUIRE_TRY(config_.validate());
  QUIRE_TRY(check_member_list_file(
      runtime_, config_.data_path(store::format::member_list_file_name), config_.members));
  QUIRE_TRY_ASSIGN(const core::RecoveredState recovered, recover());
  Transport::Handlers handlers;
  handlers.on_peer_message = [this](core::Envelope envelope) {
    if (driver_ != nullptr) driver_->post(core::Received{std::move(envelope)});
  };
  handlers.on_bulk_request = [this](NodeId, const wire::BulkRequest& request) {
    return serve_bulk(*journal_, request, config_.prefix_chunk_bytes);
  };
  handlers.on_client_request = [this](const wire::ClientRequest& request) {
    return clients_->handle(request);
  };
  transport_ = std::make_unique<Transport>(runtime_, config_.self, config_.group, config_.members,
                                           std::move(handlers), config_.transport);
  driver_ = std::make_unique<ReplicaDriver>(runtime_, config_, *journal_, *quorum_state_,
                                            *transport_, recovered);
  clients_ = std::make_unique<ClientService>(runtime_, config_, *journal_, *driver_, *transport_);
  driver_->set_listener(clients_.get());
  scrubber_ = std::make_unique<Scrubber>(runtime_, config_, *journal_, *driver_, *transport_);
  clients_->set_scrub_stats(&scrubber_->stats());
  Status outcome = transport_->start();
  io::Event scrubber_done(runtime_);
  if (outcome.ok()) {
    scrubber_running_ = 1;
    runtime_.spawn("scrub", [this, &scrubber_done] {
      struct Done {
        size_t& running;
        io::Event& done;
        ~Done() {
          running = 0;
          done.set();
        }
      } done{scrubber_running_, scrubber_done};
      scrubber_->run();
    });
  }
  if (outcome.ok() && !stop_requested_) outcome = driver_->run();
  scrubber_->stop();
  clients_->shut_down();
  transport_->stop();
  if (scrubber_running_ > 0) scrubber_done.wait();
  clients_->set_scrub_stats(nullptr);
  scrubber_.reset();
  driver_->set_listener(nullptr);
  clients_.reset();
  driver_.reset();
  transport_.reset();
  return outcome;
}

Result<store::CommittedDigest> Node::committed_digest() {
  if (journal_ == nullptr) return Error(ErrorCode::unavailable, "the journal is not open yet");
  const uint64_t installs_before = journal_->installs_finished();
  const auto unsettled = [&] {
    return journal_->installing() || journal_->installs_finished() != installs_before;
  };
  if (unsettled()) return Error(ErrorCode::unavailable, "a rebuild is replacing the journal");
  QUIRE_TRY_ASSIGN(const store::CommittedDigest digest, store::digest_committed_bytes(*journal_));
  if (unsettled()) return Error(ErrorCode::unavailable, "a rebuild replaced the journal meanwhile");
  return digest;
}

void Node::stop() {
  stop_requested_ = true;
  if (driver_ != nullptr) driver_->stop();
}

}  // namespace quire::engine
