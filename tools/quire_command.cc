#include "tools/quire_command.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "engine/client.h"
#include "io/base/text.h"
#include "tools/bench_load.h"
#include "tools/bench_report.h"
#include "tools/quire_output.h"

namespace quire::tools {
namespace {

std::vector<io::Address> addresses(const CliFlags& flags) {
  std::vector<io::Address> out;
  for (const CliMember& member : flags.members)
    out.push_back(member.address);
  return out;
}

wire::ClientRequest put(const std::string& key, const std::string& value,
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

wire::ClientRequest remove(const std::string& key) {
  wire::ClientRequest request;
  wire::Operation* operation = request.mutable_transaction()->add_operations();
  operation->set_key(key);
  operation->set_remove(true);
  return request;
}

Result<std::string> read_all(std::FILE* input) {
  std::string text;
  char buffer[4096];
  size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, input)) > 0)
    text.append(buffer, got);
  if (std::ferror(input))
    return Error(ErrorCode::io_error, "txn --json-input: reading stdin failed");
  return text;
}

class Command {
 public:
  Command(io::Runtime& runtime, const CliFlags& flags, std::FILE* input)
      : runtime_(runtime),
        flags_(flags),
        input_(input),
        reply_(flags.json, flags.words.front()),
        client_(runtime, flags.group, addresses(flags),
                engine::ClientOptions{.attempt_timeout =
                                          std::min(flags.timeout, Duration::seconds(5))}) {}

  int run() {
    const std::vector<std::string>& words = flags_.words;
    const std::string& command = words[0];
    if (command == "put") return write(put(words[1], words[2], std::nullopt));
    if (command == "cas") return write(put(words[1], words[3], words[2]));
    if (command == "delete") return write(remove(words[1]));
    if (command == "txn") return txn();
    if (command == "get") return get(words[1]);
    if (command == "scan") return scan(words[1], words[2]);
    if (command == "bench") return bench();
    return status();
  }

 private:
  Instant deadline() const { return start_ + flags_.timeout; }

  int txn() {
    Result<wire::Transaction> transaction = Error(ErrorCode::invalid_argument, "");
    if (flags_.json_input) {
      auto text = read_all(input_);
      if (!text.ok()) return reply_.usage(text.error());
      transaction = parse_txn_json(*text);
    } else {
      transaction = parse_txn_arguments(
          flags_.conditions,
          std::vector<std::string>(flags_.words.begin() + 1, flags_.words.end()));
    }
    if (!transaction.ok()) return reply_.usage(transaction.error());
    wire::ClientRequest request;
    *request.mutable_transaction() = std::move(*transaction);
    return write(std::move(request));
  }

  int write(wire::ClientRequest request) {
    auto response = client_.call(std::move(request), deadline());
    if (!response.ok()) return failed(response.error());
    switch (response->outcome()) {
      case wire::OK:
        return reply_.committed(*response);
      case wire::CONDITION_FAILED:
        return reply_.condition_failed();
      default:
        return reply_.answered(*response);
    }
  }

  const CliMember& chosen_member() const {
    const CliMember* member = &flags_.members.front();
    for (const CliMember& each : flags_.members) {
      if (flags_.member && each.id == *flags_.member) member = &each;
    }
    return *member;
  }

  // A read: linearizable through the leader, local at one member, or historical.
  Result<wire::ClientResponse> read(wire::Read read) {
    wire::ClientRequest request;
    if (flags_.at) return historical(std::move(read));
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
    return client_.call_member(chosen_member().address, std::move(request), deadline());
  }

  // The state at commit point --at, which any member that holds it serves: --member's, else each
  // member in turn. A member that does not hold it (past its last commit point, or no longer
  // retained) answers unavailable, so the next is asked; when none holds it the answer is
  // not_retained, with what the members said.
  Result<wire::ClientResponse> historical(wire::Read read) {
    read.set_consistency(wire::Read::HISTORICAL);
    read.set_at_commit_counter(*flags_.at);
    wire::ClientRequest request;
    *request.mutable_read() = std::move(read);
    std::vector<const CliMember*> order;
    if (flags_.member) order.push_back(&chosen_member());
    for (const CliMember& member : flags_.members) {
      if (!flags_.member) order.push_back(&member);
    }
    std::string missing;  // What the members that do not hold it said.
    Error last = Error(ErrorCode::unavailable, "no member answered");
    while (runtime_.now() < deadline()) {
      for (const CliMember* member : order) {
        auto response = client_.call_once(member->address, request);
        if (!response.ok()) {
          last = Error(ErrorCode::unavailable,
                       concat(member->address.to_string(), ": ", response.error().to_string()));
          continue;
        }
        if (response->outcome() == wire::UNAVAILABLE &&
            response->message().starts_with("not_found")) {
          missing += concat(missing.empty() ? "" : "; ", member->address.to_string(), ": ",
                            response->message());
          continue;
        }
        if (response->outcome() != wire::UNAVAILABLE) return response;
        last = Error(ErrorCode::unavailable,
                     concat(member->address.to_string(), ": ", response->message()));
      }
      if (!missing.empty()) return Error(ErrorCode::not_found, missing);
      runtime_.sleep_for(Duration::milliseconds(100));
    }
    return last;
  }

  // The answer to a read that came back without a definite ok.
  int read_failed(const Result<wire::ClientResponse>& response) {
    if (!response.ok()) {
      if (flags_.at && response.error().code() == ErrorCode::not_found) {
        return reply_.not_retained(*flags_.at, response.error().message());
      }
      return failed(response.error());
    }
    return reply_.answered(*response);
  }

  int get(const std::string& key) {
    wire::Read request;
    request.add_keys(key);
    auto response = read(std::move(request));
    if (!response.ok() || response->outcome() != wire::OK) return read_failed(response);
    return reply_.value(*response, key);
  }

  int scan(const std::string& begin, const std::string& end) {
    wire::Read request;
    request.set_scan_begin(begin);
    request.set_scan_end(end);
    request.set_scan_limit(flags_.limit);
    auto response = read(std::move(request));
    if (!response.ok() || response->outcome() != wire::OK) return read_failed(response);
    return reply_.entries(*response);
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
      for (const std::string& line : explain_unavailable())
        std::fprintf(stderr, "  %s\n", line.c_str());
      return exit_unavailable;
    }
    return result.error_count == 0 ? exit_ok : exit_condition_failed;
  }

  int status() {
    std::vector<StatusRow> rows;
    for (const CliMember& member : flags_.members) {
      StatusRow row{member.id, member.address.to_string(), std::nullopt, {}};
      auto answer = status_of(member);
      if (answer.ok()) {
        row.status = std::move(*answer);
      } else {
        row.error = answer.error().message();
      }
      rows.push_back(std::move(row));
    }
    return reply_.status(rows);
  }

  Result<wire::MemberStatus> status_of(const CliMember& member) {
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

  int failed(const Error& error) {
    if (error.code() == ErrorCode::unknown_outcome) return reply_.failed(error, {});
    return reply_.failed(error, explain_unavailable());
  }

  // Why no member answered, one line each: down, refused (wrong group or token), or no leader.
  std::vector<std::string> explain_unavailable() {
    std::vector<std::string> lines;
    for (const CliMember& member : flags_.members) {
      auto answer = status_of(member);
      const std::string address = member.address.to_string();
      if (!answer.ok()) {
        lines.push_back(concat(address, ": ", answer.error().message()));
      } else {
        lines.push_back(concat(address, ": ", role_label(answer->role()), " in term ",
                               answer->term(), ", ", answer->detail()));
      }
    }
    return lines;
  }

  io::Runtime& runtime_;
  const CliFlags& flags_;
  std::FILE* input_;
  Reply reply_;
  engine::Client client_;
  Instant start_ = runtime_.now();
};

}  // namespace

int run_command(io::Runtime& runtime, const CliFlags& flags, std::FILE* input) {
  Command command(runtime, flags, input);
  return command.run();
}

}  // namespace quire::tools
