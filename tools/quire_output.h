// What quire prints for each answer, as text (values on stdout, failures on stderr) or, with
// --json, as one JSON object on stdout per answer, failures included. Every method returns the
// process's exit code for that answer: 0 ok, 1 condition failed / not found / not retained,
// 2 usage or invalid, 3 unknown outcome, 4 unavailable. docs/operations.md, "--json".
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/wire/wire.pb.h"
#include "io/base/result.h"

namespace quire::tools {

constexpr int exit_ok = 0;
constexpr int exit_condition_failed = 1;  // Also: not found, not in the retained history.
constexpr int exit_usage = 2;
constexpr int exit_unknown_outcome = 3;
constexpr int exit_unavailable = 4;

// One member's row of `quire status`: its status, or why it did not answer.
struct StatusRow {
  uint32_t id = 0;  // From --members; 0: not given.
  std::string address;
  std::optional<wire::MemberStatus> status;
  std::string error;
};

class Reply {
 public:
  Reply(bool json, std::string command) : json_(json), command_(std::move(command)) {}

  bool json_output() const { return json_; }

  // A write (put, cas, delete, txn) committed.
  int committed(const wire::ClientResponse& response);
  // A write's conditions did not hold: nothing was written.
  int condition_failed();
  // get: the key's value, or not found.
  int value(const wire::ClientResponse& response, const std::string& key);
  // scan: the entries.
  int entries(const wire::ClientResponse& response);
  // A definite answer other than ok or condition_failed (unknown, invalid, unavailable, timeout).
  int answered(const wire::ClientResponse& response);
  // No definite answer: unknown_outcome (a write may have committed) or unavailable.
  // `explanation`: one line per member, why it did not serve.
  int failed(const Error& error, const std::vector<std::string>& explanation);
  // get --at / scan --at: no member holds commit point `at`.
  int not_retained(uint64_t at, const std::string& message);
  // The command line is malformed.
  int usage(const Error& error);
  // status: the table, then the leader's line; exit 0 with a leader, 4 without.
  int status(const std::vector<StatusRow>& rows);

 private:
  // Writes `object` with "command", "outcome" and "exit_code" on one line of stdout.
  int emit(nlohmann::json object, const char* outcome, int exit_code);
  // The outcome and exit code of a definite answer that is neither ok nor condition_failed.
  int refusal(const wire::ClientResponse& response);
  bool is_write() const;

  bool json_;
  std::string command_;
};

// "Leader", "Follower", "NotReady" (the HTTP /status?HA names), or the role as given.
std::string role_label(const std::string& role);

}  // namespace quire::tools
