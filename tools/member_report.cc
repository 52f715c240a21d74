#include "tools/member_report.h"

#include <sys/statvfs.h>

#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "io/base/text.h"
#include "store/format.h"

namespace quire::tools {
namespace {

namespace fs = std::filesystem;

// The HALog files in the member's HALog directory and their bytes. Read from the directory, not
// the journal, because it is what the operator's disk holds (uncommitted HALog included).
void count_halogs(const std::string& data_directory, DiskFigures& report) {
  std::error_code failure;
  const fs::path directory = fs::path(data_directory) / store::format::halog_directory_name;
  for (fs::directory_iterator it(directory, failure), end; !failure && it != end;
       it.increment(failure)) {
    if (!it->path().filename().string().ends_with(store::format::halog_file_suffix)) continue;
    std::error_code size_failure;
    const uintmax_t size = it->file_size(size_failure);
    report.halog_files++;
    // A HALog purged between the listing and the size counts as a file of no bytes.
    if (!size_failure) report.halog_bytes += size;
  }
}

std::string text(uint64_t value) {
  return std::to_string(value);
}

// Seconds as Prometheus writes them: "0.0005", "2.5", "10".
std::string seconds_text(double seconds) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", seconds);
  return buffer;
}

// The metric families, each with its HELP and TYPE lines (the text format, version 0.0.4).
class Exposition {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += concat("# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
  }
  void sample(std::string_view name, std::string_view labels, const std::string& value) {
    out_ += concat(name, labels.empty() ? "" : "{", labels, labels.empty() ? "" : "}", " ", value,
                   "\n");
  }
  void single(std::string_view name, std::string_view type, std::string_view help, uint64_t value) {
    family(name, type, help);
    sample(name, "", text(value));
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

MemberReport collect_member_report(const engine::Node& node, NodeId self,
                                   const std::string& data_directory) {
  MemberReport report;
  report.self = self;
  const engine::ReplicaDriver* driver = node.driver();
  const engine::ClientService* clients = node.clients();
  report.running = driver != nullptr && clients != nullptr;
  if (report.running) {
    report.status = driver->replica().status();
    report.member = clients->member_status();
    report.driver = driver->stats();
    report.record_checksum_failures = clients->record_checksum_failures();
  }
  if (const engine::Scrubber* scrubber = node.scrubber()) report.scrub = scrubber->stats();
  if (const engine::Transport* transport = node.transport()) report.transport = transport->stats();
  const DiskFigures disk = read_disk_figures(data_directory);
  report.halog_files = disk.halog_files;
  report.halog_bytes = disk.halog_bytes;
  report.journal_bytes = disk.journal_bytes;
  report.disk_free_bytes = disk.disk_free_bytes;
  return report;
}

DiskFigures read_disk_figures(const std::string& data_directory) {
  DiskFigures figures;
  count_halogs(data_directory, figures);
  std::error_code failure;
  const uintmax_t journal_size =
      fs::file_size(fs::path(data_directory) / store::format::journal_file_name, failure);
  if (!failure) figures.journal_bytes = journal_size;
  struct statvfs disk {};
  if (::statvfs(data_directory.c_str(), &disk) == 0) {
    figures.disk_free_bytes = static_cast<uint64_t>(disk.f_bavail) * disk.f_frsize;
  }
  return figures;
}

void describe_disk(const std::string& data_directory, wire::MemberStatus& status) {
  const DiskFigures figures = read_disk_figures(data_directory);
  status.set_halog_files(figures.halog_files);
  status.set_halog_bytes(figures.halog_bytes);
  if (figures.disk_free_bytes) status.set_disk_free_bytes(*figures.disk_free_bytes);
}

std::string ha_role(const MemberReport& report) {
  if (!report.running) return "NotReady";
  // The same rule as `quire status` (ClientService::member_status): a follower is ready only
  // when it follows a known leader at its commit point, not catching up and not damaged.
  if (report.member.role() == "leader") return "Leader";
  if (report.member.role() == "follower") return "Follower";
  return "NotReady";
}

std::string readiness_reason(const MemberReport& report) {
  const engine::core::ReplicaStatus& status = report.status;
  if (!report.running) return "the member is recovering or stopping";
  if (status.role == engine::core::Role::leader) {
    return concat("leader in term ", status.term, " at commit point ", status.committed);
  }
  if (ha_role(report) == "Follower") {
    return concat("follower of member ", status.leader, " in term ", status.term,
                  " at commit point ", status.committed);
  }
  if (status.damaged) return "damaged beyond read repair: waits to rebuild from the leader";
  if (status.catching_up) {
    return concat(status.rebuilding ? "rebuilding" : "resyncing",
                  " from the leader: ", report.member.lag(), " commit point(s) behind");
  }
  if (status.leader == node_none) {
    return concat("no leader known (", engine::core::role_name(status.role), " in term ",
                  status.term, ")");
  }
  return concat(report.member.lag(), " commit point(s) behind leader ", status.leader);
}

std::string status_json(const MemberReport& report) {
  using nlohmann::json;
  const engine::core::ReplicaStatus& status = report.status;
  json out;
  out["member"] = report.self.value();
  out["role"] = ha_role(report);
  out["ready_reason"] = readiness_reason(report);
  out["running"] = report.running;
  out["core_role"] = report.running ? engine::core::role_name(status.role) : "none";
  out["term"] = status.term.value();
  out["commit_counter"] = status.committed.value();
  const bool leader_known = report.running && status.leader != node_none;
  out["leader"] = leader_known ? json(status.leader.value()) : json(nullptr);
  out["leader_commit_counter"] =
      leader_known ? json(status.leader_committed.value()) : json(nullptr);
  out["lag"] = leader_known ? json(report.member.lag()) : json(nullptr);
  json joined = json::array();
  for (NodeId member : status.joined)
    joined.push_back(member.value());
  out["joined"] = joined;
  out["catching_up"] = status.catching_up;
  out["rebuilding"] = status.rebuilding;
  out["damaged"] = status.damaged;
  out["write_set_in_flight"] = status.in_flight ? json(status.in_flight->value()) : json(nullptr);
  out["halog"] = {
      {"count", report.halog_files},
      {"bytes", report.halog_bytes},
      {"retention", status.halog_retention.empty() ? json(nullptr) : json(status.halog_retention)}};
  out["journal_bytes"] = report.journal_bytes;
  out["disk_free_bytes"] = report.disk_free_bytes ? json(*report.disk_free_bytes) : json(nullptr);
  out["read_repairs"] = report.member.read_repairs();
  out["scrub"] = {{"passes", report.scrub.passes_completed},
                  {"repairs", report.scrub.blocks_repaired},
                  {"unrepairable", report.scrub.blocks_unrepairable},
                  {"blocks_verified", report.scrub.blocks_verified},
                  {"blocks_failed", report.scrub.blocks_failed}};
  out["detail"] = report.member.detail();
  return out.dump() + "\n";
}

std::string metrics_text(const MemberReport& report) {
  const engine::DriverStats& driver = report.driver;
  const engine::core::ReplicaStatus& status = report.status;
  Exposition out;
  out.single("quire_commits_total", "counter",
             "Commit points this member made durable (commit, HALog replay or rebuild).",
             driver.commit_points);
  out.single("quire_write_sets_sealed_total", "counter", "Write sets this member sealed as leader.",
             driver.write_sets_sealed);
  out.single("quire_write_sets_acknowledged_total", "counter",
             "Write sets this member, as leader, saw committed on a quorum.",
             driver.write_sets_acknowledged);
  out.family("quire_commit_latency_seconds", "histogram",
             "As leader: from sealing a write set to its acknowledgement.");
  const auto& bounds = engine::LatencyBuckets::upper_bounds_us;
  for (size_t index = 0; index < bounds.size(); index++) {
    out.sample("quire_commit_latency_seconds_bucket",
               concat("le=\"", seconds_text(static_cast<double>(bounds[index]) / 1e6), "\""),
               text(driver.commit_latency.cumulative_count(index)));
  }
  out.sample("quire_commit_latency_seconds_bucket", "le=\"+Inf\"",
             text(driver.commit_latency.count()));
  out.sample("quire_commit_latency_seconds_sum", "",
             seconds_text(static_cast<double>(driver.commit_latency.sum_us()) / 1e6));
  out.sample("quire_commit_latency_seconds_count", "", text(driver.commit_latency.count()));
  out.single("quire_write_sets_in_flight", "gauge",
             "As leader: write sets in their two-phase commit.", status.in_flight ? 1 : 0);
  out.single("quire_replicated_bytes_total", "counter",
             "Bytes of write-cache blocks sent down the pipeline (the leader's and relays).",
             driver.bytes_replicated);
  out.single("quire_resyncs_total", "counter", "Catch-ups by HALog replay this member started.",
             driver.resyncs_started);
  out.single("quire_halogs_replayed_total", "counter", "HALogs replayed from a peer.",
             driver.halogs_replayed);
  out.single("quire_rebuilds_total", "counter",
             "Rebuilds from a peer's committed prefix this member started.",
             driver.rebuilds_started);
  out.single("quire_rebuilds_completed_total", "counter", "Rebuilds that finished.",
             driver.rebuilds_completed);
  out.single("quire_read_repairs_total", "counter",
             "Records that failed their checksum on a read and were mended from a peer.",
             report.member.read_repairs());
  out.single("quire_scrub_passes_total", "counter",
             "Scrubber passes that verified the whole committed journal.",
             report.scrub.passes_completed);
  out.single("quire_scrub_repairs_total", "counter",
             "Damaged block runs the scrubber mended from a peer.", report.scrub.blocks_repaired);
  out.family("quire_checksum_failures_total", "counter",
             "Checksum or structure failures found here, by kind: frame (a peer's or client's "
             "frame), record (a read), block (the scrubber), halog (a peer's HALog on replay).");
  out.sample("quire_checksum_failures_total", "kind=\"frame\"",
             text(report.transport.frames_rejected));
  out.sample("quire_checksum_failures_total", "kind=\"record\"",
             text(report.record_checksum_failures));
  out.sample("quire_checksum_failures_total", "kind=\"block\"", text(report.scrub.blocks_failed));
  out.sample("quire_checksum_failures_total", "kind=\"halog\"",
             text(driver.halog_checksum_failures));
  out.single("quire_halog_files", "gauge", "HALog files in the data directory.",
             report.halog_files);
  out.single("quire_halog_bytes", "gauge", "Bytes of the HALog files in the data directory.",
             report.halog_bytes);
  out.single("quire_journal_bytes", "gauge", "Size of the journal file.", report.journal_bytes);
  out.single("quire_elections_total", "counter", "Elections this member started as candidate.",
             driver.elections_started);
  out.single("quire_elections_won_total", "counter", "Elections this member won.",
             driver.elections_won);
  out.single("quire_term", "gauge", "The member's current term.", status.term.value());
  out.single("quire_commit_point", "gauge", "The last commit point this member holds.",
             status.committed.value());
  out.family("quire_role", "gauge",
             "1 for the member's role as /status?HA names it (leader, follower, not_ready).");
  const std::string role = ha_role(report);
  out.sample("quire_role", "role=\"leader\"", role == "Leader" ? "1" : "0");
  out.sample("quire_role", "role=\"follower\"", role == "Follower" ? "1" : "0");
  out.sample("quire_role", "role=\"not_ready\"", role == "NotReady" ? "1" : "0");
  out.single("quire_handshakes_refused_total", "counter",
             "Handshakes refused either way (foreign group, wrong token, other member list).",
             report.transport.handshakes_refused);
  if (report.disk_free_bytes) {
    out.single("quire_disk_free_bytes", "gauge",
               "Bytes free for an unprivileged writer on the data directory's file system.",
               *report.disk_free_bytes);
  }
  return out.take();
}

HttpResponse answer_member_request(const engine::Node& node, NodeId self,
                                   const std::string& data_directory, const HttpRequest& request) {
  HttpResponse response;
  const bool known =
      request.path == "/status" || request.path == "/health" || request.path == "/metrics";
  if (known && request.method != "GET") return method_not_allowed(request.method, "GET");
  if (request.path == "/status" && request.query == "HA") {
    response.body = ha_role(collect_member_report(node, self, data_directory)) + "\n";
  } else if (request.path == "/status" && request.query.empty()) {
    response.content_type = "application/json";
    response.body = status_json(collect_member_report(node, self, data_directory));
  } else if (request.path == "/health" && request.query.empty()) {
    const MemberReport report = collect_member_report(node, self, data_directory);
    response.status = ha_role(report) == "NotReady" ? 503 : 200;
    response.body = readiness_reason(report) + "\n";
  } else if (request.path == "/metrics" && request.query.empty()) {
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = metrics_text(collect_member_report(node, self, data_directory));
  } else {
    response.status = request.path == "/status" ? 400 : 404;
    response.body =
        "endpoints: /status, /status?HA, /status?digest, /health, /metrics, /v1/kv/{key}, "
        "/v1/txn, /v1/scan\n";
  }
  return response;
}

HttpResponse answer_digest_request(engine::Node& node, NodeId self) {
  HttpResponse response;
  auto digest = node.committed_digest();
  if (!digest.ok()) {
    response.status = 503;
    response.body = concat("no digest now: ", digest.error().to_string(), "\n");
    return response;
  }
  char hash[19];
  std::snprintf(hash, sizeof hash, "0x%016" PRIx64, digest->bytes_hash);
  nlohmann::json body = {{"member", self.value()},
                         {"commit_counter", digest->commit_counter.value()},
                         {"end_offset", digest->end_offset},
                         {"digest", hash}};
  response.content_type = "application/json";
  response.body = body.dump() + "\n";
  return response;
}

}  // namespace quire::tools
