#include "tools/quire_output.h"

#include <cstdio>

#include "io/base/text.h"

namespace quire::tools {
namespace {

using Json = nlohmann::json;

unsigned long long number(uint64_t value) {
  return static_cast<unsigned long long>(value);
}

std::string outcome_name(wire::Outcome outcome) {
  std::string name = wire::Outcome_Name(outcome);
  for (char& each : name)
    each = static_cast<char>(std::tolower(static_cast<unsigned char>(each)));
  return name;
}

}  // namespace

std::string role_label(const std::string& role) {
  if (role == "leader") return "Leader";
  if (role == "follower") return "Follower";
  if (role == "not_ready") return "NotReady";
  return role;
}

bool Reply::is_write() const {
  return command_ == "put" || command_ == "cas" || command_ == "delete" || command_ == "txn";
}

int Reply::emit(Json object, const char* outcome, int exit_code) {
  object["command"] = command_;
  object["outcome"] = outcome;
  object["exit_code"] = exit_code;
  // Keys and values are bytes: whatever is not UTF-8 is shown as U+FFFD rather than refused.
  const std::string line = object.dump(-1, ' ', false, Json::error_handler_t::replace);
  std::printf("%s\n", line.c_str());
  return exit_code;
}

int Reply::committed(const wire::ClientResponse& response) {
  if (json_) {
    return emit({{"commit_counter", response.commit_counter()}}, "committed", exit_ok);
  }
  std::printf("ok: committed at commit point %llu\n", number(response.commit_counter()));
  return exit_ok;
}

int Reply::condition_failed() {
  const std::string message =
      command_ == "txn" ? "a condition does not hold" : "the value is not the expected one";
  if (json_) {
    return emit({{"reason", "condition_failed"}, {"message", message}}, "refused",
                exit_condition_failed);
  }
  std::fprintf(stderr, "condition failed: %s\n", message.c_str());
  return exit_condition_failed;
}

int Reply::value(const wire::ClientResponse& response, const std::string& key) {
  const bool found = response.results_size() == 1 && response.results(0).found();
  if (json_) {
    Json object = {{"key", key}, {"found", found}, {"commit_counter", response.commit_counter()}};
    if (found) {
      object["value"] = response.results(0).value();
      object["version"] = response.results(0).version();
    }
    return emit(std::move(object), found ? "ok" : "not_found",
                found ? exit_ok : exit_condition_failed);
  }
  if (!found) {
    std::fprintf(stderr, "not found (at commit point %llu)\n", number(response.commit_counter()));
    return exit_condition_failed;
  }
  std::printf("%s\n", response.results(0).value().c_str());
  return exit_ok;
}

int Reply::entries(const wire::ClientResponse& response) {
  if (json_) {
    Json list = Json::array();
    for (const wire::KeyValue& entry : response.results()) {
      list.push_back(
          {{"key", entry.key()}, {"value", entry.value()}, {"version", entry.version()}});
    }
    return emit({{"commit_counter", response.commit_counter()}, {"entries", std::move(list)}}, "ok",
                exit_ok);
  }
  for (const wire::KeyValue& entry : response.results()) {
    std::printf("%s\t%s\n", entry.key().c_str(), entry.value().c_str());
  }
  return exit_ok;
}

int Reply::refusal(const wire::ClientResponse& response) {
  switch (response.outcome()) {
    case wire::UNKNOWN:
      return exit_unknown_outcome;
    case wire::INVALID:
      return exit_usage;
    default:
      return exit_unavailable;
  }
}

int Reply::answered(const wire::ClientResponse& response) {
  const int exit_code = refusal(response);
  if (json_) {
    const char* outcome = exit_code == exit_unknown_outcome ? "unknown"
                          : is_write()                      ? "refused"
                                                            : "error";
    return emit({{"reason", outcome_name(response.outcome())}, {"message", response.message()}},
                outcome, exit_code);
  }
  std::fprintf(stderr, "%s: %s\n", wire::Outcome_Name(response.outcome()).c_str(),
               response.message().c_str());
  return exit_code;
}

int Reply::failed(const Error& error, const std::vector<std::string>& explanation) {
  const bool unknown = error.code() == ErrorCode::unknown_outcome;
  const int exit_code = unknown ? exit_unknown_outcome : exit_unavailable;
  if (json_) {
    const char* outcome = unknown ? "unknown" : is_write() ? "refused" : "error";
    return emit({{"reason", unknown ? "unknown_outcome" : "unavailable"},
                 {"message", error.message()},
                 {"members", explanation}},
                outcome, exit_code);
  }
  if (unknown) {
    std::fprintf(stderr, "unknown outcome (it may or may not have committed): %s\n",
                 error.message().c_str());
  } else {
    std::fprintf(stderr, "unavailable: %s\n", error.message().c_str());
  }
  for (const std::string& line : explanation)
    std::fprintf(stderr, "  %s\n", line.c_str());
  return exit_code;
}

int Reply::not_retained(uint64_t at, const std::string& message) {
  const std::string text =
      concat("commit point ", at, " is not in the retained history of any member (", message, ")");
  if (json_) {
    return emit({{"reason", "not_retained"}, {"at", at}, {"message", text}}, "error",
                exit_condition_failed);
  }
  std::fprintf(stderr, "not retained: %s\n", text.c_str());
  return exit_condition_failed;
}

int Reply::usage(const Error& error) {
  if (json_) return emit({{"reason", "usage"}, {"message", error.message()}}, "error", exit_usage);
  std::fprintf(stderr, "quire: %s\n", error.message().c_str());
  return exit_usage;
}

}  // namespace quire::tools
