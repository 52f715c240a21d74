#include "harness/cluster_spec.h"

#include "io/base/rng.h"
#include "io/base/text.h"

namespace quire::harness {

ClusterSpec ClusterSpec::draw(uint64_t seed) {
  Rng rng(split_seed(seed, "spec"));
  ClusterSpec spec;
  spec.seed = seed;
  const uint32_t sizes[] = {1, 3, 3, 3, 5, 5};
  spec.member_count = sizes[rng.uniform(std::size(sizes))];
  spec.client_count = static_cast<uint32_t>(rng.between(1, 6));
  spec.heartbeat_interval_ticks = rng.between(3, 8);
  spec.election_timeout_ticks_min = spec.heartbeat_interval_ticks * rng.between(4, 8);
  spec.election_timeout_ticks_max = spec.election_timeout_ticks_min * 2;
  spec.prepare_timeout_ticks = rng.between(10, 40);
  spec.halog_retention_count_max = rng.one_in(3) ? rng.between(5, 50) : 0;
  const uint32_t blocks[] = {8 * 1024, 16 * 1024, 64 * 1024, 256 * 1024, 1024 * 1024};
  spec.block_size_bytes = blocks[rng.uniform(std::size(blocks))];
  WorkloadMix& mix = spec.workload;
  mix.reads = static_cast<uint32_t>(rng.uniform(5));
  mix.writes = static_cast<uint32_t>(rng.between(1, 5));
  mix.compare_and_sets = static_cast<uint32_t>(rng.uniform(4));
  mix.removes = static_cast<uint32_t>(rng.uniform(2));
  mix.transactions = static_cast<uint32_t>(rng.uniform(3));
  mix.local_reads = static_cast<uint32_t>(rng.uniform(4));
  mix.historical_reads = static_cast<uint32_t>(rng.uniform(2));
  mix.key_count = static_cast<uint32_t>(rng.between(2, 32));
  mix.large_value_percent = static_cast<uint32_t>(rng.uniform(4));
  mix.think_time_max = Duration::milliseconds(static_cast<int64_t>(rng.between(1, 50)));
  spec.faults = sim::FaultPlan::swarm(rng);
  spec.faults.max_faulty_nodes = (spec.member_count - 1) / 2;
  // One seed in ten breaks the budget: a majority may fail at once and every disk may rot.
  spec.over_budget = rng.one_in(10);
  if (spec.over_budget) spec.faults.max_faulty_nodes = spec.member_count;
  // The kinds added after the first 15, from a stream of their own: every earlier draw of a seed
  // stays as it was.
  Rng more(split_seed(seed, "spec faults after the first"));
  for (size_t index = sim::fault_kind_count_first; index < sim::fault_kind_count; index++) {
    spec.faults.enabled[index] = more.one_in(2);
  }
  return spec;
}

std::string ClusterSpec::describe() const {
  const WorkloadMix& mix = workload;
  std::string text =
      concat("  members ", member_count, ", clients ", client_count, ", duration ",
             duration.ms() / 1000, "s, liveness bound ", liveness_bound.ms() / 1000, "s\n",
             "  timing: tick ", tick_interval.ms(), "ms, heartbeat ", heartbeat_interval_ticks,
             " ticks, election ", election_timeout_ticks_min, "..", election_timeout_ticks_max,
             " ticks, prepare timeout ", prepare_timeout_ticks, " ticks, HALog cap ",
             halog_retention_count_max, ", block ", block_size_bytes / 1024, " KiB\n",
             "  workload: reads ", mix.reads, " writes ", mix.writes, " cas ", mix.compare_and_sets,
             " removes ", mix.removes, " transactions ", mix.transactions, " local reads ",
             mix.local_reads, " historical reads ", mix.historical_reads, ", keys ", mix.key_count,
             ", large values ", mix.large_value_percent, "%, think <= ", mix.think_time_max.ms(),
             "ms\n", "  faults: ", faults.describe(), over_budget ? " (OVER BUDGET)" : "", "\n",
             shuffle_fibers ? "" : "  scheduler: FIFO, no shuffling\n");
  if (mix.fresh_client_per_operation) text += "  clients: a new client per operation\n";
  if (mix.read_attempt_timeout != WorkloadMix{}.read_attempt_timeout) {
    text += concat("  clients: a read waits ", mix.read_attempt_timeout.ms(), "ms at one member\n");
  }
  if (write_stall_max > Duration()) {
    text += concat("  write stall bound: ", write_stall_max.ms(), "ms\n");
  }
  return text;
}

}  // namespace quire::harness
