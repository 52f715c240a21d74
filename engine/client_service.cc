#include "engine/client_service.h"

#include <algorithm>

#include "engine/bulk.h"
#include "engine/scrubber.h"
#include "io/base/planted_bug.h"
#include "io/base/text.h"
#include "store/address.h"

namespace quire::engine {
namespace {

constexpr size_t operations_per_transaction_max = 10'000;
constexpr uint32_t scan_limit_max = 10'000;
constexpr Duration linearizable_read_timeout = Duration::seconds(5);
constexpr uint32_t local_read_wait_ms_max = 30'000;

wire::ClientResponse answer(wire::Outcome outcome, std::string message = {}) {
  wire::ClientResponse response;
  response.set_outcome(outcome);
  response.set_message(std::move(message));
  return response;
}

// Whether `condition` holds for the key's current value (nullopt: absent).
bool holds(const wire::Condition& condition, const std::optional<store::Value>& current) {
  switch (condition.expect_case()) {
    case wire::Condition::kValueEquals:
      return current && as_text(current->bytes) == condition.value_equals();
    case wire::Condition::kVersionEquals:
      return current && current->version.value() == condition.version_equals();
    case wire::Condition::kAbsent:
      return condition.absent() ? !current.has_value() : current.has_value();
    case wire::Condition::EXPECT_NOT_SET:
      break;
  }
  return false;
}

}  // namespace

ClientService::ClientService(io::Runtime& runtime, const NodeConfig& config,
                             store::Journal& journal, ReplicaDriver& driver, Transport& transport)
    : runtime_(runtime),
      config_(config),
      journal_(journal),
      driver_(driver),
      transport_(transport),
      outcomes_(runtime),
      read_confirmations_(runtime),
      commits_(runtime) {}

ClientService::~ClientService() {
  QUIRE_ASSERT(waiters_.empty() || runtime_.scheduler().killing());
}

void ClientService::shut_down() {
  shut_down_ = true;
  settle([](const Waiter& waiter) -> std::optional<wire::Outcome> {
    return waiter.write_set && !waiter.condition_failed ? wire::UNKNOWN : wire::NOT_LEADER;
  });
  reads_refused_through_ = next_read_id_;
  read_confirmations_.notify_all();
  commits_.notify_all();
}

wire::ClientResponse ClientService::handle(const wire::ClientRequest& request) {
  wire::ClientResponse response;
  if (shut_down_) {
    response = answer(wire::UNAVAILABLE, "the node is stopping");
    response.set_request_id(request.request_id());
    return response;
  }
  switch (request.body_case()) {
    case wire::ClientRequest::kTransaction:
      response = transaction(request.transaction());
      break;
    case wire::ClientRequest::kRead:
      response = read(request.read());
      break;
    case wire::ClientRequest::kStatus:
      response = answer(wire::OK);
      *response.mutable_status() = member_status();
      break;
    case wire::ClientRequest::BODY_NOT_SET:
      response = answer(wire::INVALID, "request without a body");
      break;
  }
  response.set_request_id(request.request_id());
  return response;
}

void ClientService::redirect(wire::ClientResponse& response) const {
  response.set_outcome(wire::NOT_LEADER);
  const NodeId leader = driver_.replica().status().leader;
  if (const MemberAddress* member = config_.member(leader)) {
    response.set_leader_address(member->address.to_string());
  }
  if (response.message().empty()) response.set_message("not the leader");
}

Status ClientService::validate(const wire::Transaction& transaction) const {
  const store::JournalOptions& limits = journal_.options();
  if (transaction.operations_size() + transaction.conditions_size() >
      static_cast<int>(operations_per_transaction_max)) {
    return Error(ErrorCode::invalid_argument, "too many operations in one transaction");
  }
  for (const wire::Operation& operation : transaction.operations()) {
    if (operation.key().empty() || operation.key().size() > limits.key_size_bytes_max) {
      return Error(ErrorCode::invalid_argument,
                   concat("key of ", operation.key().size(), " bytes (1..",
                          limits.key_size_bytes_max, " allowed)"));
    }
    if (operation.kind_case() == wire::Operation::KIND_NOT_SET) {
      return Error(ErrorCode::invalid_argument, "operation without put or remove");
    }
    if (operation.kind_case() == wire::Operation::kPut &&
        operation.put().size() > limits.value_size_bytes_max) {
      return Error(ErrorCode::invalid_argument,
                   concat("value of ", operation.put().size(), " bytes exceeds ",
                          limits.value_size_bytes_max));
    }
  }
  for (const wire::Condition& condition : transaction.conditions()) {
    if (condition.key().empty() || condition.expect_case() == wire::Condition::EXPECT_NOT_SET) {
      return Error(ErrorCode::invalid_argument, "condition without a key or an expectation");
    }
  }
  return ok_status();
}

wire::ClientResponse ClientService::transaction(const wire::Transaction& transaction) {
  wire::ClientResponse response;
  if (const Status valid = validate(transaction); !valid.ok()) {
    return answer(wire::INVALID, valid.error().message());
  }
  core::ReplicaStatus status = driver_.replica().status();
  if (status.role != core::Role::leader) {
    redirect(response);
    return response;
  }
  if (!status.ready_for_reads) {
    // A new leader commits the write set it re-proposes before it takes new ones.
    return answer(wire::UNAVAILABLE, "the new leader is settling; retry");
  }
  uint64_t size_bytes = 0;
  for (const wire::Operation& operation : transaction.operations()) {
    size_bytes += operation.key().size() + operation.put().size();
  }
  if (waiters_.size() >= config_.pending_transactions_max ||
      pending_bytes_ + size_bytes > config_.pending_bytes_max) {
    return answer(wire::BUSY, "too many transactions waiting; back off");
  }
  Waiter waiter;
  waiter.trace_id = transaction.trace_id();
  const uint64_t id = next_waiter_++;
  {
    io::MutexLock lock(driver_.journal_mutex());
    // The leadership may have ended while this fiber waited for the journal.
    status = driver_.replica().status();
    if (status.role != core::Role::leader || !status.ready_for_reads) {
      redirect(response);
      return response;
    }
    for (const wire::Condition& condition : transaction.conditions()) {
      auto current = journal_.get_pending(as_bytes(condition.key()));
      if (!current.ok()) return answer(wire::UNAVAILABLE, current.error().to_string());
      if (!holds(condition, *current)) {
        waiter.condition_failed = true;
        break;
      }
    }
    if (!waiter.condition_failed) {
      for (const wire::Operation& operation : transaction.operations()) {
        const Status applied =
            operation.kind_case() == wire::Operation::kPut
                ? journal_.put(as_bytes(operation.key()), as_bytes(operation.put()))
                : journal_.remove(as_bytes(operation.key()));
        QUIRE_ASSERT_MSG(applied.ok(), "validated operation refused by the journal");
      }
    }
    waiters_.emplace(id, &waiter);
    pending_bytes_ += size_bytes;
  }
  // Unregisters however the wait ends (answer, or a crash unwinding this fiber).
  struct Unregister {
    ClientService& service;
    uint64_t id;
    uint64_t size_bytes;
    ~Unregister() {
      service.waiters_.erase(id);
      service.pending_bytes_ -= size_bytes;
    }
  } unregister{*this, id, size_bytes};
  // A failed condition read uncommitted state: it is answered once that state commits, so it
  // rides the next write set (an empty one if need be).
  driver_.post(core::PendingWork{});
  while (!waiter.outcome)
    outcomes_.wait();
  response.set_outcome(*waiter.outcome);
  if (*waiter.outcome == wire::OK && waiter.write_set) {
    response.set_commit_counter(waiter.write_set->value());
  } else if (*waiter.outcome == wire::NOT_LEADER) {
    redirect(response);
  } else if (*waiter.outcome == wire::UNKNOWN) {
    response.set_message("leadership changed while the write set was in flight");
  }
  return response;
}

void ClientService::settle(
    const std::function<std::optional<wire::Outcome>(const Waiter&)>& decide) {
  bool any = false;
  for (auto& [id, waiter] : waiters_) {
    if (waiter->outcome) continue;
    if (std::optional<wire::Outcome> outcome = decide(*waiter)) {
      waiter->outcome = outcome;
      any = true;
    }
  }
  if (any) outcomes_.notify_all();
}

void ClientService::on_sealed(const store::RootBlock& root) {
  std::vector<SealedTransaction> sealed;
  for (auto& [id, waiter] : waiters_) {
    if (waiter->write_set || waiter->outcome) continue;
    waiter->write_set = root.commit_counter;
    sealed.push_back(SealedTransaction{waiter->trace_id, waiter->condition_failed});
  }
  if (config_.observer != nullptr) config_.observer->on_sealed(config_.self, root, sealed);
  // Planted bug: success before the write set is replicated and committed.
  if (planted(PlantedBug::acknowledged_at_seal)) on_acknowledged(root.commit_counter);
}

void ClientService::on_acknowledged(CommitCounter counter) {
  settle([counter](const Waiter& waiter) -> std::optional<wire::Outcome> {
    if (waiter.write_set != counter) return std::nullopt;
    return waiter.condition_failed ? wire::CONDITION_FAILED : wire::OK;
  });
}

void ClientService::on_abandoned(std::optional<CommitCounter> in_flight) {
  settle([in_flight](const Waiter& waiter) -> std::optional<wire::Outcome> {
    // A failed condition changed nothing: whatever happens to its write set, it is surely not
    // applied. So is a transaction never sealed.
    if (waiter.condition_failed || !waiter.write_set) return wire::NOT_LEADER;
    if (waiter.write_set == in_flight) return wire::UNKNOWN;
    return std::nullopt;
  });
}

void ClientService::on_reads_confirmed(uint64_t through) {
  reads_confirmed_through_ = std::max(reads_confirmed_through_, through);
  read_confirmations_.notify_all();
}

void ClientService::on_reads_refused(uint64_t through) {
  reads_refused_through_ = std::max(reads_refused_through_, through);
  read_confirmations_.notify_all();
}

void ClientService::on_committed(CommitCounter) {
  commits_.notify_all();
}

wire::ClientResponse ClientService::read(const wire::Read& read) {
  if (read.scan_limit() > scan_limit_max) {
    return answer(wire::INVALID, concat("scan limit above ", scan_limit_max));
  }
  switch (read.consistency()) {
    case wire::Read::LINEARIZABLE: {
      wire::ClientResponse response;
      if (driver_.replica().status().role != core::Role::leader) {
        redirect(response);
        return response;
      }
      if (reads_waiting_ >= config_.waiting_reads_max) {
        return answer(wire::BUSY, "too many reads waiting; back off");
      }
      // Planted bug: the leader answers from its committed state without the round that
      // confirms it still leads, so a deposed leader that has not noticed serves a stale read.
      const bool confirm = !planted(PlantedBug::linearizable_read_without_quorum);
      const uint64_t read_id = ++next_read_id_;
      reads_waiting_++;
      struct Count {
        size_t& waiting;
        ~Count() { waiting--; }
      } count{reads_waiting_};
      if (confirm) driver_.post(core::ReadRequested{read_id});
      const Instant deadline = runtime_.now() + linearizable_read_timeout;
      while (confirm && reads_confirmed_through_ < read_id && reads_refused_through_ < read_id) {
        if (!read_confirmations_.wait(deadline)) {
          return answer(wire::UNAVAILABLE, "leadership not confirmed in time");
        }
      }
      if (confirm && reads_confirmed_through_ < read_id) {
        redirect(response);
        return response;
      }
      // Planted bug: the read is answered at the commit point before the latest.
      if (planted(PlantedBug::linearizable_read_stale) && journal_.commit_counter().value() > 0) {
        auto stale = journal_.view(journal_.commit_counter().prev());
        if (stale.ok()) return read_view(read, *stale);
      }
      return read_view(read, journal_.committed_view());
    }
    case wire::Read::LOCAL: {
      const uint32_t wait_ms = std::min(read.wait_ms(), local_read_wait_ms_max);
      const Instant deadline = runtime_.now() + Duration::milliseconds(wait_ms);
      // Planted bug: the read is served at whatever commit point this member has reached.
      while (!planted(PlantedBug::local_read_below_min) &&
             journal_.commit_counter().value() < read.min_commit_counter()) {
        if (shut_down_ || !commits_.wait(deadline)) {
          wire::ClientResponse response =
              answer(wire::TIMEOUT, concat("at commit point ", journal_.commit_counter(),
                                           ", asked for ", read.min_commit_counter()));
          response.set_commit_counter(journal_.commit_counter().value());
          return response;
        }
      }
      return read_view(read, journal_.committed_view());
    }
    case wire::Read::HISTORICAL: {
      auto view = journal_.view(CommitCounter(read.at_commit_counter()));
      if (!view.ok()) return answer(wire::UNAVAILABLE, view.error().to_string());
      return read_view(read, *view);
    }
    default:
      return answer(wire::INVALID, "unknown consistency");
  }
}

wire::ClientResponse ClientService::read_view(const wire::Read& read, const store::ReadView& view) {
  wire::ClientResponse response = answer(wire::OK);
  response.set_commit_counter(view.root().commit_counter.value());
  for (const std::string& key : read.keys()) {
    auto value = get_repaired(view, as_bytes(key));
    if (!value.ok()) return answer(wire::UNAVAILABLE, value.error().to_string());
    wire::KeyValue* result = response.add_results();
    result->set_key(key);
    if (*value) {
      result->set_found(true);
      result->set_value((*value)->bytes.data(), (*value)->bytes.size());
      result->set_version((*value)->version.value());
    }
  }
  if (read.scan_limit() > 0) {
    const uint64_t installs = journal_.installs_finished();
    auto entries =
        view.scan(as_bytes(read.scan_begin()), as_bytes(read.scan_end()), read.scan_limit());
    if (!entries.ok() && entries.code() == ErrorCode::checksum_mismatch &&
        repair(entries.error(), installs).ok()) {
      entries =
          view.scan(as_bytes(read.scan_begin()), as_bytes(read.scan_end()), read.scan_limit());
    }
    if (!entries.ok()) return answer(wire::UNAVAILABLE, entries.error().to_string());
    for (const store::Entry& entry : *entries) {
      wire::KeyValue* result = response.add_results();
      result->set_key(entry.key.data(), entry.key.size());
      result->set_value(entry.value.bytes.data(), entry.value.bytes.size());
      result->set_version(entry.value.version.value());
      result->set_found(true);
    }
  }
  return response;
}

Result<std::optional<store::Value>> ClientService::get_repaired(const store::ReadView& view,
                                                                ByteView key) {
  const uint64_t installs = journal_.installs_finished();
  auto value = view.get(key);
  if (value.ok() || value.code() != ErrorCode::checksum_mismatch) return value;
  QUIRE_TRY(repair(value.error(), installs));
  return view.get(key);
}

Status ClientService::repair(const Error& error, uint64_t installs_before_read) {
  record_checksum_failures_++;
  const std::optional<store::Address> address = store::failed_address(error);
  if (!address) return error;
  runtime_.trace(concat("read repair of record at ", address->offset, "+", address->length));
  for (const MemberAddress& member : config_.members) {
    if (member.id == config_.self) continue;
    auto bytes = fetch_record_from(transport_, runtime_, member.id, *address,
                                   runtime_.now() + config_.fetch_timeout);
    if (!bytes.ok()) continue;
    io::MutexLock lock(driver_.journal_mutex());
    if (journal_.installing()) {
      return Error(ErrorCode::unavailable, "a rebuild is replacing this member's journal");
    }
    if (journal_.repair(address->offset, *bytes).ok()) {
      read_repairs_++;
      runtime_.trace(concat("read repair from ", member.id, " succeeded"));
      if (config_.observer != nullptr) config_.observer->on_mark(config_.self, "read_repair");
      return ok_status();
    }
  }
  if (journal_.installs_finished() != installs_before_read) {
    // A rebuild replaced the journal since the read: the damage it saw is gone, not a reason to
    // rebuild again.
    return Error(ErrorCode::unavailable, "this member's journal was rebuilt during the read");
  }
  // Nobody supplied a good copy: this member leaves the quorum and rebuilds (docs/protocol.md,
  // "Catch-up", on read repair).
  driver_.post(core::DataDamaged{address->offset});
  return Error(ErrorCode::checksum_mismatch, concat("no member holds a good copy of the record at ",
                                                    address->offset, "; this member rebuilds"));
}

wire::MemberStatus ClientService::member_status() const {
  const core::ReplicaStatus status = driver_.replica().status();
  wire::MemberStatus member;
  member.set_node(config_.self.value());
  const bool joined = status.role == core::Role::follower && status.leader != node_none &&
                      !status.catching_up && !status.damaged &&
                      status.committed >= status.leader_committed;
  member.set_role(status.role == core::Role::leader ? "leader" : joined ? "follower" : "not_ready");
  member.set_term(status.term.value());
  member.set_commit_counter(status.committed.value());
  member.set_lag(status.leader_committed > status.committed
                     ? status.leader_committed.value() - status.committed.value()
                     : 0);
  member.set_leader(status.leader.value());
  member.set_read_repairs(read_repairs_);
  if (scrub_stats_ != nullptr) {
    member.set_scrub_repairs(scrub_stats_->blocks_repaired);
    member.set_scrub_passes(scrub_stats_->passes_completed);
  }
  member.set_halog_retention(status.halog_retention);
  if (config_.describe_disk) config_.describe_disk(member);
  for (NodeId joined : status.joined)
    member.add_joined(joined.value());
  std::string detail = concat(core::role_name(status.role));
  if (status.catching_up) detail += status.rebuilding ? ", rebuilding" : ", resyncing";
  if (status.in_flight) detail += concat(", write set ", *status.in_flight, " in flight");
  if (read_repairs_ > 0) detail += concat(", ", read_repairs_, " read repairs");
  if (member.scrub_repairs() > 0) detail += concat(", ", member.scrub_repairs(), " scrub repairs");
  member.set_detail(detail);
  return member;
}

}  // namespace quire::engine
