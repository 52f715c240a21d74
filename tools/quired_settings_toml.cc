// quired's TOML file: read into the settings table's keys (quired_setting_table.h), and the
// settings printed back as TOML for --check-config. toml++ throws on a parse error; it is caught
// here, at the library's edge, and becomes an invalid_argument.
#include <toml++/toml.h>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "io/base/text.h"
#include "tools/cli_flags.h"
#include "tools/quired_setting_table.h"

namespace quire::tools {
namespace {

// A configuration file is a page of settings; anything larger is not one.
constexpr uintmax_t settings_file_size_bytes_max = 1 << 20;

Result<std::string> read_bounded_file(const std::string& path) {
  std::error_code failure;
  const uintmax_t size = std::filesystem::file_size(path, failure);
  if (failure) return usage_error(concat("--config '", path, "': ", failure.message()));
  if (size > settings_file_size_bytes_max) {
    return usage_error(concat("--config '", path, "': ", size, " bytes, more than the ",
                              settings_file_size_bytes_max, " a settings file may hold"));
  }
  std::ifstream file(path, std::ios::binary);
  std::ostringstream contents;
  contents << file.rdbuf();
  if (!file.good() && !file.eof()) return usage_error(concat("--config '", path, "': unreadable"));
  return contents.str();
}

const char* toml_type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    default:
      return "a date or time";
  }
}

// The members table { 1 = "host:port", ... } as the flag's "1=host:port,...".
Result<std::string> members_flag_text(const toml::table& table, std::string_view where) {
  std::string text;
  for (const auto& [id, address] : table) {
    const std::optional<std::string> value = address.value_exact<std::string>();
    if (!value) {
      return usage_error(concat(where, "members.", id.str(), ": ", toml_type_name(address),
                                ", expected a string \"host:port\""));
    }
    text += concat(text.empty() ? "" : ",", id.str(), "=", *value);
  }
  return text;
}

// The value of `node` for `key` as the flag's text. Errors: a value of the wrong TOML type.
Result<std::string> flag_text(const SettingKey& key, const toml::node& node,
                              std::string_view where) {
  const auto wrong = [&](std::string_view expected) {
    return usage_error(
        concat(where, key.name, ": ", toml_type_name(node), ", expected ", expected));
  };
  switch (key.kind) {
    case SettingKind::integer:
      if (auto value = node.value_exact<int64_t>()) {
        if (*value < 0) return usage_error(concat(where, key.name, " '", *value, "': negative"));
        return concat(*value);
      }
      return wrong("an integer");
    case SettingKind::byte_count:
      if (auto value = node.value_exact<int64_t>(); value && *value >= 0) return concat(*value);
      if (auto value = node.value_exact<std::string>()) return *value;
      return wrong("a byte count (65536 or \"64K\")");
    case SettingKind::text:
      if (auto value = node.value_exact<std::string>()) return *value;
      return wrong("a string");
    case SettingKind::boolean:
      if (auto value = node.value_exact<bool>()) return std::string(*value ? "true" : "false");
      return wrong("true or false");
    case SettingKind::members:
      if (const toml::table* table = node.as_table()) return members_flag_text(*table, where);
      return wrong("a table of id = \"host:port\"");
  }
  return wrong("nothing");
}

// Every leaf of `table` under `prefix`, applied in the file's order.
Status apply_table(const toml::table& table, std::string_view prefix, std::string_view where,
                   DaemonSettings& settings, std::vector<const SettingKey*>& given) {
  for (const auto& [name, node] : table) {
    const std::string dotted = concat(prefix, name.str());
    const SettingKey* key = find_setting_key(dotted);
    if (key == nullptr && node.is_table()) {
      QUIRE_TRY(apply_table(*node.as_table(), concat(dotted, "."), where, settings, given));
      continue;
    }
    if (key == nullptr) return usage_error(concat(where, "unknown key '", dotted, "'"));
    QUIRE_TRY_ASSIGN(const std::string text, flag_text(*key, node, where));
    QUIRE_TRY(apply_setting(settings, *key, text, concat(where, "key ", key->name)));
    given.push_back(key);
  }
  return ok_status();
}

std::string toml_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out += concat("\\u00", c < 0x10 ? "0" : "", hex64(static_cast<unsigned char>(c)).substr(14));
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

Result<std::vector<const SettingKey*>> read_settings_file(const std::string& path,
                                                          DaemonSettings& settings) {
  QUIRE_TRY_ASSIGN(const std::string contents, read_bounded_file(path));
  const std::string where = concat(path, ": ");
  toml::table table;
  try {
    table = toml::parse(contents, path);
  } catch (const toml::parse_error& failure) {
    const toml::source_position at = failure.source().begin;
    return usage_error(concat(where, "line ", at.line, " column ", at.column,
                              ": not TOML: ", failure.description()));
  }
  std::vector<const SettingKey*> given;
  QUIRE_TRY(apply_table(table, "", where, settings, given));
  return given;
}

std::string settings_toml(const DaemonSettings& settings) {
  std::string text = "# quired's effective settings (quired --check-config)\n";
  for (const SettingKey& key : all_setting_keys()) {
    if (key.kind == SettingKind::members) continue;
    const std::string value = key.show(settings);
    const bool bare = key.kind == SettingKind::integer || key.kind == SettingKind::byte_count ||
                      key.kind == SettingKind::boolean;
    text += concat(key.name, " = ", bare ? value : toml_string(value), "\n");
  }
  // A table header last: every dotted key above belongs to the root table.
  text += "\n[members]\n";
  for (const engine::MemberAddress& member : settings.members) {
    text += concat(member.id.value(), " = ", toml_string(member.address.to_string()), "\n");
  }
  return text;
}

}  // namespace quire::tools
