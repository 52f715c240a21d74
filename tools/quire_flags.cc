#include "tools/quire_flags.h"

#include <algorithm>
#include <cstdlib>
#include <map>

#include "io/base/text.h"
#include "tools/cli_flags.h"

namespace quire::tools {
namespace {

constexpr const char* usage_commands_text =
    "usage: quire --members LIST --group NAME --token HEX [--timeout SECONDS] [--json] COMMAND\n"
    "commands:\n"
    "  put KEY VALUE                 write KEY\n"
    "  get KEY [--local [--member ID] [--min-commit N]] [--at N [--member ID]]\n"
    "                                print KEY's value (linearizable, at the leader; --local:\n"
    "                                at one member's last commit point, after it reached N;\n"
    "                                --at: as it was at commit point N)\n"
    "  scan BEGIN END [--limit N] [--local ...] [--at N ...]\n"
    "                                print 'key<TAB>value' lines with BEGIN <= key < END\n"
    "                                (END \"\" is unbounded; --limit defaults to 100)\n"
    "  cas KEY EXPECTED NEW          write NEW if KEY's value is EXPECTED\n"
    "  delete KEY                    remove KEY\n"
    "  txn [--if KEY=VALUE] [--if-absent KEY] [--if-version KEY=N] OPERATION...\n"
    "                                OPERATION: put KEY VALUE | delete KEY; all or nothing,\n"
    "                                if every condition holds\n"
    "  txn --json-input              the same from JSON on stdin:\n"
    "                                {\"conditions\":[...],\"operations\":[...]}\n"
    "  status                        every member's role, term, commit counter, lag, HALogs\n"
    "                                and free disk\n";
constexpr const char* usage_tail_text =
    "  LIST is id=host:port,... (host: a name, IPv4 or [IPv6]) or host:port,..., as given to\n"
    "  quired --members. QUIRE_MEMBERS, QUIRE_GROUP and QUIRE_TOKEN are the defaults of\n"
    "  --members, --group and --token. --json: one JSON object per answer on stdout\n"
    "exit codes: 0 ok, 1 condition failed, not found or not retained (--at) (bench: some\n"
    "            operations failed), 2 usage, 3 unknown outcome, 4 unavailable (status,\n"
    "            bench: no leader)\n";

// The flags that take a value, besides bench's.
const std::vector<std::string_view> valued_flags = {
    "--members", "--group", "--token", "--timeout",   "--member",    "--min-commit",
    "--limit",   "--at",    "--if",    "--if-absent", "--if-version"};

Result<uint64_t> parse_token(std::string_view text) {
  if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
  if (text.empty() || text.size() > 16) {
    return usage_error(concat("--token: '", text, "' is not 1 to 16 hex digits"));
  }
  return parse_number(text, "--token", 16);
}

struct Given {
  std::optional<std::string> members;
  std::optional<std::string> group;
  std::optional<std::string> token;
};

Status take_value(const std::string& flag, const std::string& value, CliFlags& flags,
                  Given& given) {
  if (flag == "--members") {
    given.members = value;
  } else if (flag == "--group") {
    given.group = value;
  } else if (flag == "--token") {
    given.token = value;
  } else if (flag == "--timeout") {
    QUIRE_TRY_ASSIGN(const uint64_t seconds, parse_number(value, flag));
    if (seconds == 0 || seconds > 3600) return usage_error("--timeout: 1 to 3600 seconds");
    flags.timeout = Duration::seconds(static_cast<int64_t>(seconds));
  } else if (flag == "--member") {
    QUIRE_TRY_ASSIGN(const uint64_t id, parse_number(value, flag));
    flags.member = static_cast<uint32_t>(id);
  } else if (flag == "--min-commit") {
    QUIRE_TRY_ASSIGN(flags.min_commit, parse_number(value, flag));
  } else if (flag == "--at") {
    QUIRE_TRY_ASSIGN(flags.at, parse_number(value, flag));
    if (*flags.at == 0) return usage_error("--at: commit counters start at 1");
  } else if (flag == "--limit") {
    QUIRE_TRY_ASSIGN(const uint64_t limit, parse_number(value, flag));
    if (limit == 0 || limit > 10'000) return usage_error("--limit: 1 to 10000");
    flags.limit = static_cast<uint32_t>(limit);
  } else {
    flags.conditions.push_back(ConditionArgument{flag, value});
  }
  return ok_status();
}

// The flag, else the environment variable, else an error naming both.
Result<std::string> required(const std::optional<std::string>& flag, std::string_view flag_name,
                             const Environment& environment, const char* variable) {
  if (flag) return *flag;
  if (std::optional<std::string> value = environment(variable)) return *value;
  return usage_error(concat(flag_name, " is required (or set ", variable, ")"));
}

Status check_read_flags(const CliFlags& flags, const std::string& command) {
  const bool is_read = command == "get" || command == "scan";
  if ((flags.local || flags.member || flags.min_commit > 0 || flags.at) && !is_read) {
    return usage_error("--local, --member, --min-commit and --at go with get and scan");
  }
  if (flags.at && flags.local) return usage_error("--at and --local: one or the other");
  if (flags.min_commit > 0 && !flags.local) return usage_error("--min-commit needs --local");
  if (flags.member && !flags.local && !flags.at) {
    return usage_error("--member needs --local or --at");
  }
  if (flags.member) {
    const bool known =
        std::any_of(flags.members.begin(), flags.members.end(),
                    [&](const CliMember& member) { return member.id == *flags.member; });
    if (!known) return usage_error(concat("--member ", *flags.member, " is not in --members"));
  }
  return ok_status();
}

// How many arguments each command takes after its name (txn: checked by its parser).
Status check_arguments(const CliFlags& flags) {
  static const std::map<std::string, size_t> argument_counts = {
      {"put", 2},    {"get", 1},    {"scan", 2},  {"cas", 3},
      {"delete", 1}, {"status", 0}, {"bench", 0}, {"txn", 0}};
  const std::string& command = flags.words.front();
  auto found = argument_counts.find(command);
  if (found == argument_counts.end()) return usage_error(concat("unknown command '", command, "'"));
  if (command == "txn") {
    if (flags.json_input && (flags.words.size() > 1 || !flags.conditions.empty())) {
      return usage_error("txn --json-input takes its conditions and operations from stdin only");
    }
    // Malformed arguments are refused before anything connects (the JSON is read later).
    if (!flags.json_input) {
      auto transaction = parse_txn_arguments(
          flags.conditions, std::vector<std::string>(flags.words.begin() + 1, flags.words.end()));
      if (!transaction.ok()) return transaction.error();
    }
  } else if (flags.words.size() - 1 != found->second) {
    return usage_error(concat(command, " takes ", found->second, " argument(s)"));
  }
  if ((!flags.conditions.empty() || flags.json_input) && command != "txn") {
    return usage_error("--if, --if-absent, --if-version and --json-input go with txn");
  }
  QUIRE_TRY(check_read_flags(flags, command));
  if (!flags.bench_arguments.empty() && command != "bench") {
    const std::string& first = flags.bench_arguments.front();
    return usage_error(concat(first.substr(0, first.find('=')), " goes with bench"));
  }
  return ok_status();
}

}  // namespace

std::optional<std::string> process_environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

void print_cli_usage(std::FILE* out) {
  std::fputs(usage_commands_text, out);
  std::fputs(bench_usage_text, out);
  std::fputs(usage_tail_text, out);
}

Result<std::vector<CliMember>> parse_cli_members(std::string_view text) {
  std::vector<CliMember> members;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    CliMember member;
    // An IPv6 address holds no '=', so the first one ends the id.
    if (const size_t equals = item.find('='); equals != std::string_view::npos) {
      QUIRE_TRY_ASSIGN(const uint64_t id, parse_number(item.substr(0, equals), "--members id"));
      if (id == 0 || id > UINT32_MAX) return usage_error("--members: ids start at 1");
      member.id = static_cast<uint32_t>(id);
      item = item.substr(equals + 1);
    }
    // IPv4, [IPv6] or a name, as quired takes them: the real network resolves each when it
    // dials (io/network.h).
    auto address = io::Address::parse(item);
    if (!address.ok()) return usage_error(concat("--members: ", address.error().message()));
    member.address = std::move(*address);
    for (const CliMember& other : members) {
      if (other.address == member.address) {
        return usage_error(concat("--members: ", member.address.to_string(), " appears twice"));
      }
      if (member.id != 0 && other.id == member.id) {
        return usage_error(concat("--members: id ", member.id, " appears twice"));
      }
    }
    members.push_back(std::move(member));
  }
  if (members.empty()) return usage_error("--members: no members");
  return members;
}

bool wants_json(const std::vector<std::string>& arguments) {
  return std::find(arguments.begin(), arguments.end(), "--json") != arguments.end();
}

// Flags may come before or after the command.
Result<CliFlags> parse_cli_flags(const std::vector<std::string>& arguments,
                                 const Environment& environment) {
  CliFlags flags;
  Given given;
  for (size_t index = 0; index < arguments.size(); index++) {
    std::string word = arguments[index];
    if (!word.starts_with("--") || word == "--") {
      flags.words.push_back(word);
      continue;
    }
    std::optional<std::string> value;
    if (const size_t equals = word.find('='); equals != word.npos) {
      value = word.substr(equals + 1);
      word.resize(equals);
    }
    if ((word == "--local" || word == "--json" || word == "--json-input") && !value) {
      if (word == "--local") flags.local = true;
      if (word == "--json") flags.json = true;
      if (word == "--json-input") flags.json_input = true;
      continue;
    }
    if (const std::optional<bool> takes_value = bench_flag_takes_value(word)) {
      if (*takes_value && !value) {
        if (index + 1 >= arguments.size()) return usage_error(concat(word, " needs a value"));
        value = arguments[++index];
      }
      flags.bench_arguments.push_back(value ? concat(word, "=", *value) : word);
      continue;
    }
    if (std::find(valued_flags.begin(), valued_flags.end(), word) == valued_flags.end()) {
      return usage_error(concat("unknown flag '", arguments[index], "'"));
    }
    if (!value) {
      if (index + 1 >= arguments.size()) return usage_error(concat(word, " needs a value"));
      value = arguments[++index];
    }
    QUIRE_TRY(take_value(word, *value, flags, given));
  }
  QUIRE_TRY_ASSIGN(const std::string members,
                   required(given.members, "--members", environment, "QUIRE_MEMBERS"));
  QUIRE_TRY_ASSIGN(flags.group.name, required(given.group, "--group", environment, "QUIRE_GROUP"));
  if (flags.group.name.empty()) return usage_error("--group: empty");
  QUIRE_TRY_ASSIGN(const std::string token,
                   required(given.token, "--token", environment, "QUIRE_TOKEN"));
  QUIRE_TRY_ASSIGN(flags.members, parse_cli_members(members));
  QUIRE_TRY_ASSIGN(flags.group.token, parse_token(token));
  if (flags.words.empty()) return usage_error("no command");
  QUIRE_TRY(check_arguments(flags));
  if (flags.words.front() == "bench") {
    // bench's report has a JSON form of its own, asked for by the same flag.
    if (flags.json) flags.bench_arguments.push_back("--json");
    QUIRE_TRY_ASSIGN(flags.bench, parse_bench_options(flags.bench_arguments));
  }
  return flags;
}

}  // namespace quire::tools
