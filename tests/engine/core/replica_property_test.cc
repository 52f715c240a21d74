// Goal: under any interleaving of message delivery, loss, duplication and reordering, ticks,
// crashes between any two effects and restarts from what the disk kept, and a member's report that
// its committed bytes are damaged (it leaves the quorum to rebuild), and a restart without the
// journal (set aside as unusable; the member must not vote until it rebuilt), the core never elects
// two leaders in a term, never commits two write sets at one counter, never loses an
// acknowledged write set, never moves a commit counter back; and once faults stop, every member
// converges.
// Method: rapidcheck generates action lists for 3 and 5 members (and shrinks a failing one);
// ModelCluster checks safety after every action; a fault-free tail checks convergence.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "tests/engine/core/model_cluster.h"

namespace quire::engine::core::model {
namespace {

enum class ActionKind : uint8_t {
  tick,
  tick_all,
  deliver,
  drop,
  duplicate,
  complete,
  complete_async,
  submit,
  crash,
  crash_leader,
  quiet,
  restart,
  cut,
  heal,
  damage,
  lose_journal,
};

struct Action {
  ActionKind kind;
  uint16_t target;
};

// Whether some member is damaged or has lost its journal and not yet rebuilt.
bool disk_fault_anywhere(ModelCluster& cluster) {
  for (size_t member = 0; member < cluster.size(); member++) {
    const ModelMember& each = cluster.member(member);
    if (each.disk.journal_lost || (each.replica && each.replica->state().damaged)) return true;
  }
  return false;
}

void apply(ModelCluster& cluster, const Action& action) {
  switch (action.kind) {
    case ActionKind::tick:
      cluster.tick(action.target);
      break;
    case ActionKind::tick_all:
      cluster.tick_all();
      break;
    case ActionKind::deliver:
      cluster.deliver(action.target);
      break;
    case ActionKind::drop:
      cluster.drop(action.target);
      break;
    case ActionKind::duplicate:
      cluster.duplicate(action.target);
      break;
    case ActionKind::complete:
      cluster.complete(action.target);
      break;
    case ActionKind::complete_async:
      cluster.complete_async(action.target);
      break;
    case ActionKind::submit:
      for (size_t member = 0; member < cluster.size(); member++)
        cluster.submit(member);
      break;
    case ActionKind::crash:
      cluster.crash(action.target);
      break;
    case ActionKind::crash_leader:
      cluster.crash_leader();
      break;
    case ActionKind::quiet:
      cluster.settle(1 + action.target % 30, false);
      break;
    case ActionKind::restart:
      cluster.restart(action.target);
      break;
    case ActionKind::cut:
      cluster.set_cut(action.target, true);
      break;
    case ActionKind::heal:
      for (size_t member = 0; member < cluster.size(); member++)
        cluster.set_cut(member, false);
      break;
    case ActionKind::damage:
      // One member with a damaged disk at a time: within what the group survives.
      if (!disk_fault_anywhere(cluster)) cluster.report_damage(action.target);
      break;
    case ActionKind::lose_journal: {
      // A crashed member comes back without its journal (set aside as unusable).
      const size_t member = action.target % cluster.size();
      if (!disk_fault_anywhere(cluster) && !cluster.member(member).replica) {
        cluster.restart_with_journal_lost(member);
      }
      break;
    }
  }
}

rc::Gen<Action> action_generator() {
  // Weights: mostly progress (deliveries, ticks, completions), some faults.
  return rc::gen::build<Action>(rc::gen::set(&Action::kind, rc::gen::weightedElement<ActionKind>(
                                                                {{6, ActionKind::tick},
                                                                 {3, ActionKind::tick_all},
                                                                 {30, ActionKind::deliver},
                                                                 {3, ActionKind::drop},
                                                                 {2, ActionKind::duplicate},
                                                                 {12, ActionKind::complete},
                                                                 {4, ActionKind::complete_async},
                                                                 {4, ActionKind::submit},
                                                                 {1, ActionKind::crash},
                                                                 {1, ActionKind::crash_leader},
                                                                 {2, ActionKind::quiet},
                                                                 {2, ActionKind::restart},
                                                                 {1, ActionKind::cut},
                                                                 {1, ActionKind::heal},
                                                                 {1, ActionKind::damage},
                                                                 {1, ActionKind::lose_journal}})),
                                rc::gen::set(&Action::target, rc::gen::inRange<uint16_t>(0, 1000)));
}

void check_run(size_t member_count, uint64_t seed, const std::vector<Action>& actions) {
  ReplicaConfig config;
  config.election_timeout_ticks_min = 10;
  config.election_timeout_ticks_max = 20;
  config.heartbeat_interval_ticks = 2;
  config.prepare_timeout_ticks = 8;
  config.catch_up_stall_ticks = 12;
  config.halog_retention_count_max = seed % 3 == 0 ? 4 : 0;
  ModelCluster cluster(member_count, seed, config);
  for (const Action& action : actions)
    apply(cluster, action);
  // Faults stop: everyone is up and connected, and the leader keeps getting work.
  for (size_t member = 0; member < cluster.size(); member++) {
    cluster.set_cut(member, false);
    cluster.restart(member);
  }
  cluster.settle(600, true);
  cluster.settle(200, false);
  const std::optional<size_t> leader = cluster.leader();
  RC_LOG() << cluster.describe();
  RC_ASSERT(leader.has_value());
  const CommitCounter leader_committed = cluster.member(*leader).disk.committed.commit_counter;
  for (size_t member = 0; member < cluster.size(); member++) {
    RC_ASSERT(cluster.member(member).disk.committed.commit_counter.value() ==
              leader_committed.value());
  }
  RC_TAG(cluster.stats().acknowledged > 0 ? "acknowledged" : "none acknowledged");
  RC_TAG(cluster.stats().reproposals > 0 ? "reproposal" : "no reproposal");
  RC_TAG(cluster.stats().rebuilds > 0 ? "rebuild" : "no rebuild");
  RC_TAG(cluster.stats().commits_lost_at_crash > 0 ? "commit lost at crash" : "no commit lost");
  for (size_t member = 0; member < cluster.size(); member++) {
    RC_ASSERT(!cluster.member(member).replica->state().damaged);  // Rebuilt.
  }
}

RC_GTEST_PROP(ReplicaProperty, ThreeMembersStaySafeAndConverge, ()) {
  const auto seed = *rc::gen::arbitrary<uint64_t>();
  const auto actions = *rc::gen::container<std::vector<Action>>(*rc::gen::inRange<size_t>(20, 600),
                                                                action_generator());
  check_run(3, seed, actions);
}

RC_GTEST_PROP(ReplicaProperty, FiveMembersStaySafeAndConverge, ()) {
  const auto seed = *rc::gen::arbitrary<uint64_t>();
  const auto actions = *rc::gen::container<std::vector<Action>>(*rc::gen::inRange<size_t>(20, 600),
                                                                action_generator());
  check_run(5, seed, actions);
}

}  // namespace
}  // namespace quire::engine::core::model
