#include "harness/availability.h"

#include <algorithm>

#include "io/base/text.h"
#include "sim/trace.h"

namespace quire::harness {
namespace {

using engine::core::Role;

// The term in which `member` led for all of [begin, end], or nothing: its last status at or
// before `begin` says leader, and every status it reported up to `end` says the same.
std::optional<Term> led_throughout(const std::vector<StatusObservation>& statuses, Instant begin,
                                   Instant end) {
  std::optional<Term> term;
  for (const StatusObservation& observed : statuses) {
    if (observed.time > end) break;
    const bool leading = observed.status.role == Role::leader;
    if (observed.time <= begin) {
      term = leading ? std::optional<Term>(observed.status.term) : std::nullopt;
    } else if (!leading || !term || observed.status.term != *term) {
      return std::nullopt;
    }
  }
  return term;
}

bool committed_in(const std::vector<CommitObservation>& commits, Term term, Instant from,
                  Instant to) {
  return std::any_of(commits.begin(), commits.end(), [&](const CommitObservation& commit) {
    return !commit.history_lost && commit.root.term == term && commit.time >= from &&
           commit.time <= to;
  });
}

// A member that served the whole operation, or nothing.
std::optional<NodeId> serving_leader(const Operation& operation, const Observations& observations) {
  const Instant begin = operation.invoke;
  const Instant end = *operation.complete;
  for (NodeId member : operation.reachable_throughout) {
    const auto statuses = observations.statuses.find(member);
    const auto commits = observations.commits.find(member);
    if (statuses == observations.statuses.end() || commits == observations.commits.end()) continue;
    const Instant after = end + availability_commit_window;
    const std::optional<Term> term = led_throughout(statuses->second, begin, after);
    if (!term) continue;
    const Instant before = begin - std::min(begin - Instant(), availability_commit_window);
    if (committed_in(commits->second, *term, before, begin) &&
        committed_in(commits->second, *term, end, after)) {
      return member;
    }
  }
  return std::nullopt;
}

}  // namespace

Findings check_availability(const History& history, const Observations& observations) {
  Findings findings;
  for (const Operation& operation : history) {
    if (operation.outcome != Outcome::failed || !operation.gave_up || !operation.complete) continue;
    const std::optional<NodeId> leader = serving_leader(operation, observations);
    if (!leader) continue;
    findings.push_back(Finding{
        "availability", FindingKind::liveness,
        concat("client ", operation.client, " gave up on operation ", operation.id, " (",
               sim::format_time(operation.invoke), "..", sim::format_time(*operation.complete),
               ") while n", leader->value(), ", which it could reach, led and committed")});
  }
  return findings;
}

}  // namespace quire::harness
