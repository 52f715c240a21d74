// quire's command line: the flags (before or after the command), their defaults from the
// environment (QUIRE_MEMBERS, QUIRE_GROUP, QUIRE_TOKEN; a flag overrides its variable), and the
// checks of each command's arguments. docs/operations.md, "quire: the command-line client".
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/transport.h"
#include "io/network.h"
#include "tools/bench_options.h"
#include "tools/quire_txn.h"

namespace quire::tools {

struct CliMember {
  uint32_t id = 0;  // 0: not given.
  io::Address address;
};

struct CliFlags {
  std::vector<CliMember> members;
  engine::GroupIdentity group;
  Duration timeout = Duration::seconds(10);
  bool json = false;  // One JSON object per answer on stdout.
  bool local = false;
  std::optional<uint32_t> member;
  uint64_t min_commit = 0;
  std::optional<uint64_t> at;  // get, scan: read the state at this commit counter.
  uint32_t limit = 100;
  std::vector<ConditionArgument> conditions;  // txn's --if, --if-absent, --if-version.
  bool json_input = false;                    // txn: the transaction is JSON on stdin.
  std::vector<std::string> words;             // The command and its arguments.
  std::vector<std::string> bench_arguments;   // Bench's flags, as "--name" or "--name=value".
  BenchOptions bench;                         // Parsed from bench_arguments.
};

// An environment variable's value, or nothing when it is unset.
using Environment = std::function<std::optional<std::string>(const char* name)>;
// The process's environment (getenv).
std::optional<std::string> process_environment(const char* name);

void print_cli_usage(std::FILE* out);

// "1=127.0.0.1:7101,2=[::1]:7102,3=db3.example:7103" (quired's form: ids, host names and IPv6
// resolved when dialled) or the same without ids. Each address and id once.
Result<std::vector<CliMember>> parse_cli_members(std::string_view text);

// argv[1..argc) with the environment's defaults; then each command's arguments checked.
// Errors: invalid_argument, naming the flag or argument.
Result<CliFlags> parse_cli_flags(const std::vector<std::string>& arguments,
                                 const Environment& environment);

// Whether `arguments` asked for --json, so that even a usage error is answered in JSON.
bool wants_json(const std::vector<std::string>& arguments);

}  // namespace quire::tools
