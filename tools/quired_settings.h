// DaemonSettings: everything quired is configured with, read from a TOML file (--config FILE) and
// from flags, a flag overriding the file's key. One table of settings (quired_settings.cc) names
// each key, its flag, its default and its meaning; both sources go through the same parser for
// each setting, so a bad value gets the same words whichever way it came. docs/operations.md,
// "Running as a service", lists the table.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/node_config.h"
#include "io/base/result.h"
#include "io/network.h"

namespace quire::tools {

struct DaemonSettings {
  uint32_t member_id = 0;
  std::vector<engine::MemberAddress> members;  // Sorted by id, each id and address once.
  std::string group_name;
  uint64_t group_token = 0;
  std::string data_directory;
  std::optional<io::Address> http_listen;  // None: no HTTP endpoint.
  uint64_t tick_ms = 10;
  uint64_t block_size_bytes = 0;  // 0 until parsed: the journal's default.
  uint64_t election_timeout_ticks_min = 0;
  uint64_t election_timeout_ticks_max = 0;
  uint64_t prepare_timeout_ticks = 0;
  uint64_t halog_retention_count_max = 0;
  uint64_t scrub_pass_seconds = 600;
  uint64_t scrub_mib_per_second = 8;
  // The event log's (tools/event_log.h): validated here, parsed again by quired.
  std::string log_level = "info";   // trace, debug, info, warn or error.
  std::string log_format = "text";  // text or json.
  bool trace = false;

  DaemonSettings();
  // The engine's configuration for these settings. Errors: invalid_argument (a combination the
  // engine refuses, such as election_timeout_ticks_min >= election_timeout_ticks_max).
  Result<engine::NodeConfig> node_config() const;
};

// What the command line asks quired to do.
enum class DaemonAction { run, check_config, version, help };

struct DaemonInvocation {
  DaemonAction action = DaemonAction::run;
  DaemonSettings settings;  // Valid when action is run or check_config.
};

// Reads --config FILE if given, then every other flag over it, then checks that the required
// settings are present and fit together. Errors: invalid_argument, naming the key or flag, the
// value and why.
Result<DaemonInvocation> parse_invocation(int argc, const char* const* argv);

// The settings as a TOML file that --config reads back to the same settings.
std::string settings_toml(const DaemonSettings& settings);

// Every flag and key, for --help.
std::string settings_usage();

}  // namespace quire::tools
