// Coverage marks: the named rare states the engine reports when it reaches them (Step::marks
// from the core, NodeObserver::on_mark from the driver). The catalog is the one list of them: a
// simulation asserts that every mark it sees is here, and a fuzz batch fails when a mark that is
// not flagged rare was never reached (docs/harness.md, "Coverage marks").
#pragma once

#include <array>
#include <string_view>

namespace quire::engine {

struct CoverageMark {
  std::string_view name;
  // Reached by a few seeds in a hundred, not by every batch: its absence is not a failure.
  bool rare;
};

inline constexpr std::array<CoverageMark, 24> coverage_marks = {{
    {"commit_implied_by_leader_progress", false},
    {"conflicting_write_set_replaced", false},
    {"damaged_leader_steps_down", true},
    {"damaged_member_rebuilds", true},
    {"data_damaged", true},
    {"election_started", false},
    {"follower_joins_write_set_in_flight", false},
    {"halog_missing_at_peer", false},
    {"leader_change_during_prepare", true},
    {"leader_reproposes_prepared_write_set", false},
    {"leader_rolls_back_unprepared_blocks", true},
    {"leader_steps_down_without_quorum", false},
    {"pipeline_reformed", false},
    {"pre_vote_refused_for_live_leader", false},
    {"prepare_waits_for_blocks", false},
    {"prepared_write_set_rolled_back", false},
    {"read_repair", true},
    {"rebuild_started", false},
    {"resync_across_leader_change", false},
    {"resync_commits_held_write_set", false},
    {"resync_started", false},
    {"scrub_repair", false},
    {"vote_from_committed_copy", true},
    {"write_set_resent_after_no", false},
}};

// The catalog entry of `name`, or nullptr for a mark nobody declared.
constexpr const CoverageMark* find_coverage_mark(std::string_view name) {
  for (const CoverageMark& mark : coverage_marks) {
    if (mark.name == name) return &mark;
  }
  return nullptr;
}

}  // namespace quire::engine
