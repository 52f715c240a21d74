// WriteSetListener: what the driver tells the client side about write sets and reads, as the
// core's effects say (AcknowledgeWriteSet, AbandonWriteSets, ConfirmReads, RefuseReads).
#pragma once

#include <optional>

#include "io/base/ids.h"
#include "store/root_block.h"

namespace quire::engine {

class WriteSetListener {
 public:
  virtual ~WriteSetListener() = default;
  // The pending layer became write set `counter` (its transactions now wait for that commit).
  virtual void on_sealed(const store::RootBlock& root) = 0;
  // The write set `counter` committed: its transactions succeeded.
  virtual void on_acknowledged(CommitCounter counter) = 0;
  // Leadership ended: `in_flight` (if any) has an unknown outcome; the pending layer was
  // dropped (surely not committed).
  virtual void on_abandoned(std::optional<CommitCounter> in_flight) = 0;
  virtual void on_reads_confirmed(uint64_t through) = 0;
  virtual void on_reads_refused(uint64_t through) = 0;
  // This member's committed state advanced (any role).
  virtual void on_committed(CommitCounter counter) = 0;
};

}  // namespace quire::engine
