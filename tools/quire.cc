// quire: the command-line client. It runs a RealRuntime with one main fiber that speaks the client
// protocol (engine/wire/wire.proto) through engine::Client, which finds the leader and keeps
// outcomes honest. The exit code says what the group answered, so scripts can act on it:
//   0 ok, 1 condition failed / not found, 2 usage, 3 unknown outcome, 4 unavailable.
// `quire bench` (the load generator, tools/bench_load.h) exits 1 when some operations failed.
// See docs/operations.md.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/client.h"
#include "io/base/text.h"
#include "io/real/real_runtime.h"
#include "tools/bench_load.h"
#include "tools/bench_options.h"
#include "tools/bench_report.h"
#include "tools/cli_flags.h"

namespace quire {
namespace {

constexpr int exit_ok = 0;
constexpr int exit_condition_failed = 1;  // Also: the key was not found.
constexpr int exit_usage = 2;
constexpr int exit_unknown_outcome = 3;
constexpr int exit_unavailable = 4;

constexpr const char* usage_commands_text =
    "usage: quire --members LIST --group NAME --token HEX [--timeout SECONDS] COMMAND\n"
    "commands:\n"
    "  put KEY VALUE                 write KEY\n"
    "  get KEY [--local [--member ID] [--min-commit N]]\n"
    "                                print KEY's value (linearizable, at the leader; --local:\n"
    "                                at one member's last commit point, after it reached N)\n"
    "  scan BEGIN END [--limit N] [--local [--member ID] [--min-commit N]]\n"
    "                                print 'key<TAB>value' lines with BEGIN <= key < END\n"
    "                                (END \"\" is unbounded; --limit defaults to 100)\n"
    "  cas KEY EXPECTED NEW          write NEW if KEY's value is EXPECTED\n"
    "  delete KEY                    remove KEY\n"
    "  status                        every member's role, term, commit counter and lag\n";
constexpr const char* usage_tail_text =
    "  LIST is id=ipv4:port,... (or ipv4:port,...), as given to quired --members\n"
    "exit codes: 0 ok, 1 condition failed or not found (bench: some operations failed),\n"
    "            2 usage, 3 unknown outcome, 4 unavailable (status, bench: no leader)\n";

void print_usage(std::FILE* out) {
  std::fputs(usage_commands_text, out);
  std::fputs(tools::bench_usage_text, out);
  std::fputs(usage_tail_text, out);
}

struct Member {
  uint32_t id = 0;  // 0: not given.
  io::Address address;
};

struct CliFlags {
  std::vector<Member> members;
  engine::GroupIdentity group;
  Duration timeout = Duration::seconds(10);
  bool local = false;
  std::optional<uint32_t> member;
  uint64_t min_commit = 0;
  uint32_t limit = 100;
  std::vector<std::string> words;            // The command and its arguments.
  std::vector<std::string> bench_arguments;  // Bench's flags, as "--name" or "--name=value".
  tools::BenchOptions bench;                 // Parsed from bench_arguments.
};

using tools::parse_number;
using tools::usage_error;

Result<uint64_t> parse_token(std::string_view text) {
  if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
  if (text.empty() || text.size() > 16) {
    return usage_error(concat("--token: '", text, "' is not 1 to 16 hex digits"));
  }
  return parse_number(text, "--token", 16);
}

// "1=127.0.0.1:7101,..." (the daemon's form) or "127.0.0.1:7101,...".
Result<std::vector<Member>> parse_members(std::string_view text) {
  std::vector<Member> members;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    Member member;
    if (const size_t equals = item.find('='); equals != std::string_view::npos) {
      QUIRE_TRY_ASSIGN(const uint64_t id, parse_number(item.substr(0, equals), "--members id"));
      if (id == 0 || id > UINT32_MAX) return usage_error("--members: ids start at 1");
      member.id = static_cast<uint32_t>(id);
      item = item.substr(equals + 1);
    }
    // IPv4, [IPv6] or a name: the real network resolves each when it dials (io/network.h).
    auto address = io::Address::parse(item);
    if (!address.ok()) return usage_error(concat("--members: ", address.error().message()));
    member.address = std::move(*address);
    members.push_back(std::move(member));
  }
  if (members.empty()) return usage_error("--members: no members");
  return members;
}

// Flags may come before or after the command.
Result<CliFlags> parse_flags(int argc, char** argv) {
  CliFlags flags;
  std::optional<std::string> members_text;
  std::optional<std::string> token_text;
  bool group_given = false;
  for (int index = 1; index < argc; index++) {
    std::string word = argv[index];
    if (!word.starts_with("--") || word == "--") {
      flags.words.push_back(word);
      continue;
    }
    std::optional<std::string> value;
    if (const size_t equals = word.find('='); equals != word.npos) {
      value = word.substr(equals + 1);
      word.resize(equals);
    }
    if (word == "--local" && !value) {
      flags.local = true;
      continue;
    }
    if (const std::optional<bool> takes_value = tools::bench_flag_takes_value(word)) {
      if (*takes_value && !value) {
        if (index + 1 >= argc) return usage_error(concat(word, " needs a value"));
        value = argv[++index];
      }
      flags.bench_arguments.push_back(value ? concat(word, "=", *value) : word);
      continue;
    }
    if (word != "--members" && word != "--group" && word != "--token" && word != "--timeout" &&
        word != "--member" && word != "--min-commit" && word != "--limit") {
      return usage_error(concat("unknown flag '", argv[index], "'"));
    }
    if (!value) {
      if (index + 1 >= argc) return usage_error(concat(word, " needs a value"));
      value = argv[++index];
    }
    if (word == "--members") {
      members_text = *value;
    } else if (word == "--group") {
      flags.group.name = *value;
      group_given = true;
    } else if (word == "--token") {
      token_text = *value;
    } else if (word == "--timeout") {
      QUIRE_TRY_ASSIGN(const uint64_t seconds, parse_number(*value, word));
      if (seconds == 0 || seconds > 3600) return usage_error("--timeout: 1 to 3600 seconds");
      flags.timeout = Duration::seconds(static_cast<int64_t>(seconds));
    } else if (word == "--member") {
      QUIRE_TRY_ASSIGN(const uint64_t id, parse_number(*value, word));
      flags.member = static_cast<uint32_t>(id);
    } else if (word == "--min-commit") {
      QUIRE_TRY_ASSIGN(flags.min_commit, parse_number(*value, word));
    } else if (word == "--limit") {
      QUIRE_TRY_ASSIGN(const uint64_t limit, parse_number(*value, word));
      if (limit == 0 || limit > 10'000) return usage_error("--limit: 1 to 10000");
      flags.limit = static_cast<uint32_t>(limit);
    }
  }
  if (!members_text) return usage_error("--members is required");
  if (!group_given || flags.group.name.empty()) return usage_error("--group is required");
  if (!token_text) return usage_error("--token is required");
  QUIRE_TRY_ASSIGN(flags.members, parse_members(*members_text));
  QUIRE_TRY_ASSIGN(flags.group.token, parse_token(*token_text));
  if (flags.words.empty()) return usage_error("no command");
  return flags;
}

// How many arguments each command takes after its name.
Status check_arguments(const CliFlags& flags) {
  static const std::map<std::string, size_t> argument_counts = {
      {"put", 2}, {"get", 1}, {"scan", 2}, {"cas", 3}, {"delete", 1}, {"status", 0}, {"bench", 0}};
  const std::string& command = flags.words.front();
  auto found = argument_counts.find(command);
  if (found == argument_counts.end()) return usage_error(concat("unknown command '", command, "'"));
  if (flags.words.size() - 1 != found->second) {
    return usage_error(concat(command, " takes ", found->second, " argument(s)"));
  }
  if ((flags.local || flags.member || flags.min_commit > 0) && command != "get" &&
      command != "scan") {
    return usage_error("--local, --member and --min-commit go with get and scan");
  }
  if (!flags.bench_arguments.empty() && command != "bench") {
    const std::string& first = flags.bench_arguments.front();
    return usage_error(concat(first.substr(0, first.find('=')), " goes with bench"));
  }
  if ((flags.member || flags.min_commit > 0) && !flags.local) {
    return usage_error("--member and --min-commit need --local");
  }
  if (flags.member) {
    const bool known =
        std::any_of(flags.members.begin(), flags.members.end(),
                    [&](const Member& member) { return member.id == *flags.member; });
    if (!known) return usage_error(concat("--member ", *flags.member, " is not in --members"));
  }
  return ok_status();
}

std::string role_label(const std::string& role) {
  if (role == "leader") return "Leader";
  if (role == "follower") return "Follower";
  if (role == "not_ready") return "NotReady";
  return role;
}

std::string join_ids(const std::vector<uint32_t>& ids) {
  std::string out;
  for (const uint32_t id : ids)
    out += concat(out.empty() ? "" : ",", id);
  return out.empty() ? "-" : out;
}

// One command against the group, on the client runtime's main fiber. Suspends.
class Command {
 public:
  Command(io::Runtime& runtime, const CliFlags& flags)
      : runtime_(runtime),
        flags_(flags),
        client_(runtime, flags.group, addresses(flags),
                engine::ClientOptions{.attempt_timeout =
                                          std::min(flags.timeout, Duration::seconds(5))}) {}

  int run() {
    const std::vector<std::string>& words = flags_.words;
    const std::string& command = words[0];
    if (command == "put") return write(put(words[1], words[2], std::nullopt));
    if (command == "cas") return write(put(words[1], words[3], words[2]));
    if (command == "delete") return write(remove(words[1]));
    if (command == "get") return get(words[1]);
    if (command == "scan") return scan(words[1], words[2]);
    if (command == "bench") return bench();
    return status();
  }

 private:
  static std::vector<io::Address> addresses(const CliFlags& flags) {
    std::vector<io::Address> out;
    for (const Member& member : flags.members)
      out.push_back(member.address);
    return out;
  }

  Instant deadline() const { return start_ + flags_.timeout; }

  static wire::ClientRequest put(const std::string& key, const std::string& value,
                                 const std::optional<std::string>& expected) {
    wire::ClientRequest request;
    wire::Transaction* transaction = request.mutable_transaction();
    if (expected) {
      wire::Condition* condition = transaction->add_conditions();
      condition->set_key(key);
      condition->set_value_equals(*expected);
    }
    wire::Operation* operation = transaction->add_operations();
    operation->set_key(key);
    operation->set_put(value);
    return request;
  }

  static wire::ClientRequest remove(const std::string& key) {
    wire::ClientRequest request;
    wire::Operation* operation = request.mutable_transaction()->add_operations();
    operation->set_key(key);
    operation->set_remove(true);
    return request;
  }

  int write(wire::ClientRequest request) {
    auto response = client_.call(std::move(request), deadline());
    if (!response.ok()) return failed(response.error());
    switch (response->outcome()) {
      case wire::OK:
        std::printf("ok: committed at commit point %llu\n",
                    static_cast<unsigned long long>(response->commit_counter()));
        return exit_ok;
      case wire::CONDITION_FAILED:
        std::fprintf(stderr, "condition failed: the value is not the expected one\n");
        return exit_condition_failed;
      default:
        return answered(*response);
    }
  }

  // A read: linearizable through the leader, or local at one member.
  Result<wire::ClientResponse> read(wire::Read read) {
    wire::ClientRequest request;
    if (!flags_.local) {
      read.set_consistency(wire::Read::LINEARIZABLE);
      *request.mutable_read() = std::move(read);
      return client_.call(std::move(request), deadline());
    }
    read.set_consistency(wire::Read::LOCAL);
    read.set_min_commit_counter(flags_.min_commit);
    const Duration wait = flags_.timeout - Duration::seconds(1);
    read.set_wait_ms(static_cast<uint32_t>(std::max<int64_t>(wait.ns() / 1'000'000, 0)));
    *request.mutable_read() = std::move(read);
    const Member* member = &flags_.members.front();
    for (const Member& each : flags_.members) {
      if (flags_.member && each.id == *flags_.member) member = &each;
    }
    return client_.call_member(member->address, std::move(request), deadline());
  }

  int get(const std::string& key) {
    wire::Read request;
    request.add_keys(key);
    auto response = read(std::move(request));
    if (!response.ok()) return failed(response.error());
    if (response->outcome() != wire::OK) return answered(*response);
    if (response->results_size() != 1 || !response->results(0).found()) {
      std::fprintf(stderr, "not found (at commit point %llu)\n",
                   static_cast<unsigned long long>(response->commit_counter()));
      return exit_condition_failed;
    }
    std::printf("%s\n", response->results(0).value().c_str());
    return exit_ok;
  }

  int scan(const std::string& begin, const std::string& end) {
    wire::Read request;
    request.set_scan_begin(begin);
    request.set_scan_end(end);
    request.set_scan_limit(flags_.limit);
    auto response = read(std::move(request));
    if (!response.ok()) return failed(response.error());
    if (response->outcome() != wire::OK) return answered(*response);
    for (const wire::KeyValue& entry : response->results()) {
      std::printf("%s\t%s\n", entry.key().c_str(), entry.value().c_str());
    }
    return exit_ok;
  }

  // Load against the group, then the report. 0 when every operation succeeded, 1 when some
  // failed, 4 when no leader answered the warm-up (nothing was measured).
  int bench() {
    const tools::BenchTarget target{
        .group = flags_.group, .members = addresses(flags_), .operation_timeout = flags_.timeout};
    const tools::BenchResult result = tools::run_bench_load(runtime_, target, flags_.bench);
    if (flags_.bench.json) {
      std::printf("%s\n", tools::bench_json(flags_.bench, result).c_str());
    } else if (result.leader_reached) {
      tools::print_bench_text(stdout, flags_.bench, result);
    }
    if (!result.leader_reached) {
      std::fprintf(stderr, "unavailable: %s\n", result.unreachable_reason.c_str());
      explain_unavailable();
      return exit_unavailable;
    }
    return result.error_count == 0 ? exit_ok : exit_condition_failed;
  }

  // Every member's status as a table. Exit 0 when some member is the leader, 4 otherwise.
  int status() {
    struct Row {
      const Member* member;
      std::optional<wire::MemberStatus> status;
      std::string error;
    };
    std::vector<Row> rows;
    for (const Member& member : flags_.members) {
      rows.push_back(Row{&member, std::nullopt, {}});
      auto answer = status_of(member);
      if (answer.ok()) {
        rows.back().status = std::move(*answer);
      } else {
        rows.back().error = answer.error().message();
      }
    }
    const wire::MemberStatus* leader = nullptr;
    for (const Row& row : rows) {
      if (row.status && row.status->role() == "leader" &&
          (leader == nullptr || row.status->term() > leader->term())) {
        leader = &*row.status;
      }
    }
    // The joined set: what the leader reports, or else the members that are followers of that
    // leader in its term and at its commit point.
    std::vector<uint32_t> joined;
    if (leader != nullptr) {
      joined.assign(leader->joined().begin(), leader->joined().end());
      if (joined.empty()) {
        for (const Row& row : rows) {
          if (!row.status) continue;
          const bool is_leader = &*row.status == leader;
          const bool follows = row.status->role() == "follower" &&
                               row.status->leader() == leader->node() &&
                               row.status->term() == leader->term() && row.status->lag() == 0;
          if (is_leader || follows) joined.push_back(row.status->node());
        }
      }
      std::sort(joined.begin(), joined.end());
    }
    std::printf("%-6s %-21s %-9s %6s %8s %5s %6s  %s\n", "member", "address", "role", "term",
                "commit", "lag", "leader", "detail");
    for (const Row& row : rows) {
      const std::string id = row.status            ? concat(row.status->node())
                             : row.member->id != 0 ? concat(row.member->id)
                                                   : std::string("?");
      const std::string address = row.member->address.to_string();
      if (!row.status) {
        std::printf("%-6s %-21s %-9s %6s %8s %5s %6s  %s\n", id.c_str(), address.c_str(), "down",
                    "-", "-", "-", "-", row.error.c_str());
        continue;
      }
      const wire::MemberStatus& status = *row.status;
      std::printf("%-6s %-21s %-9s %6llu %8llu %5llu %6s  %s\n", id.c_str(), address.c_str(),
                  role_label(status.role()).c_str(), static_cast<unsigned long long>(status.term()),
                  static_cast<unsigned long long>(status.commit_counter()),
                  static_cast<unsigned long long>(status.lag()),
                  status.leader() == 0 ? "-" : concat(status.leader()).c_str(),
                  status.detail().c_str());
    }
    if (leader == nullptr) {
      std::printf("no leader\n");
      return exit_unavailable;
    }
    std::printf("leader %u in term %llu, joined {%s}\n", leader->node(),
                static_cast<unsigned long long>(leader->term()), join_ids(joined).c_str());
    if (!leader->halog_retention().empty()) {
      std::printf("halog retention: %s\n", leader->halog_retention().c_str());
    }
    return exit_ok;
  }

  Result<wire::MemberStatus> status_of(const Member& member) {
    wire::ClientRequest request;
    request.mutable_status();
    QUIRE_TRY_ASSIGN(wire::ClientResponse response, client_.call_once(member.address, request));
    if (response.outcome() != wire::OK || !response.has_status()) {
      return Error(
          ErrorCode::unavailable,
          concat("answered ", wire::Outcome_Name(response.outcome()), ": ", response.message()));
    }
    return std::move(*response.mutable_status());
  }

  // A definite answer other than ok or condition failed.
  int answered(const wire::ClientResponse& response) {
    const std::string outcome = wire::Outcome_Name(response.outcome());
    std::fprintf(stderr, "%s: %s\n", outcome.c_str(), response.message().c_str());
    switch (response.outcome()) {
      case wire::UNKNOWN:
        return exit_unknown_outcome;
      case wire::INVALID:
        return exit_usage;
      default:
        return exit_unavailable;
    }
  }

  int failed(const Error& error) {
    if (error.code() == ErrorCode::unknown_outcome) {
      std::fprintf(stderr, "unknown outcome (it may or may not have committed): %s\n",
                   error.message().c_str());
      return exit_unknown_outcome;
    }
    std::fprintf(stderr, "unavailable: %s\n", error.message().c_str());
    explain_unavailable();
    return exit_unavailable;
  }

  // Says why no member answered: down, refused (wrong group or token), or no leader.
  void explain_unavailable() {
    for (const Member& member : flags_.members) {
      auto answer = status_of(member);
      const std::string address = member.address.to_string();
      if (!answer.ok()) {
        std::fprintf(stderr, "  %s: %s\n", address.c_str(), answer.error().message().c_str());
      } else {
        std::fprintf(stderr, "  %s: %s in term %llu, %s\n", address.c_str(),
                     role_label(answer->role()).c_str(),
                     static_cast<unsigned long long>(answer->term()), answer->detail().c_str());
      }
    }
  }

  io::Runtime& runtime_;
  const CliFlags& flags_;
  engine::Client client_;
  Instant start_ = runtime_.now();
};

int run(int argc, char** argv) {
  if (argc == 2 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) {
    print_usage(stdout);
    return exit_ok;
  }
  auto flags = parse_flags(argc, argv);
  Status valid = flags.ok() ? check_arguments(*flags) : Status(flags.error());
  if (valid.ok() && flags->words.front() == "bench") {
    auto bench = tools::parse_bench_options(flags->bench_arguments);
    valid = bench.ok() ? ok_status() : Status(bench.error());
    if (bench.ok()) flags->bench = *bench;
  }
  if (!valid.ok()) {
    std::fprintf(stderr, "quire: %s\n", valid.error().message().c_str());
    print_usage(stderr);
    return exit_usage;
  }
  ::signal(SIGPIPE, SIG_IGN);
  io::real::RealRuntimeOptions options;
  options.name = "quire";
  auto runtime = io::real::RealRuntime::create(options);
  if (!runtime.ok()) {
    std::fprintf(stderr, "quire: %s\n", runtime.error().to_string().c_str());
    return exit_unavailable;
  }
  int exit_code = exit_unavailable;
  const int main_result = (*runtime)->run_main([&] {
    Command command(**runtime, *flags);
    exit_code = command.run();
  });
  if (main_result != 0) {
    std::fprintf(stderr, "quire: the client's event loop ended early\n");
    return exit_unavailable;
  }
  std::fflush(stdout);
  return exit_code;
}

}  // namespace
}  // namespace quire

int main(int argc, char** argv) {
  return quire::run(argc, argv);
}
