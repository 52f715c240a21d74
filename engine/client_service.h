// ClientService: what clients see of a member. Transactions go to the leader's pending layer and
// are answered when their write set commits (ok), when the leadership ends (unknown if their
// write set was in flight, not_leader if it was never sealed), or at once when they are malformed
// or the leader is saturated (busy). Reads: linearizable (leader, confirmed by a quorum round),
// local (any member, optionally waiting for a commit counter), historical (a retained commit
// point). A record that fails its checksum is repaired from a peer and read again.
//
// Every queue here is bounded (NodeConfig). Methods that answer a request suspend.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "engine/node_config.h"
#include "engine/replica_driver.h"
#include "engine/transport.h"
#include "engine/wire/wire.pb.h"
#include "engine/write_set_listener.h"
#include "io/runtime.h"
#include "io/sync.h"
#include "store/journal.h"

namespace quire::engine {

struct ScrubStats;

class ClientService : public WriteSetListener {
 public:
  ClientService(io::Runtime& runtime, const NodeConfig& config, store::Journal& journal,
                ReplicaDriver& driver, Transport& transport);
  ~ClientService() override;

  // Answers one request. Suspends.
  wire::ClientResponse handle(const wire::ClientRequest& request);
  // The node stops: every waiting request is answered (a sealed transaction: unknown; one never
  // sealed: not_leader; a read: unavailable) and new ones are refused.
  void shut_down();
  wire::MemberStatus member_status() const;
  uint64_t read_repairs() const { return read_repairs_; }
  // Reads of committed records that failed their checksum here (each then tried read repair).
  uint64_t record_checksum_failures() const { return record_checksum_failures_; }
  // The scrubber whose counters the status reports; may be null. Not owned.
  void set_scrub_stats(const ScrubStats* stats) { scrub_stats_ = stats; }

  void on_sealed(const store::RootBlock& root) override;
  void on_acknowledged(CommitCounter counter) override;
  void on_abandoned(std::optional<CommitCounter> in_flight) override;
  void on_reads_confirmed(uint64_t through) override;
  void on_reads_refused(uint64_t through) override;
  void on_committed(CommitCounter counter) override;

 private:
  // A transaction waiting for its write set.
  struct Waiter {
    uint64_t trace_id = 0;
    std::optional<CommitCounter> write_set;  // Unset while in the pending layer.
    bool condition_failed = false;
    std::optional<wire::Outcome> outcome;
  };

  wire::ClientResponse transaction(const wire::Transaction& transaction);
  wire::ClientResponse read(const wire::Read& read);
  // Reads keys and a scan from `view`, repairing a rotten record once.
  wire::ClientResponse read_view(const wire::Read& read, const store::ReadView& view);
  Result<std::optional<store::Value>> get_repaired(const store::ReadView& view, ByteView key);
  // `installs_before_read`: Journal::installs_finished() before the read that failed.
  Status repair(const Error& error, uint64_t installs_before_read);
  Status validate(const wire::Transaction& transaction) const;
  // Sets `response` to not_leader with the leader's address.
  void redirect(wire::ClientResponse& response) const;
  void settle(const std::function<std::optional<wire::Outcome>(const Waiter&)>& decide);

  io::Runtime& runtime_;
  const NodeConfig& config_;
  store::Journal& journal_;
  ReplicaDriver& driver_;
  Transport& transport_;
  std::map<uint64_t, Waiter*> waiters_;  // By admission order.
  uint64_t next_waiter_ = 1;
  uint64_t pending_bytes_ = 0;
  io::WaitQueue outcomes_;
  uint64_t next_read_id_ = 0;
  uint64_t reads_confirmed_through_ = 0;
  uint64_t reads_refused_through_ = 0;
  size_t reads_waiting_ = 0;
  io::WaitQueue read_confirmations_;
  io::WaitQueue commits_;
  uint64_t read_repairs_ = 0;
  uint64_t record_checksum_failures_ = 0;
  const ScrubStats* scrub_stats_ = nullptr;
  bool shut_down_ = false;
};

}  // namespace quire::engine
