// Node: one member of a replication group, assembled from its disk: it opens the journal and the
// quorum-state file, recovers what the core needs (docs/protocol.md, "State of a member"), and
// runs the transport, the driver and the client service until stopped or until a write it relies
// on fails. The same code runs as a daemon's main (tools/quired) and as a simulated node's main.
#pragma once

#include <memory>

#include "engine/client_service.h"
#include "engine/node_config.h"
#include "engine/replica_driver.h"
#include "engine/scrubber.h"
#include "engine/transport.h"
#include "io/runtime.h"
#include "store/committed_digest.h"
#include "store/journal.h"
#include "store/quorum_state.h"

namespace quire::engine {

class Node {
 public:
  Node(io::Runtime& runtime, NodeConfig config);
  ~Node();

  // Recovers and runs until stop() (ok) or a fatal error (returned: the node must restart).
  // Suspends.
  Status run();
  // Asks run() to return. Callable from any fiber of the node.
  void stop();

  // While run() runs; null before and after.
  const ReplicaDriver* driver() const { return driver_.get(); }
  const ClientService* clients() const { return clients_.get(); }
  const store::Journal* journal() const { return journal_.get(); }
  const Transport* transport() const { return transport_.get(); }
  const Scrubber* scrubber() const { return scrubber_.get(); }

  // The digest of the committed bytes (store/committed_digest.h), read from the disk now: equal
  // digests at one commit point mean equal committed state. Reads the whole committed journal.
  // Suspends. Errors: unavailable (the journal is not open yet, or a rebuild replaced its bytes
  // during the read: ask again); those of reading the journal.
  Result<store::CommittedDigest> committed_digest();

 private:
  Result<core::RecoveredState> recover();
  // True when the journal opened below the commit point this member's last YES vote implies.
  bool lost_a_committed_root(const std::optional<store::RootBlock>& prepared) const;
  // Counts a failed open durably; true when this is the journal_open_failures_max-th in a row.
  Result<bool> note_failed_open();
  Status clear_failed_opens();
  // Durably creates the journal-lost marker: no votes until a rebuild removes it.
  Status mark_history_lost(const std::string& lost_marker);

  io::Runtime& runtime_;
  NodeConfig config_;
  std::unique_ptr<store::Journal> journal_;
  std::unique_ptr<store::QuorumStateFile> quorum_state_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<ReplicaDriver> driver_;
  std::unique_ptr<ClientService> clients_;
  std::unique_ptr<Scrubber> scrubber_;
  size_t scrubber_running_ = 0;
  bool stop_requested_ = false;
};

}  // namespace quire::engine
