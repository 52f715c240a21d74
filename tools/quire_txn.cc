#include "tools/quire_txn.h"

#include <nlohmann/json.hpp>

#include "io/base/text.h"
#include "tools/cli_flags.h"

namespace quire::tools {
namespace {

using nlohmann::json;

Status add_condition(const ConditionArgument& argument, wire::Transaction& transaction) {
  wire::Condition* condition = transaction.add_conditions();
  if (argument.flag == "--if-absent") {
    if (argument.value.empty()) return usage_error("--if-absent: needs a KEY");
    condition->set_key(argument.value);
    condition->set_absent(true);
    return ok_status();
  }
  const size_t equals = argument.value.find('=');
  const std::string_view form = argument.flag == "--if" ? "KEY=VALUE" : "KEY=N";
  if (equals == std::string::npos || equals == 0) {
    return usage_error(concat(argument.flag, " '", argument.value, "': not ", form));
  }
  condition->set_key(argument.value.substr(0, equals));
  const std::string expected = argument.value.substr(equals + 1);
  if (argument.flag == "--if") {
    condition->set_value_equals(expected);
    return ok_status();
  }
  QUIRE_ASSERT(argument.flag == "--if-version");
  QUIRE_TRY_ASSIGN(const uint64_t version, parse_number(expected, "--if-version"));
  condition->set_version_equals(version);
  return ok_status();
}

// The JSON value's type in words, for errors.
std::string type_name(const json& value) {
  return std::string(value.type_name());
}

Result<std::string> string_field(const json& object, const std::string& name,
                                 const std::string& where) {
  const auto found = object.find(name);
  if (found == object.end()) return usage_error(concat(where, ": no \"", name, "\""));
  if (!found->is_string()) {
    return usage_error(concat(where, ".", name, ": a ", type_name(*found), ", not a string"));
  }
  return found->get<std::string>();
}

Status only_fields(const json& object, std::initializer_list<std::string_view> allowed,
                   const std::string& where) {
  for (const auto& [name, value] : object.items()) {
    bool known = false;
    for (const std::string_view each : allowed)
      known = known || name == each;
    if (!known) return usage_error(concat(where, ": unknown field \"", name, "\""));
  }
  return ok_status();
}

Status add_json_condition(const json& item, const std::string& where,
                          wire::Transaction& transaction) {
  if (!item.is_object())
    return usage_error(concat(where, ": a ", type_name(item), ", not an object"));
  QUIRE_TRY(only_fields(item, {"key", "value_equals", "version_equals", "absent"}, where));
  QUIRE_TRY_ASSIGN(std::string key, string_field(item, "key", where));
  if (key.empty()) return usage_error(concat(where, ".key: empty"));
  const size_t expectations =
      item.count("value_equals") + item.count("version_equals") + item.count("absent");
  if (expectations != 1) {
    return usage_error(
        concat(where, ": needs exactly one of \"value_equals\", \"version_equals\", \"absent\""));
  }
  wire::Condition* condition = transaction.add_conditions();
  condition->set_key(std::move(key));
  if (item.contains("value_equals")) {
    QUIRE_TRY_ASSIGN(std::string value, string_field(item, "value_equals", where));
    condition->set_value_equals(std::move(value));
  } else if (item.contains("version_equals")) {
    const json& version = item["version_equals"];
    if (!version.is_number_unsigned()) {
      return usage_error(concat(where, ".version_equals: a ", type_name(version),
                                ", not a commit counter (a number >= 0)"));
    }
    condition->set_version_equals(version.get<uint64_t>());
  } else {
    if (item["absent"] != true) return usage_error(concat(where, ".absent: only true is allowed"));
    condition->set_absent(true);
  }
  return ok_status();
}

Status add_json_operation(const json& item, const std::string& where,
                          wire::Transaction& transaction) {
  if (!item.is_object())
    return usage_error(concat(where, ": a ", type_name(item), ", not an object"));
  QUIRE_TRY(only_fields(item, {"key", "put", "remove"}, where));
  QUIRE_TRY_ASSIGN(std::string key, string_field(item, "key", where));
  if (key.empty()) return usage_error(concat(where, ".key: empty"));
  if (item.count("put") + item.count("remove") != 1) {
    return usage_error(concat(where, ": needs exactly one of \"put\", \"remove\""));
  }
  wire::Operation* operation = transaction.add_operations();
  operation->set_key(std::move(key));
  if (item.contains("put")) {
    QUIRE_TRY_ASSIGN(std::string value, string_field(item, "put", where));
    operation->set_put(std::move(value));
  } else {
    if (item["remove"] != true) return usage_error(concat(where, ".remove: only true is allowed"));
    operation->set_remove(true);
  }
  return ok_status();
}

}  // namespace

Result<wire::Transaction> parse_txn_arguments(const std::vector<ConditionArgument>& conditions,
                                              const std::vector<std::string>& words) {
  wire::Transaction transaction;
  for (const ConditionArgument& argument : conditions) {
    QUIRE_TRY(add_condition(argument, transaction));
  }
  size_t index = 0;
  while (index < words.size()) {
    const std::string& kind = words[index];
    const size_t number = static_cast<size_t>(transaction.operations_size()) + 1;
    const size_t needed = kind == "put" ? 2 : kind == "delete" ? 1 : 0;
    if (needed == 0) {
      return usage_error(concat("txn: operation ", number, ": '", kind,
                                "' is not an operation (put KEY VALUE, delete KEY)"));
    }
    if (index + needed >= words.size()) {
      return usage_error(concat("txn: operation ", number, ": ", kind,
                                kind == "put" ? " needs KEY VALUE" : " needs KEY"));
    }
    wire::Operation* operation = transaction.add_operations();
    operation->set_key(words[index + 1]);
    if (operation->key().empty()) {
      return usage_error(concat("txn: operation ", number, ": an empty key"));
    }
    if (kind == "put") {
      operation->set_put(words[index + 2]);
    } else {
      operation->set_remove(true);
    }
    index += needed + 1;
  }
  if (transaction.operations_size() == 0) {
    return usage_error("txn: no operations (put KEY VALUE, delete KEY)");
  }
  return transaction;
}

Result<wire::Transaction> parse_txn_json(std::string_view text) {
  json document;
  try {
    document = json::parse(text);
  } catch (const json::parse_error& failure) {
    // nlohmann's message names the byte and what it expected there.
    return usage_error(concat("JSON input: ", failure.what()));
  }
  if (!document.is_object()) {
    return usage_error(concat("JSON input: a ", type_name(document),
                              ", not an object {\"conditions\":[...],\"operations\":[...]}"));
  }
  QUIRE_TRY(only_fields(document, {"conditions", "operations"}, "JSON input"));
  wire::Transaction transaction;
  if (const auto conditions = document.find("conditions"); conditions != document.end()) {
    if (!conditions->is_array()) {
      return usage_error(concat("conditions: a ", type_name(*conditions), ", not an array"));
    }
    for (size_t index = 0; index < conditions->size(); index++) {
      QUIRE_TRY(
          add_json_condition((*conditions)[index], concat("conditions[", index, "]"), transaction));
    }
  }
  const auto operations = document.find("operations");
  if (operations == document.end()) return usage_error("JSON input: no \"operations\"");
  if (!operations->is_array()) {
    return usage_error(concat("operations: a ", type_name(*operations), ", not an array"));
  }
  if (operations->empty()) return usage_error("operations: empty (at least one operation)");
  for (size_t index = 0; index < operations->size(); index++) {
    QUIRE_TRY(
        add_json_operation((*operations)[index], concat("operations[", index, "]"), transaction));
  }
  return transaction;
}

}  // namespace quire::tools
