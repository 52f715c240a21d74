// What `quire bench` prints: a few lines for people, or one JSON object for scripts (the field
// names are an interface: other people's scripts read them). docs/operations.md, "quire bench:
// load against a running group".
#pragma once

#include <cstdio>
#include <string>

#include "tools/bench_load.h"
#include "tools/bench_options.h"

namespace quire::tools {

// Operations, errors by kind, elapsed seconds, rate, and the latency percentiles in ms.
void print_bench_text(std::FILE* out, const BenchOptions& options, const BenchResult& result);

// Exactly one line, one object: {"operations":N,"errors":{"<kind>":n,...},"error_count":n,
// "seconds":s,"rate":r,"latency_ms":{"p50":..,"p90":..,"p99":..,"p999":..,"max":..},
// "clients":N,"connections":M,"value_size":B,"mix":{"put":..,"get":..,"txn":..}}.
std::string bench_json(const BenchOptions& options, const BenchResult& result);

}  // namespace quire::tools
