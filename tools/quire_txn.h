// `quire txn`: a transaction (conditions, then operations, all applied atomically or not at all)
// from the command line or from JSON (docs/operations.md, "quire txn"). Both parsers reject
// malformed input with an invalid_argument error that names what is wrong and where.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/wire/wire.pb.h"
#include "io/base/result.h"

namespace quire::tools {

// One condition flag as given: "--if" with "KEY=VALUE", "--if-absent" with "KEY", or
// "--if-version" with "KEY=N" (N: the commit counter that last wrote KEY).
struct ConditionArgument {
  std::string flag;
  std::string value;
};

// The conditions (in the order given) and the words after `txn`: `put KEY VALUE` and
// `delete KEY`, repeated. At least one operation.
Result<wire::Transaction> parse_txn_arguments(const std::vector<ConditionArgument>& conditions,
                                              const std::vector<std::string>& words);

// {"conditions":[{"key":K,"value_equals":V} | {"key":K,"absent":true} |
//                {"key":K,"version_equals":N}, ...],
//  "operations":[{"key":K,"put":V} | {"key":K,"remove":true}, ...]}
// "conditions" may be left out; "operations" holds at least one. Keys and values are strings.
Result<wire::Transaction> parse_txn_json(std::string_view text);

}  // namespace quire::tools
