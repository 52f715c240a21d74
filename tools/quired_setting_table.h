// The table of quired's settings, shared by the command line (quired_settings.cc) and the TOML
// file (quired_settings_toml.cc). Internal to quired's settings; the rest of quired sees only
// tools/quired_settings.h.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tools/quired_settings.h"

namespace quire::tools {

// What a key's value is in TOML. Every value is turned into the flag's text before it is parsed,
// so both sources share one parser per setting.
enum class SettingKind {
  integer,     // A TOML integer.
  text,        // A TOML string.
  byte_count,  // A TOML integer, or a string with a K or M suffix.
  boolean,     // A TOML boolean; the flag takes no value.
  members,     // A TOML table of id = "host:port".
};

struct SettingKey {
  const char* name;  // The dotted TOML key.
  const char* flag;
  SettingKind kind;
  const char* default_text;  // "(required)" for a setting without a default.
  const char* meaning;
  Status (*apply)(DaemonSettings& settings, std::string_view text);
  std::string (*show)(const DaemonSettings& settings);  // The flag's text of the value.
};

std::span<const SettingKey> all_setting_keys();
const SettingKey* find_setting_key(std::string_view name);

// Parses `value` into `key`'s setting. Errors: invalid_argument "<source> '<value>': <why>".
Status apply_setting(DaemonSettings& settings, const SettingKey& key, std::string_view value,
                     std::string_view source);

// Applies every key of the TOML file at `path` to `settings`; returns the keys it held.
// Errors: invalid_argument naming the file, and the key, its value and why.
Result<std::vector<const SettingKey*>> read_settings_file(const std::string& path,
                                                          DaemonSettings& settings);

}  // namespace quire::tools
