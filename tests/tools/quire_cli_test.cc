// Goal: quire's command line (tools/quire_txn.h, tools/quire_flags.h): `txn` builds the
// transaction its arguments or its JSON describe, in order, and malformed input is refused with an
// error that names what is wrong and where; QUIRE_MEMBERS / QUIRE_GROUP / QUIRE_TOKEN are the
// defaults of their flags, which override them; --members takes host names and IPv6; --at and
// --json are checked against the command.
// Method: call the parsers on argument vectors, strings and a fake environment; check the result
// or the error text.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tools/quire_flags.h"
#include "tools/quire_txn.h"

namespace quire::tools {
namespace {

std::string error_of(const Result<wire::Transaction>& result) {
  EXPECT_FALSE(result.ok());
  return result.ok() ? std::string() : result.error().message();
}

TEST(TxnArguments, ConditionsAndOperationsInOrder) {
  auto transaction =
      parse_txn_arguments({{"--if", "k1=v=1"}, {"--if-absent", "k2"}, {"--if-version", "k3=7"}},
                          {"put", "k1", "v2", "delete", "k3", "put", "k2", ""});
  ASSERT_TRUE(transaction.ok()) << transaction.error().message();
  ASSERT_EQ(transaction->conditions_size(), 3);
  EXPECT_EQ(transaction->conditions(0).key(), "k1");
  EXPECT_EQ(transaction->conditions(0).value_equals(), "v=1");  // The first '=' splits.
  EXPECT_EQ(transaction->conditions(1).key(), "k2");
  EXPECT_TRUE(transaction->conditions(1).absent());
  EXPECT_EQ(transaction->conditions(2).version_equals(), 7u);
  ASSERT_EQ(transaction->operations_size(), 3);
  EXPECT_EQ(transaction->operations(0).key(), "k1");
  EXPECT_EQ(transaction->operations(0).put(), "v2");
  EXPECT_EQ(transaction->operations(1).key(), "k3");
  EXPECT_TRUE(transaction->operations(1).remove());
  EXPECT_EQ(transaction->operations(2).kind_case(), wire::Operation::kPut);
  EXPECT_EQ(transaction->operations(2).put(), "");
}

TEST(TxnArguments, MalformedIsNamed) {
  EXPECT_EQ(error_of(parse_txn_arguments({}, {})),
            "txn: no operations (put KEY VALUE, delete KEY)");
  EXPECT_EQ(error_of(parse_txn_arguments({}, {"put", "k1"})),
            "txn: operation 1: put needs KEY VALUE");
  EXPECT_EQ(error_of(parse_txn_arguments({}, {"put", "a", "b", "delete"})),
            "txn: operation 2: delete needs KEY");
  EXPECT_EQ(error_of(parse_txn_arguments({}, {"put", "a", "b", "remove", "a"})),
            "txn: operation 2: 'remove' is not an operation (put KEY VALUE, delete KEY)");
  EXPECT_EQ(error_of(parse_txn_arguments({}, {"delete", ""})), "txn: operation 1: an empty key");
  EXPECT_EQ(error_of(parse_txn_arguments({{"--if", "k1"}}, {"delete", "k"})),
            "--if 'k1': not KEY=VALUE");
  EXPECT_EQ(error_of(parse_txn_arguments({{"--if", "=v"}}, {"delete", "k"})),
            "--if '=v': not KEY=VALUE");
  EXPECT_EQ(error_of(parse_txn_arguments({{"--if-version", "k=x"}}, {"delete", "k"})),
            "--if-version: 'x' is not a number");
  EXPECT_EQ(error_of(parse_txn_arguments({{"--if-absent", ""}}, {"delete", "k"})),
            "--if-absent: needs a KEY");
}

TEST(TxnJson, TheDocumentedShape) {
  auto transaction = parse_txn_json(R"({
    "conditions": [{"key": "k1", "value_equals": "v1"}, {"key": "k2", "absent": true},
                   {"key": "k3", "version_equals": 12}],
    "operations": [{"key": "k1", "put": "v2"}, {"key": "k3", "remove": true}]})");
  ASSERT_TRUE(transaction.ok()) << transaction.error().message();
  ASSERT_EQ(transaction->conditions_size(), 3);
  EXPECT_EQ(transaction->conditions(0).value_equals(), "v1");
  EXPECT_TRUE(transaction->conditions(1).absent());
  EXPECT_EQ(transaction->conditions(2).version_equals(), 12u);
  ASSERT_EQ(transaction->operations_size(), 2);
  EXPECT_EQ(transaction->operations(0).put(), "v2");
  EXPECT_TRUE(transaction->operations(1).remove());
  // Conditions may be left out.
  auto plain = parse_txn_json(R"({"operations":[{"key":"k","put":"v"}]})");
  ASSERT_TRUE(plain.ok()) << plain.error().message();
  EXPECT_EQ(plain->conditions_size(), 0);
}

TEST(TxnJson, MalformedIsNamed) {
  const std::map<std::string, std::string> cases = {
      {R"([1])", "JSON input: a array, not an object {\"conditions\":[...],\"operations\":[...]}"},
      {R"({})", "JSON input: no \"operations\""},
      {R"({"operations":[]})", "operations: empty (at least one operation)"},
      {R"({"operations":{}})", "operations: a object, not an array"},
      {R"({"operations":[{"key":"k","put":"v"}],"extra":1})",
       "JSON input: unknown field \"extra\""},
      {R"({"operations":[{"key":"k","puts":"v"}]})", "operations[0]: unknown field \"puts\""},
      {R"({"operations":[{"put":"v"}]})", "operations[0]: no \"key\""},
      {R"({"operations":[{"key":7,"put":"v"}]})", "operations[0].key: a number, not a string"},
      {R"({"operations":[{"key":"k","put":"v"},{"key":"k"}]})",
       "operations[1]: needs exactly one of \"put\", \"remove\""},
      {R"({"operations":[{"key":"k","put":"v","remove":true}]})",
       "operations[0]: needs exactly one of \"put\", \"remove\""},
      {R"({"operations":[{"key":"k","remove":false}]})",
       "operations[0].remove: only true is allowed"},
      {R"({"operations":[{"key":"","put":"v"}]})", "operations[0].key: empty"},
      {R"({"operations":[{"key":"k","put":"v"}],"conditions":[{"key":"k"}]})",
       "conditions[0]: needs exactly one of \"value_equals\", \"version_equals\", \"absent\""},
      {R"({"operations":[{"key":"k","put":"v"}],"conditions":[{"key":"k","version_equals":-1}]})",
       "conditions[0].version_equals: a number, not a commit counter (a number >= 0)"},
      {R"({"operations":[{"key":"k","put":"v"}],"conditions":[{"key":"k","value_equals":1}]})",
       "conditions[0].value_equals: a number, not a string"},
      {R"({"operations":[{"key":"k","put":"v"}],"conditions":"k"})",
       "conditions: a string, not an array"},
  };
  for (const auto& [input, message] : cases) {
    EXPECT_EQ(error_of(parse_txn_json(input)), message) << input;
  }
  // A syntax error names the place (nlohmann's message: the line, column and what it expected).
  const std::string syntax = error_of(parse_txn_json("{\"operations\": [\n  {\"key\": }]}"));
  EXPECT_TRUE(syntax.starts_with("JSON input: ")) << syntax;
  EXPECT_NE(syntax.find("line 2"), std::string::npos) << syntax;
}

// A fake environment.
Environment environment_of(std::map<std::string, std::string> variables) {
  return [variables](const char* name) -> std::optional<std::string> {
    const auto found = variables.find(name);
    if (found == variables.end()) return std::nullopt;
    return found->second;
  };
}

const std::vector<std::string> group_flags = {"--group", "g", "--token", "5eed"};

std::vector<std::string> with_group(std::vector<std::string> arguments) {
  arguments.insert(arguments.end(), group_flags.begin(), group_flags.end());
  return arguments;
}

TEST(CliFlags, TheEnvironmentIsTheDefaultAndFlagsOverrideIt) {
  const Environment environment = environment_of(
      {{"QUIRE_MEMBERS", "1=localhost:7101"}, {"QUIRE_GROUP", "from-env"}, {"QUIRE_TOKEN", "abc"}});
  auto from_environment = parse_cli_flags({"status"}, environment);
  ASSERT_TRUE(from_environment.ok()) << from_environment.error().message();
  ASSERT_EQ(from_environment->members.size(), 1u);
  EXPECT_EQ(from_environment->members[0].address.to_string(), "localhost:7101");
  EXPECT_EQ(from_environment->group.name, "from-env");
  EXPECT_EQ(from_environment->group.token, 0xabcu);

  auto overridden = parse_cli_flags(
      {"--members", "2=[::1]:7102,3=127.0.0.1:7103", "status", "--group", "flag"}, environment);
  ASSERT_TRUE(overridden.ok()) << overridden.error().message();
  ASSERT_EQ(overridden->members.size(), 2u);
  EXPECT_EQ(overridden->members[0].id, 2u);
  EXPECT_EQ(overridden->members[0].address.to_string(), "[::1]:7102");
  EXPECT_EQ(overridden->group.name, "flag");
  EXPECT_EQ(overridden->group.token, 0xabcu);

  auto missing = parse_cli_flags(with_group({"status"}), environment_of({}));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message(), "--members is required (or set QUIRE_MEMBERS)");
}

TEST(CliFlags, MembersAreCheckedOnce) {
  const Environment none = environment_of({});
  auto twice = parse_cli_flags(with_group({"--members", "1=a:1,2=a:1", "status"}), none);
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().message(), "--members: a:1 appears twice");
  auto same_id = parse_cli_flags(with_group({"--members", "1=a:1,1=b:1", "status"}), none);
  ASSERT_FALSE(same_id.ok());
  EXPECT_EQ(same_id.error().message(), "--members: id 1 appears twice");
}

TEST(CliFlags, ReadAndTxnFlagsGoWithTheirCommands) {
  const Environment none = environment_of({});
  auto parse = [&](std::vector<std::string> words) {
    words.insert(words.begin(), {"--members", "1=localhost:1,2=localhost:2"});
    return parse_cli_flags(with_group(std::move(words)), none);
  };
  auto historical = parse({"get", "k", "--at", "5", "--member", "2", "--json"});
  ASSERT_TRUE(historical.ok()) << historical.error().message();
  EXPECT_EQ(historical->at, 5u);
  EXPECT_TRUE(historical->json);
  auto txn = parse({"txn", "--if", "a=b", "put", "a", "c", "--if-absent", "d"});
  ASSERT_TRUE(txn.ok()) << txn.error().message();
  ASSERT_EQ(txn->conditions.size(), 2u);
  EXPECT_EQ(txn->conditions[1].flag, "--if-absent");
  EXPECT_EQ(txn->words, (std::vector<std::string>{"txn", "put", "a", "c"}));

  const std::map<std::vector<std::string>, std::string> refused = {
      {{"put", "k", "v", "--at", "3"},
       "--local, --member, --min-commit and --at go with get and scan"},
      {{"get", "k", "--at", "3", "--local"}, "--at and --local: one or the other"},
      {{"get", "k", "--at", "0"}, "--at: commit counters start at 1"},
      {{"get", "k", "--member", "1"}, "--member needs --local or --at"},
      {{"put", "k", "v", "--if", "k=v"},
       "--if, --if-absent, --if-version and --json-input go with txn"},
      {{"txn", "put", "k"}, "txn: operation 1: put needs KEY VALUE"},  // Before connecting.
      {{"txn", "--json-input", "put", "k", "v"},
       "txn --json-input takes its conditions and operations from stdin only"},
  };
  for (const auto& [words, message] : refused) {
    auto flags = parse(words);
    ASSERT_FALSE(flags.ok()) << words[0];
    EXPECT_EQ(flags.error().message(), message);
  }
}

TEST(CliFlags, JsonIsAlsoBenchsReport) {
  auto bench =
      parse_cli_flags(with_group({"--members", "localhost:1", "--json", "bench", "--count", "5"}),
                      environment_of({}));
  ASSERT_TRUE(bench.ok()) << bench.error().message();
  EXPECT_TRUE(bench->bench.json);
  EXPECT_EQ(bench->bench.operation_count, 5u);
  EXPECT_TRUE(wants_json({"get", "--json"}));
  EXPECT_FALSE(wants_json({"get", "k"}));
}

}  // namespace
}  // namespace quire::tools
