// One quire command against the group, on the client runtime's main fiber: the writes (put, cas,
// delete, txn), the reads (get, scan: linearizable, local or historical), status and bench.
// Returns the process's exit code (tools/quire_output.h). Suspends.
#pragma once

#include <cstdio>
#include <string>

#include "io/runtime.h"
#include "tools/quire_flags.h"

namespace quire::tools {

// `input`: where txn --json-input reads its transaction.
int run_command(io::Runtime& runtime, const CliFlags& flags, std::FILE* input);

}  // namespace quire::tools
