// What quired's HTTP endpoint says about its member (docs/operations.md, "HTTP: status, health
// and metrics"): one snapshot of the node's state and counters, taken on the node's thread, and
// its four renderings: /status (JSON), /status?HA (Blazegraph's Leader / Follower / NotReady),
// /health (200 or 503 with the reason) and /metrics (the Prometheus text format). The numbers
// come from the engine's own counters (DriverStats, ScrubStats, TransportStats, ClientService)
// and, for disk use, from the data directory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/driver_stats.h"
#include "engine/node.h"
#include "engine/scrubber.h"
#include "engine/transport.h"
#include "engine/wire/wire.pb.h"
#include "tools/http_request.h"

namespace quire::tools {

struct MemberReport {
  NodeId self;
  // False while the node recovers or stops: its parts do not exist, only self and the disk
  // figures are known.
  bool running = false;
  engine::core::ReplicaStatus status;
  wire::MemberStatus member;  // What `quire status` shows (ClientService::member_status).
  engine::DriverStats driver;
  engine::ScrubStats scrub;
  engine::TransportStats transport;
  uint64_t record_checksum_failures = 0;
  uint64_t halog_files = 0;
  uint64_t halog_bytes = 0;
  uint64_t journal_bytes = 0;               // The journal file's size.
  std::optional<uint64_t> disk_free_bytes;  // statvfs of the data directory, for non-root.
};

// What the data directory holds: HALog files and bytes, the journal's size, free disk.
struct DiskFigures {
  uint64_t halog_files = 0;
  uint64_t halog_bytes = 0;
  uint64_t journal_bytes = 0;
  std::optional<uint64_t> disk_free_bytes;
};
// Never suspends (plain system calls on a few directory entries).
DiskFigures read_disk_figures(const std::string& data_directory);
// The figures `quire status` shows, into the member's status (NodeConfig::describe_disk).
void describe_disk(const std::string& data_directory, wire::MemberStatus& status);

// REQUIRES: on the node's thread (it reads the node's state directly). Never suspends.
MemberReport collect_member_report(const engine::Node& node, NodeId self,
                                   const std::string& data_directory);

// "Leader", "Follower" or "NotReady", as `quire status` names the roles.
std::string ha_role(const MemberReport& report);
// Why the member is or is not ready, in words: the body of /health.
std::string readiness_reason(const MemberReport& report);
std::string status_json(const MemberReport& report);
std::string metrics_text(const MemberReport& report);

// Routes one request: /status, /status?HA, /health, /metrics (GET only: 405 for another method);
// 404 for any other path.
// Never suspends.
HttpResponse answer_member_request(const engine::Node& node, NodeId self,
                                   const std::string& data_directory, const HttpRequest& request);

// /status?digest: the member's committed digest (engine::Node::committed_digest) as JSON, or 503
// with the reason while it has none. Reads the whole committed journal: it is for audits and
// tests, not for a scraper's every interval. Suspends.
HttpResponse answer_digest_request(engine::Node& node, NodeId self);

}  // namespace quire::tools
