// Planted bugs: deliberately broken rules that prove each checker can fail (docs/harness.md,
// "Planted bugs"; STYLE.md, "Every checker has a planted-bug test").
//
// Product code asks `planted(PlantedBug::x)` at the one place where the real rule lives. In the
// normal build `planted()` is `constexpr false`: the compiler drops the broken branch and the
// product carries no switch. Only the files of `quire-sim-planted` are compiled with
// QUIRE_PLANTED_BUGS (tools/CMakeLists.txt); there one bug, chosen by `--plant NAME` before the
// simulation starts, is on for the whole process. That process-wide switch is the exception
// STYLE.md's "no process-wide mock switches" allows for: it exists in no build that ships.
//
// Call `planted()` from .cc files only, never from a header: the planted executable replaces
// the listed .cc files' objects, and an inline function of the product compiled both ways would
// break the one-definition rule.
#pragma once

#include <cstdint>
#include <string_view>

namespace quire {

enum class PlantedBug : uint8_t {
  none,
  linearizable_read_stale,         // A leader answers a linearizable read one commit point behind.
  acknowledged_at_seal,            // A client hears OK when its write set is sealed, not committed.
  local_read_below_min,            // A local read does not wait for its minimum commit counter.
  vote_counted_twice,              // The leader counts each YES twice when deciding to commit.
  scrub_trusts_header,             // The scrubber accepts a block whose header parses, unverified.
  snapshot_byte_altered,           // The snapshot writer alters a byte after verifying it.
  resync_never_starts,             // A follower behind the leader never starts a resync.
  client_gives_up_on_unreachable,  // A client ends its call at a member that is down.
  yes_before_durable,              // A member prepares (and votes YES) without syncing.
  linearizable_read_without_quorum,  // A leader answers a linearizable read unconfirmed.
  vote_for_candidate_behind,         // A vote goes to a candidate one commit point behind.
};

struct PlantedBugInfo {
  PlantedBug bug;
  std::string_view name;     // What --plant takes.
  std::string_view checker;  // The checker that must catch it (Finding::checker).
};

inline constexpr PlantedBugInfo planted_bugs[] = {
    {PlantedBug::linearizable_read_stale, "linearizable_read_stale", "linearizability"},
    {PlantedBug::acknowledged_at_seal, "acknowledged_at_seal", "durability"},
    {PlantedBug::local_read_below_min, "local_read_below_min", "oracle"},
    {PlantedBug::vote_counted_twice, "vote_counted_twice", "commit_safety"},
    {PlantedBug::scrub_trusts_header, "scrub_trusts_header", "convergence"},
    {PlantedBug::snapshot_byte_altered, "snapshot_byte_altered", "snapshot"},
    {PlantedBug::resync_never_starts, "resync_never_starts", "liveness"},
    {PlantedBug::client_gives_up_on_unreachable, "client_gives_up_on_unreachable", "availability"},
    {PlantedBug::yes_before_durable, "yes_before_durable", "commit_safety"},
    {PlantedBug::linearizable_read_without_quorum, "linearizable_read_without_quorum",
     "linearizability"},
    {PlantedBug::vote_for_candidate_behind, "vote_for_candidate_behind", "commit_safety"},
};

// The bug named `name`, or nullptr.
constexpr const PlantedBugInfo* find_planted_bug(std::string_view name) {
  for (const PlantedBugInfo& info : planted_bugs) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

// The two builds' definitions live in different inline namespaces, so their symbols differ: a
// file compiled without QUIRE_PLANTED_BUGS but linked into quire-sim-planted keeps its hooks off
// instead of clashing with the planted definitions.
#ifdef QUIRE_PLANTED_BUGS
inline namespace planted_bugs_on {
inline constexpr bool planted_bugs_built = true;
// The bug of this process, set once by quire-sim-planted before any simulation starts.
inline PlantedBug planted_bug_chosen = PlantedBug::none;
inline bool planted(PlantedBug bug) {
  return bug == planted_bug_chosen;
}
}  // namespace planted_bugs_on
#else
inline namespace planted_bugs_off {
inline constexpr bool planted_bugs_built = false;
constexpr bool planted(PlantedBug) {
  return false;
}
}  // namespace planted_bugs_off
#endif

}  // namespace quire
