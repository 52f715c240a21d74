#include "harness/commit_safety.h"

#include <map>

#include "io/base/text.h"
#include "sim/trace.h"

namespace quire::harness {

Findings check_commit_safety(const Observations& observations) {
  Findings findings;
  auto report = [&](std::string message) {
    findings.push_back(Finding{"commit_safety", FindingKind::correctness, std::move(message)});
  };
  // Counter -> (write-set hash, the member and time that first committed it).
  std::map<uint64_t, std::pair<uint64_t, std::string>> first;
  for (const auto& [member, commits] : observations.commits) {
    CommitCounter previous;
    for (const CommitObservation& commit : commits) {
      if (commit.history_lost) {
        previous = CommitCounter();  // Its disk lost the journal: it starts over, and rebuilds.
        continue;
      }
      const store::RootBlock& root = commit.root;
      // The same counter again is allowed: a rotten newest root slot takes a member back one
      // commit point while it still holds that write set, and it commits it again (a torn and a
      // rotten slot look alike; docs/format.md). A different write set there is reported below.
      if (root.commit_counter < previous) {
        report(concat("n", member, " went from commit point ", previous, " to ",
                      root.commit_counter, " at ", sim::format_time(commit.time)));
      }
      previous = root.commit_counter;
      const std::string where = concat("n", member, " at ", sim::format_time(commit.time));
      auto [found, inserted] =
          first.emplace(root.commit_counter.value(), std::make_pair(root.write_set_hash, where));
      if (!inserted && found->second.first != root.write_set_hash) {
        report(concat("two write sets committed at counter ", root.commit_counter, ": ",
                      hex64(found->second.first), " (", found->second.second, ") and ",
                      hex64(root.write_set_hash), " (", where, ")"));
      }
    }
  }
  for (const auto& [member, statuses] : observations.statuses) {
    Term previous;
    for (const StatusObservation& status : statuses) {
      if (status.status.term < previous) {
        report(concat("n", member, " went from term ", previous, " back to ", status.status.term,
                      " at ", sim::format_time(status.time)));
      }
      previous = status.status.term;
    }
  }
  // At most one leader per term.
  std::map<uint64_t, NodeId> leaders;
  for (const auto& [member, statuses] : observations.statuses) {
    for (const StatusObservation& status : statuses) {
      if (status.status.role != engine::core::Role::leader) continue;
      auto [found, inserted] = leaders.emplace(status.status.term.value(), member);
      if (!inserted && found->second != member) {
        report(concat("two leaders in term ", status.status.term, ": n", found->second, " and n",
                      member));
      }
    }
  }
  return findings;
}

}  // namespace quire::harness
