// `quire status`: the table of every member's status (docs/operations.md, "The status table"),
// as text or as one JSON object.
#include <algorithm>
#include <cstdio>

#include "io/base/text.h"
#include "tools/quire_output.h"

namespace quire::tools {
namespace {

using Json = nlohmann::json;

unsigned long long number(uint64_t value) {
  return static_cast<unsigned long long>(value);
}

std::string join_ids(const std::vector<uint32_t>& ids) {
  std::string out;
  for (const uint32_t id : ids)
    out += concat(out.empty() ? "" : ",", id);
  return out.empty() ? "-" : out;
}

// Bytes for a person: "512B", "3.4K", "12.0M", "1.5G" (binary units); "-" when unknown.
std::string bytes_text(bool known, uint64_t bytes) {
  if (!known) return "-";
  const char* units = "BKMGTP";
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < 6) {
    value /= 1024;
    unit++;
  }
  char buffer[32];
  if (unit == 0) {
    std::snprintf(buffer, sizeof buffer, "%lluB", number(bytes));
  } else {
    std::snprintf(buffer, sizeof buffer, "%.1f%c", value, units[unit]);
  }
  return buffer;
}

const wire::MemberStatus* find_leader(const std::vector<StatusRow>& rows) {
  const wire::MemberStatus* leader = nullptr;
  for (const StatusRow& row : rows) {
    if (row.status && row.status->role() == "leader" &&
        (leader == nullptr || row.status->term() > leader->term())) {
      leader = &*row.status;
    }
  }
  return leader;
}

// The joined set: what the leader reports, or else the members that are followers of that
// leader in its term and at its commit point.
std::vector<uint32_t> joined_set(const std::vector<StatusRow>& rows,
                                 const wire::MemberStatus& leader) {
  std::vector<uint32_t> joined(leader.joined().begin(), leader.joined().end());
  if (joined.empty()) {
    for (const StatusRow& row : rows) {
      if (!row.status) continue;
      const bool is_leader = &*row.status == &leader;
      const bool follows = row.status->role() == "follower" &&
                           row.status->leader() == leader.node() &&
                           row.status->term() == leader.term() && row.status->lag() == 0;
      if (is_leader || follows) joined.push_back(row.status->node());
    }
  }
  std::sort(joined.begin(), joined.end());
  return joined;
}

std::string row_id(const StatusRow& row) {
  if (row.status) return concat(row.status->node());
  return row.id != 0 ? concat(row.id) : std::string("?");
}

Json row_json(const StatusRow& row) {
  Json out = {{"address", row.address}};
  if (!row.status) {
    if (row.id != 0) out["id"] = row.id;
    out["role"] = "down";
    out["error"] = row.error;
    return out;
  }
  const wire::MemberStatus& status = *row.status;
  out["id"] = status.node();
  out["role"] = role_label(status.role());
  out["term"] = status.term();
  out["commit_counter"] = status.commit_counter();
  out["lag"] = status.lag();
  out["leader"] = status.leader();
  out["detail"] = status.detail();
  out["read_repairs"] = status.read_repairs();
  out["scrub_repairs"] = status.scrub_repairs();
  out["scrub_passes"] = status.scrub_passes();
  // Absent from members that do not report them (an older quired, or the simulator).
  if (status.has_halog_files()) out["halog_files"] = status.halog_files();
  if (status.has_halog_bytes()) out["halog_bytes"] = status.halog_bytes();
  if (status.has_disk_free_bytes()) out["disk_free_bytes"] = status.disk_free_bytes();
  return out;
}

void print_row(const StatusRow& row) {
  const std::string id = row_id(row);
  if (!row.status) {
    std::printf("%-6s %-21s %-9s %6s %8s %5s %6s %6s %8s %8s  %s\n", id.c_str(),
                row.address.c_str(), "down", "-", "-", "-", "-", "-", "-", "-", row.error.c_str());
    return;
  }
  const wire::MemberStatus& status = *row.status;
  const std::string halogs = status.has_halog_files() ? concat(status.halog_files()) : "-";
  std::printf("%-6s %-21s %-9s %6llu %8llu %5llu %6s %6s %8s %8s  %s\n", id.c_str(),
              row.address.c_str(), role_label(status.role()).c_str(), number(status.term()),
              number(status.commit_counter()), number(status.lag()),
              status.leader() == 0 ? "-" : concat(status.leader()).c_str(), halogs.c_str(),
              bytes_text(status.has_halog_bytes(), status.halog_bytes()).c_str(),
              bytes_text(status.has_disk_free_bytes(), status.disk_free_bytes()).c_str(),
              status.detail().c_str());
}

}  // namespace

int Reply::status(const std::vector<StatusRow>& rows) {
  const wire::MemberStatus* leader = find_leader(rows);
  const std::vector<uint32_t> joined =
      leader != nullptr ? joined_set(rows, *leader) : std::vector<uint32_t>();
  const int exit_code = leader != nullptr ? exit_ok : exit_unavailable;
  if (json_) {
    Json members = Json::array();
    for (const StatusRow& row : rows)
      members.push_back(row_json(row));
    Json object = {{"members", std::move(members)}};
    if (leader != nullptr) {
      object["leader"] = leader->node();
      object["term"] = leader->term();
      object["joined"] = joined;
      object["halog_retention"] = leader->halog_retention();
    } else {
      object["reason"] = "no_leader";
      object["message"] = "no member is the leader";
    }
    return emit(std::move(object), leader != nullptr ? "ok" : "error", exit_code);
  }
  std::printf("%-6s %-21s %-9s %6s %8s %5s %6s %6s %8s %8s  %s\n", "member", "address", "role",
              "term", "commit", "lag", "leader", "halogs", "halog", "disk", "detail");
  for (const StatusRow& row : rows)
    print_row(row);
  if (leader == nullptr) {
    std::printf("no leader\n");
    return exit_code;
  }
  std::printf("leader %u in term %llu, joined {%s}\n", leader->node(), number(leader->term()),
              join_ids(joined).c_str());
  if (!leader->halog_retention().empty()) {
    std::printf("halog retention: %s\n", leader->halog_retention().c_str());
  }
  return exit_code;
}

}  // namespace quire::tools
