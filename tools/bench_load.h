// The load of `quire bench`: N closed-loop clients (fibers on the CLI's runtime), each with one
// operation outstanding at a time, over M engine::Client connections that they share in turn.
// docs/operations.md, "quire bench: load against a running group".
//
// The operations, drawn per client from the mix:
// - put: one key of the key space (bench-<n>, uniform) set to a B-byte value.
// - get: one key of the key space, linearizable (at the leader) or local (client i asks member
//   i mod members). A key never written is a successful get (counted as not found).
// - txn: a compare-and-set chain, the shape of an application's "advance a record and write
//   beside it": on condition that the client's own guard key bench-txn-<i> still holds what its
//   last txn wrote (absent at first), set the guard to a new value and one key of the key space
//   to a B-byte value. No other client writes that guard, so the condition is expected to hold;
//   it fails (condition_failed) only when another bench runs with the same client numbers, and
//   after an unknown outcome, when the client reads its guard again before the next txn.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/transport.h"
#include "io/runtime.h"
#include "tools/bench_options.h"
#include "tools/latency_histogram.h"

namespace quire::tools {

struct BenchTarget {
  engine::GroupIdentity group;
  std::vector<io::Address> members;
  Duration operation_timeout;  // Each operation's deadline (the CLI's --timeout).
};

struct BenchResult {
  // False: the warm-up found no leader within the timeout (the reason says what the members
  // answered), and nothing was measured.
  bool leader_reached = false;
  std::string unreachable_reason;
  uint64_t operations = 0;                 // Finished, successful or not.
  std::map<std::string, uint64_t> errors;  // By kind: unknown_outcome, unavailable, ...
  uint64_t error_count = 0;
  uint64_t gets_not_found = 0;
  double seconds = 0;        // From the first operation issued to the last answered.
  LatencyHistogram latency;  // Issue to answer, of the successful operations only.

  double rate() const;  // Successful operations per second.
};

// Warms every connection up with one linearizable get (unmeasured), then runs the load until
// options.operation_count operations were issued or options.seconds passed, and waits for the
// last answer. Suspends. REQUIRES: !target.members.empty(); options as parse_bench_options makes
// them.
BenchResult run_bench_load(io::Runtime& runtime, const BenchTarget& target,
                           const BenchOptions& options);

}  // namespace quire::tools
