// The flags of `quire bench` and their parsing, apart from the load itself so that the rules
// (ranges, a mix that adds up to 100, --count or --seconds) are checked before anything connects.
// docs/operations.md, "quire bench: load against a running group".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/base/result.h"

namespace quire::tools {

// Percentages of the operations drawn: each operation is a put, a get or a txn.
struct BenchMix {
  uint32_t put_percent = 100;
  uint32_t get_percent = 0;
  uint32_t txn_percent = 0;
};

enum class BenchConsistency { linearizable, local };

struct BenchOptions {
  uint32_t clients = 1;
  uint32_t connections = 1;  // At most `clients`; clients share them round-robin.
  uint64_t value_size_bytes = 256;
  // Exactly one of the two bounds the run: operations over all clients, or wall seconds.
  uint64_t operation_count = 10'000;
  uint64_t seconds = 0;  // 0: bounded by operation_count.
  BenchMix mix;
  uint64_t key_count = 100'000;
  BenchConsistency consistency = BenchConsistency::linearizable;
  bool json = false;
  bool progress = false;
};

// Whether `name` (e.g. "--clients") is a flag of bench, and whether it takes a value: nullopt
// for a flag bench does not know, so the caller can tell bench's flags from its own.
std::optional<bool> bench_flag_takes_value(std::string_view name);

// `arguments` are bench's flags as "--name" or "--name=value", in command-line order.
// Errors: invalid_argument, with a message for the usage error.
Result<BenchOptions> parse_bench_options(const std::vector<std::string>& arguments);

// The bench lines of the CLI's usage text.
extern const char* const bench_usage_text;

}  // namespace quire::tools
