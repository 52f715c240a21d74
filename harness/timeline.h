// Timeline: one self-contained HTML file that shows a run — members as lanes with their roles
// over time, commits as ticks, client operations as bars colored by outcome, faults as shaded
// bands, and marks — so that a failure can be read at a glance. Inline SVG, CSS and a few lines
// of JavaScript; no external resource, so the file can be attached to a bug report as is.
// See docs/harness.md, "Timeline".
//
// Bounded: beyond a number of drawn items per kind (TimelineOptions) operations and commits are
// aggregated into density cells per lane, and the other kinds are cut; the picture says so.
// Deterministic: equal input gives byte-equal output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/history.h"
#include "io/base/ids.h"
#include "io/base/result.h"

namespace quire::harness {

enum class MemberRole : uint8_t { leader, follower, candidate, down, paused };

const char* member_role_name(MemberRole role);

// A member held `role` from `from` until `to`.
struct RoleInterval {
  std::string member;  // "n1"
  MemberRole role = MemberRole::follower;
  Instant from;
  Instant to;
};

// A member reached commit point `counter` at `time`.
struct CommitEvent {
  std::string member;
  Instant time;
  CommitCounter counter;
};

struct ClientOperationEvent {
  uint32_t client = 0;
  Instant invoke;
  std::optional<Instant> complete;  // Absent: never completed (drawn to the end).
  Outcome outcome = Outcome::unknown;
  bool condition_failed = false;
  std::string label;  // Short: "put k=v". Shown on hover.
};

struct FaultEvent {
  Instant from;
  Instant to;
  std::string description;  // "partition {n1} | {n2,n3}"
};

struct MarkEvent {
  Instant time;
  std::string text;  // "checker: violation on key k"
};

struct Timeline {
  std::string title;  // "quire-sim run --seed 42"
  std::vector<RoleInterval> roles;
  std::vector<CommitEvent> commits;
  std::vector<ClientOperationEvent> operations;
  std::vector<FaultEvent> faults;
  std::vector<MarkEvent> marks;
};

// Appends every operation of `history`, labeled `op <id>: <describe_body>`.
void add_history(Timeline& timeline, const History& history);

struct TimelineOptions {
  int chart_width_px = 1600;
  // Beyond these, operations and commits are aggregated per lane into density cells, and role
  // intervals (the shortest first), faults and marks (the latest first) are left out.
  size_t operations_drawn_max = 5000;
  size_t commits_drawn_max = 5000;
  size_t role_intervals_drawn_max = 5000;
  size_t faults_drawn_max = 500;
  size_t marks_drawn_max = 500;
  // Density cells in all, across lanes, when aggregating.
  size_t aggregate_cells_max = 20000;
  // Longer labels are cut (a value can be megabytes).
  size_t label_bytes_max = 160;
};

std::string render_timeline_html(const Timeline& timeline, const TimelineOptions& options = {});

// Writes render_timeline_html() to `path`. Errors: io_error.
Status write_timeline_html(const Timeline& timeline, const std::string& path,
                           const TimelineOptions& options = {});

// `text` safe inside HTML text and quoted attributes: & < > " ' as entities, control characters
// and bytes that are not UTF-8 as \xNN. Exposed for tests.
std::string escape_html(std::string_view text);

}  // namespace quire::harness
