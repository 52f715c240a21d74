// quired's settings table and the command line. The TOML file's reading is in
// quired_settings_toml.cc; both feed the parsers here.
#include "tools/quired_settings.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <span>

#include "io/base/text.h"
#include "store/format.h"
#include "tools/cli_flags.h"
#include "tools/quired_setting_table.h"

namespace quire::tools {
namespace {

// "64K", "1M", "65536": a byte count with an optional binary suffix.
Result<uint64_t> parse_bytes(std::string_view text) {
  uint64_t multiplier = 1;
  if (!text.empty() && (text.back() == 'K' || text.back() == 'k')) multiplier = 1024;
  if (!text.empty() && (text.back() == 'M' || text.back() == 'm')) multiplier = 1024 * 1024;
  if (multiplier != 1) text.remove_suffix(1);
  QUIRE_TRY_ASSIGN(const uint64_t count, parse_number(text, "value"));
  if (count > UINT32_MAX / multiplier) return usage_error("too large (at most 4 GiB - 1)");
  return count * multiplier;
}

Result<uint64_t> parse_bounded(std::string_view text, uint64_t low, uint64_t high) {
  uint64_t value = 0;
  const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || status != std::errc() || end != text.data() + text.size()) {
    return usage_error("not a whole number");
  }
  if (value < low || value > high) return usage_error(concat("not between ", low, " and ", high));
  return value;
}

Result<uint64_t> parse_token(std::string_view text) {
  if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
  uint64_t value = 0;
  const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (text.empty() || text.size() > 16 || status != std::errc() ||
      end != text.data() + text.size()) {
    return usage_error("not 1 to 16 hex digits");
  }
  return value;
}

Result<io::Address> parse_host_port(std::string_view text) {
  auto address = io::Address::parse(text);
  if (!address.ok()) return usage_error(address.error().message());
  return std::move(*address);
}

// "1=127.0.0.1:7101,2=[::1]:7102": sorted by id, each id and address once.
Result<std::vector<engine::MemberAddress>> parse_members(std::string_view text) {
  std::map<uint32_t, io::Address> by_id;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const size_t equals = item.find('=');
    if (equals == std::string_view::npos) {
      return usage_error(concat("'", item, "' is not id=host:port"));
    }
    auto id = parse_bounded(item.substr(0, equals), 1, UINT32_MAX);
    if (!id.ok())
      return usage_error(concat("member id '", item.substr(0, equals), "': ids start at 1"));
    QUIRE_TRY_ASSIGN(io::Address address, parse_host_port(item.substr(equals + 1)));
    for (const auto& [other_id, other] : by_id) {
      if (other == address) return usage_error(concat(address.to_string(), " appears twice"));
    }
    if (!by_id.emplace(static_cast<uint32_t>(*id), std::move(address)).second) {
      return usage_error(concat("id ", *id, " appears twice"));
    }
  }
  if (by_id.empty()) return usage_error("no members");
  std::vector<engine::MemberAddress> members;
  for (auto& [id, address] : by_id)
    members.push_back(engine::MemberAddress{NodeId(id), std::move(address)});
  return members;
}

std::string members_text(const std::vector<engine::MemberAddress>& members) {
  std::string text;
  for (const engine::MemberAddress& member : members) {
    text += concat(text.empty() ? "" : ",", member.id.value(), "=", member.address.to_string());
  }
  return text;
}

Status one_of(std::string_view text, std::span<const std::string_view> allowed) {
  std::string names;
  for (std::string_view name : allowed) {
    if (text == name) return ok_status();
    names += concat(names.empty() ? "" : ", ", name);
  }
  return usage_error(concat("not one of ", names));
}

constexpr std::string_view log_levels[] = {"trace", "debug", "info", "warn", "error"};
constexpr std::string_view log_formats[] = {"text", "json"};

// A setting whose value is a bounded number held in `member`.
template <uint64_t DaemonSettings::*member, uint64_t low, uint64_t high>
Status apply_bounded(DaemonSettings& settings, std::string_view text) {
  QUIRE_TRY_ASSIGN(settings.*member, parse_bounded(text, low, high));
  return ok_status();
}

template <uint64_t DaemonSettings::*member>
std::string show_number(const DaemonSettings& settings) {
  return concat(settings.*member);
}

const engine::core::ReplicaConfig protocol_defaults;

const SettingKey setting_keys[] = {
    {"member.id", "--id", SettingKind::integer, "(required)",
     "this member's id, one of the members",
     [](DaemonSettings& settings, std::string_view text) -> Status {
       QUIRE_TRY_ASSIGN(const uint64_t id, parse_bounded(text, 1, UINT32_MAX));
       settings.member_id = static_cast<uint32_t>(id);
       return ok_status();
     },
     [](const DaemonSettings& settings) { return concat(settings.member_id); }},
    {"members", "--members", SettingKind::members, "(required)",
     "every electable member: id = \"host:port\" in TOML, id=host:port,... as a flag; this "
     "member listens for peers and clients on its own address",
     [](DaemonSettings& settings, std::string_view text) -> Status {
       QUIRE_TRY_ASSIGN(settings.members, parse_members(text));
       return ok_status();
     },
     [](const DaemonSettings& settings) { return members_text(settings.members); }},
    {"group.name", "--group", SettingKind::text, "(required)",
     "the replication group's name; members and clients must agree",
     [](DaemonSettings& settings, std::string_view text) -> Status {
       if (text.empty()) return usage_error("empty");
       settings.group_name = std::string(text);
       return ok_status();
     },
     [](const DaemonSettings& settings) { return settings.group_name; }},
    {"group.token", "--token", SettingKind::text, "(required)",
     "the group's token, 1 to 16 hex digits; a node with another token is refused",
     [](DaemonSettings& settings, std::string_view text) -> Status {
       QUIRE_TRY_ASSIGN(settings.group_token, parse_token(text));
       return ok_status();
     },
     [](const DaemonSettings& settings) { return hex64(settings.group_token); }},
    {"data_dir", "--data-dir", SettingKind::text, "(required)",
     "where the journal, HALogs and quorum state live (created if missing)",
     [](DaemonSettings& settings, std::string_view text) -> Status {
       if (text.empty()) return usage_error("empty");
       settings.data_directory = std::string(text);
       return ok_status();
     },
     [](const DaemonSettings& settings) { return settings.data_directory; }},
    {"http.listen", "--http-listen", SettingKind::text, "\"\" (off)",
     "serve /status, /health and /metrics over HTTP on host:port",
     [](DaemonSettings& settings, std::string_view text) -> Status {
       if (text.empty()) {
         settings.http_listen.reset();
         return ok_status();
       }
       QUIRE_TRY_ASSIGN(settings.http_listen, parse_host_port(text));
       return ok_status();
     },
     [](const DaemonSettings& settings) {
       return settings.http_listen ? settings.http_listen->to_string() : std::string();
     }},
    {"protocol.tick_ms", "--tick-ms", SettingKind::integer, "10",
     "the protocol's tick in milliseconds (1 to 10000); its timeouts count ticks",
     apply_bounded<&DaemonSettings::tick_ms, 1, 10'000>, show_number<&DaemonSettings::tick_ms>},
    {"protocol.election_timeout_ticks_min", "--election-timeout-ticks-min", SettingKind::integer,
     "30", "a follower that hears no leader for a random time between min and max stands",
     apply_bounded<&DaemonSettings::election_timeout_ticks_min, 2, 1'000'000>,
     show_number<&DaemonSettings::election_timeout_ticks_min>},
    {"protocol.election_timeout_ticks_max", "--election-timeout-ticks-max", SettingKind::integer,
     "60", "the upper end of the election timeout; more than the min",
     apply_bounded<&DaemonSettings::election_timeout_ticks_max, 3, 1'000'000>,
     show_number<&DaemonSettings::election_timeout_ticks_max>},
    {"protocol.prepare_timeout_ticks", "--prepare-timeout-ticks", SettingKind::integer, "20",
     "a write set not committed this long after it was sent is re-sent",
     apply_bounded<&DaemonSettings::prepare_timeout_ticks, 1, 1'000'000>,
     show_number<&DaemonSettings::prepare_timeout_ticks>},
    {"journal.block_size", "--block-size", SettingKind::byte_count, "\"1M\"",
     "write-cache block size in bytes, or with a K or M suffix",
     [](DaemonSettings& settings, std::string_view text) -> Status {
       QUIRE_TRY_ASSIGN(settings.block_size_bytes, parse_bytes(text));
       return ok_status();
     },
     show_number<&DaemonSettings::block_size_bytes>},
    {"journal.halog_retention_count_max", "--halog-retention-count-max", SettingKind::integer,
     "0 (no cap)",
     "keep at most this many HALogs past the lowest committed counter of all members; a member "
     "that needs an older one rebuilds",
     apply_bounded<&DaemonSettings::halog_retention_count_max, 0, UINT32_MAX>,
     show_number<&DaemonSettings::halog_retention_count_max>},
    {"scrub.pass_seconds", "--scrub-pass-seconds", SettingKind::integer, "600",
     "the scrubber paces a pass over the committed journal to last about this long",
     apply_bounded<&DaemonSettings::scrub_pass_seconds, 1, 30 * 24 * 3600>,
     show_number<&DaemonSettings::scrub_pass_seconds>},
    {"scrub.mib_per_second", "--scrub-mib-per-second", SettingKind::integer, "8",
     "and never reads faster than this (0 turns the scrubber off)",
     apply_bounded<&DaemonSettings::scrub_mib_per_second, 0, 100'000>,
     show_number<&DaemonSettings::scrub_mib_per_second>},
    {"log.level", "--log-level", SettingKind::text, "\"info\"",
     "the least severe event logged: trace, debug, info, warn or error",
     [](DaemonSettings& settings, std::string_view text) -> Status {
       QUIRE_TRY(one_of(text, log_levels));
       settings.log_level = std::string(text);
       return ok_status();
     },
     [](const DaemonSettings& settings) { return settings.log_level; }},
    {"log.format", "--log-format", SettingKind::text, "\"text\"", "event lines as text or json",
     [](DaemonSettings& settings, std::string_view text) -> Status {
       QUIRE_TRY(one_of(text, log_formats));
       settings.log_format = std::string(text);
       return ok_status();
     },
     [](const DaemonSettings& settings) { return settings.log_format; }},
    {"log.trace", "--trace", SettingKind::boolean, "false",
     "write the runtime's trace lines to stderr",
     [](DaemonSettings& settings, std::string_view text) -> Status {
       if (text != "true" && text != "false") return usage_error("not true or false");
       settings.trace = text == "true";
       return ok_status();
     },
     [](const DaemonSettings& settings) { return std::string(settings.trace ? "true" : "false"); }},
};

const SettingKey* key_of_flag(std::string_view flag) {
  for (const SettingKey& key : setting_keys) {
    if (flag == key.flag) return &key;
  }
  return nullptr;
}

// What the command line said, before any of it is applied.
struct CommandLine {
  DaemonAction action = DaemonAction::run;
  std::optional<std::string> config_path;
  std::vector<std::pair<const SettingKey*, std::string>> values;
};

Result<CommandLine> read_command_line(int argc, const char* const* argv) {
  CommandLine line;
  for (int index = 1; index < argc; index++) {
    std::string flag = argv[index];
    std::optional<std::string> value;
    if (const size_t equals = flag.find('='); flag.starts_with("--") && equals != flag.npos) {
      value = flag.substr(equals + 1);
      flag.resize(equals);
    }
    if (!value && (flag == "--help" || flag == "-h")) return CommandLine{DaemonAction::help};
    if (!value && flag == "--version") return CommandLine{DaemonAction::version};
    if (!value && flag == "--check-config") {
      line.action = DaemonAction::check_config;
      continue;
    }
    const SettingKey* key = key_of_flag(flag);
    if (key == nullptr && flag != "--config") {
      return usage_error(concat("unknown argument '", argv[index], "'"));
    }
    if (!value && key != nullptr && key->kind == SettingKind::boolean) value = "true";
    if (!value) {
      if (index + 1 >= argc) return usage_error(concat(flag, " needs a value"));
      value = argv[++index];
    }
    if (key == nullptr) {
      line.config_path = *value;
    } else {
      line.values.emplace_back(key, *value);
    }
  }
  return line;
}

}  // namespace

std::span<const SettingKey> all_setting_keys() {
  return setting_keys;
}

const SettingKey* find_setting_key(std::string_view name) {
  for (const SettingKey& key : setting_keys) {
    if (name == key.name) return &key;
  }
  return nullptr;
}

DaemonSettings::DaemonSettings()
    : block_size_bytes(store::format::write_cache_block_size_bytes_default),
      election_timeout_ticks_min(protocol_defaults.election_timeout_ticks_min),
      election_timeout_ticks_max(protocol_defaults.election_timeout_ticks_max),
      prepare_timeout_ticks(protocol_defaults.prepare_timeout_ticks),
      halog_retention_count_max(protocol_defaults.halog_retention_count_max) {}

Result<engine::NodeConfig> DaemonSettings::node_config() const {
  engine::NodeConfig config;
  config.self = NodeId(member_id);
  config.group = engine::GroupIdentity{group_name, group_token};
  config.members = members;
  config.tick_interval = Duration::milliseconds(static_cast<int64_t>(tick_ms));
  config.protocol.election_timeout_ticks_min = election_timeout_ticks_min;
  config.protocol.election_timeout_ticks_max = election_timeout_ticks_max;
  config.protocol.prepare_timeout_ticks = prepare_timeout_ticks;
  config.protocol.halog_retention_count_max = halog_retention_count_max;
  config.journal.write_cache_block_size_bytes = static_cast<uint32_t>(block_size_bytes);
  config.scrub_pass_target = Duration::seconds(static_cast<int64_t>(scrub_pass_seconds));
  config.scrub_bytes_per_second = scrub_mib_per_second << 20;
  if (config.member(config.self) == nullptr) {
    return usage_error(concat("member.id (--id) ", member_id, ": not among the members (",
                              members_text(members), ")"));
  }
  if (election_timeout_ticks_min >= election_timeout_ticks_max) {
    return usage_error(concat("protocol.election_timeout_ticks_max (--election-timeout-ticks-max) ",
                              election_timeout_ticks_max, ": must exceed the min, ",
                              election_timeout_ticks_min));
  }
  if (Status valid = config.validate(); !valid.ok()) {
    return usage_error(concat("the settings do not fit together: ", valid.error().message()));
  }
  return config;
}

Status apply_setting(DaemonSettings& settings, const SettingKey& key, std::string_view value,
                     std::string_view source) {
  Status applied = key.apply(settings, value);
  if (applied.ok()) return applied;
  return usage_error(concat(source, " '", value, "': ", applied.error().message()));
}

Result<DaemonInvocation> parse_invocation(int argc, const char* const* argv) {
  QUIRE_TRY_ASSIGN(const CommandLine line, read_command_line(argc, argv));
  DaemonInvocation invocation{line.action, DaemonSettings()};
  if (line.action == DaemonAction::help || line.action == DaemonAction::version) {
    return invocation;
  }
  std::vector<const SettingKey*> given;
  if (line.config_path) {
    QUIRE_TRY_ASSIGN(given, read_settings_file(*line.config_path, invocation.settings));
  }
  for (const auto& [key, value] : line.values) {
    QUIRE_TRY(apply_setting(invocation.settings, *key, value,
                            concat(key->flag, " (key ", key->name, ")")));
    given.push_back(key);
  }
  for (const SettingKey& key : setting_keys) {
    if (std::string_view(key.default_text) != "(required)") continue;
    if (std::find(given.begin(), given.end(), &key) == given.end()) {
      return usage_error(concat(key.flag, " (key ", key.name, ") is required"));
    }
  }
  QUIRE_TRY(invocation.settings.node_config());
  return invocation;
}

std::string settings_usage() {
  std::string text =
      "usage: quired [--config FILE] [--check-config] [--version] [flags]\n"
      "  --config FILE     read the settings from a TOML file; a flag overrides its key\n"
      "  --check-config    check the settings, print them as TOML and exit 0 (2: bad)\n"
      "  --version         print the version, git commit and on-disk format version\n";
  for (const SettingKey& key : setting_keys) {
    text += concat("  ", key.flag, key.kind == SettingKind::boolean ? "" : " V", "  [", key.name,
                   ", default ", key.default_text, "]\n      ", key.meaning, "\n");
  }
  text += "exit codes: 0 stopped by SIGINT/SIGTERM, 1 stopped by an error, 2 bad settings\n";
  return text;
}

}  // namespace quire::tools
