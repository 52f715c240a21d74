// Goal: the linearizability checker accepts every history some order explains and rejects the
// ones none does (its planted-bug tests: stale reads, lost writes, invented values, a double
// compare-and-set, failed operations that took effect), treats unknown operations as "maybe",
// and answers "unknown" instead of passing when its budget runs out.
// Method: hand-made histories with times in milliseconds, then a rapidcheck property over
// histories generated from a sequential model (linearizable by construction) with one planted
// corruption.
#include "harness/linearizability.h"

#include "io/base/rng.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>

namespace quire::harness {
namespace {

Instant at_ms(int64_t ms) {
  return Instant::from_ns(ms * 1'000'000);
}

// Builds histories tersely: each call adds one operation and returns it for adjustments.
class HistoryBuilder {
 public:
  Operation& put(uint32_t client, int64_t invoke_ms, std::optional<int64_t> complete_ms, Key key,
                 Value value, Outcome outcome = Outcome::ok) {
    Operation& operation = add(client, invoke_ms, complete_ms, outcome);
    operation.writes.push_back(Write::put(std::move(key), std::move(value)));
    return operation;
  }
  Operation& remove(uint32_t client, int64_t invoke_ms, std::optional<int64_t> complete_ms, Key key,
                    Outcome outcome = Outcome::ok) {
    Operation& operation = add(client, invoke_ms, complete_ms, outcome);
    operation.writes.push_back(Write::remove(std::move(key)));
    return operation;
  }
  // A read answered `value` (nullopt: absent).
  Operation& read(uint32_t client, int64_t invoke_ms, std::optional<int64_t> complete_ms, Key key,
                  std::optional<Value> value, Outcome outcome = Outcome::ok) {
    Operation& operation = add(client, invoke_ms, complete_ms, outcome);
    operation.reads.push_back(value ? ReadResult::found(std::move(key), std::move(*value))
                                    : ReadResult::missing(std::move(key)));
    return operation;
  }
  // if key == expected then put key = value.
  Operation& cas(uint32_t client, int64_t invoke_ms, std::optional<int64_t> complete_ms, Key key,
                 Value expected, Value value, Outcome outcome = Outcome::ok) {
    Operation& operation = add(client, invoke_ms, complete_ms, outcome);
    operation.conditions.push_back(Condition::value_equals(key, std::move(expected)));
    operation.writes.push_back(Write::put(std::move(key), std::move(value)));
    return operation;
  }

  const History& history() const { return history_; }

 private:
  Operation& add(uint32_t client, int64_t invoke_ms, std::optional<int64_t> complete_ms,
                 Outcome outcome) {
    Operation& operation = history_.emplace_back();
    operation.client = client;
    operation.id = next_id_++;
    operation.invoke = at_ms(invoke_ms);
    if (complete_ms) operation.complete = at_ms(*complete_ms);
    operation.outcome = outcome;
    return operation;
  }

  History history_;
  uint64_t next_id_ = 1;
};

Verdict verdict_of(const History& history, const CheckBudget& budget = {}) {
  return check_linearizability(history, budget).verdict;
}

// Checks a history expected to be rejected, and that the report points at `key`.
LinearizabilityReport expect_violation(const History& history, const Key& key) {
  LinearizabilityReport report = check_linearizability(history);
  EXPECT_EQ(report.verdict, Verdict::violation) << report.explain(history);
  const KeyReport* problem = report.first_problem();
  EXPECT_NE(problem, nullptr);
  if (problem != nullptr) {
    EXPECT_EQ(problem->key, key);
  }
  return report;
}

TEST(Linearizability, EmptyHistoryIsLinearizable) {
  const LinearizabilityReport report = check_linearizability({});
  EXPECT_EQ(report.verdict, Verdict::linearizable);
  EXPECT_TRUE(report.keys.empty());
  EXPECT_EQ(report.first_problem(), nullptr);
}

TEST(Linearizability, SequentialWritesAndReads) {
  HistoryBuilder builder;
  builder.read(1, 0, 1, "k", std::nullopt);
  builder.put(1, 2, 3, "k", "a");
  builder.read(2, 4, 5, "k", "a");
  builder.remove(2, 6, 7, "k");
  builder.read(1, 8, 9, "k", std::nullopt);
  EXPECT_EQ(verdict_of(builder.history()), Verdict::linearizable);
}

// Planted bug: a read returns a value overwritten before it began.
TEST(Linearizability, StaleReadIsAViolation) {
  HistoryBuilder builder;
  builder.put(1, 0, 1, "k", "a");
  builder.put(1, 2, 3, "k", "b");
  const Operation& stale = builder.read(2, 4, 5, "k", "a");
  const LinearizabilityReport report = expect_violation(builder.history(), "k");
  const KeyReport& key = *report.first_problem();
  EXPECT_EQ(key.longest_prefix, (std::vector<uint64_t>{1, 2}));
  ASSERT_TRUE(key.blocked_operation.has_value());
  EXPECT_EQ(*key.blocked_operation, stale.id);
  EXPECT_NE(key.state_after_prefix.find("\"b\""), std::string::npos) << key.state_after_prefix;
  const std::string text = report.explain(builder.history());
  EXPECT_NE(text.find("cannot place: op 3"), std::string::npos) << text;
}

// Planted bug: an acknowledged write vanishes.
TEST(Linearizability, LostWriteIsAViolation) {
  HistoryBuilder builder;
  builder.put(1, 0, 1, "k", "a");
  builder.read(2, 2, 3, "k", std::nullopt);
  expect_violation(builder.history(), "k");
}

// Planted bug: a read returns a value nobody wrote.
TEST(Linearizability, ReadOfAValueNeverWrittenIsAViolation) {
  HistoryBuilder builder;
  builder.put(1, 0, 10, "k", "a");
  builder.read(2, 1, 9, "k", "z");
  expect_violation(builder.history(), "k");
}

// Planted bug: two compare-and-sets from the same value both succeed.
TEST(Linearizability, CompareAndSetSucceedingTwiceFromOneValueIsAViolation) {
  HistoryBuilder builder;
  builder.put(1, 0, 1, "k", "a");
  builder.cas(1, 2, 10, "k", "a", "b");
  builder.cas(2, 3, 9, "k", "a", "c");
  expect_violation(builder.history(), "k");
}

// The same with version conditions and commit counters, as the engine reports them.
TEST(Linearizability, CompareAndSetSucceedingTwiceFromOneVersionIsAViolation) {
  HistoryBuilder builder;
  builder.put(1, 0, 1, "k", "a").commit_counter = CommitCounter(1);
  for (const uint32_t client : {1u, 2u}) {
    Operation& cas = builder.put(client, 2, 10, "k", client == 1 ? "b" : "c");
    cas.conditions.push_back(Condition::version_equals("k", CommitCounter(1)));
    cas.commit_counter = CommitCounter(1 + client);
  }
  expect_violation(builder.history(), "k");
}

TEST(Linearizability, CompareAndSetChainIsLinearizable) {
  HistoryBuilder builder;
  builder.put(1, 0, 1, "k", "a");
  builder.cas(1, 2, 10, "k", "a", "b");
  builder.cas(2, 3, 9, "k", "b", "c");
  builder.read(3, 11, 12, "k", "c");
  EXPECT_EQ(verdict_of(builder.history()), Verdict::linearizable);
}

// Overlapping operations explained only by an order other than their invocation order.
TEST(Linearizability, ConcurrentOperationsFineInSomeOrder) {
  HistoryBuilder builder;
  builder.put(1, 0, 10, "k", "a");
  builder.put(2, 1, 9, "k", "b");
  builder.read(3, 2, 3, "k", "b");
  builder.read(3, 4, 5, "k", "a");
  builder.read(4, 11, 12, "k", "a");
  EXPECT_EQ(verdict_of(builder.history()), Verdict::linearizable);
}

TEST(Linearizability, ConcurrentReadsMayDisagreeOnlyWhileAWriteIsInFlight) {
  HistoryBuilder builder;
  builder.put(1, 0, 1, "k", "a");
  builder.put(1, 2, 10, "k", "b");
  builder.read(2, 3, 4, "k", "b");
  builder.read(3, 5, 6, "k", "a");  // After a read that saw "b" completed: stale.
  expect_violation(builder.history(), "k");
}

// An unknown write that must have taken effect to explain a read.
TEST(Linearizability, UnknownWriteAssumedToHaveHappened) {
  HistoryBuilder builder;
  builder.put(1, 0, 1, "k", "a");
  builder.put(1, 2, std::nullopt, "k", "b", Outcome::unknown);
  builder.read(2, 5, 6, "k", "b");
  builder.read(2, 7, 8, "k", "b");
  EXPECT_EQ(verdict_of(builder.history()), Verdict::linearizable);
}

// An unknown write whose completion the client saw (a timeout) may still apply later.
TEST(Linearizability, UnknownWriteMayTakeEffectAfterItsCompletion) {
  HistoryBuilder builder;
  builder.put(1, 0, 1, "k", "a");
  builder.put(1, 2, 3, "k", "b", Outcome::unknown);
  builder.read(2, 5, 6, "k", "a");
  builder.read(2, 7, 8, "k", "b");
  EXPECT_EQ(verdict_of(builder.history()), Verdict::linearizable);
}

// An unknown write that must not have taken effect: the reads never see it.
TEST(Linearizability, UnknownWriteAssumedNotToHaveHappened) {
  HistoryBuilder builder;
  builder.put(1, 0, 1, "k", "a");
  builder.cas(1, 2, std::nullopt, "k", "a", "b", Outcome::unknown);
  builder.read(2, 5, 6, "k", "a");
  builder.read(2, 7, 8, "k", "a");
  EXPECT_EQ(verdict_of(builder.history()), Verdict::linearizable);
}

// An unknown write takes effect at most once and not before it was invoked.
TEST(Linearizability, UnknownWriteTakesEffectOnceAndNotBeforeItsInvocation) {
  HistoryBuilder once;
  once.put(1, 0, 1, "k", "a");
  once.put(1, 2, std::nullopt, "k", "b", Outcome::unknown);
  once.read(2, 5, 6, "k", "b");
  once.read(2, 7, 8, "k", "a");
  expect_violation(once.history(), "k");

  HistoryBuilder early;
  early.read(2, 0, 1, "k", "b");
  early.put(1, 2, std::nullopt, "k", "b", Outcome::unknown);
  expect_violation(early.history(), "k");
}

// An unknown read or condition-only operation constrains nothing.
TEST(Linearizability, UnknownReadsAreIgnored) {
  HistoryBuilder builder;
  builder.put(1, 0, 1, "k", "a");
  builder.read(2, 2, std::nullopt, "k", "garbage", Outcome::unknown);
  EXPECT_EQ(verdict_of(builder.history()), Verdict::linearizable);
}

// Planted bug: a failed write took effect.
TEST(Linearizability, FailedWriteMustNotHaveHappened) {
  HistoryBuilder builder;
  builder.put(1, 0, 1, "k", "a");
  builder.put(1, 2, 3, "k", "b", Outcome::failed);
  builder.read(2, 4, 5, "k", "b");
  expect_violation(builder.history(), "k");

  HistoryBuilder unseen;
  unseen.put(1, 0, 1, "k", "a");
  unseen.put(1, 2, 3, "k", "b", Outcome::failed);
  unseen.read(2, 4, 5, "k", "a");
  EXPECT_EQ(verdict_of(unseen.history()), Verdict::linearizable);
}

TEST(Linearizability, ConditionFailedObservesTheState) {
  HistoryBuilder wrong;
  wrong.put(1, 0, 1, "k", "a");
  wrong.cas(2, 2, 3, "k", "a", "b").condition_failed = true;  // But "k" was "a".
  expect_violation(wrong.history(), "k");

  HistoryBuilder right;
  right.put(1, 0, 1, "k", "a");
  right.put(1, 2, 10, "k", "c");
  right.cas(2, 3, 9, "k", "a", "b").condition_failed = true;  // After "c": fine.
  right.read(2, 11, 12, "k", "c");
  EXPECT_EQ(verdict_of(right.history()), Verdict::linearizable);
}

// With conditions on two keys, a failed transaction does not say which one was false, so no
// single key can be blamed (the projection is weaker than the whole).
TEST(Linearizability, ConditionFailedOnTwoKeysConstrainsNeither) {
  HistoryBuilder builder;
  builder.put(1, 0, 1, "x", "a");
  builder.put(1, 2, 3, "y", "a");
  Operation& transaction = builder.put(2, 4, 5, "x", "b");
  transaction.conditions = {Condition::value_equals("x", "a"), Condition::value_equals("y", "a")};
  transaction.condition_failed = true;
  EXPECT_EQ(verdict_of(builder.history()), Verdict::linearizable);
}

TEST(Linearizability, AbsentConditionActsAsPutIfAbsent) {
  HistoryBuilder builder;
  for (const uint32_t client : {1u, 2u}) {
    Operation& put = builder.put(client, 0, 5, "k", client == 1 ? "a" : "b");
    put.conditions.push_back(Condition::absent("k"));
  }
  expect_violation(builder.history(), "k");  // Both created the key.
}

TEST(Linearizability, VersionsMustMatchTheWritersCommitCounter) {
  HistoryBuilder builder;
  builder.put(1, 0, 1, "k", "a").commit_counter = CommitCounter(4);
  builder.read(2, 2, 3, "k", "a").reads[0].version = CommitCounter(5);
  expect_violation(builder.history(), "k");
}

TEST(Linearizability, VersionsGrowAlongTheOrder) {
  HistoryBuilder builder;
  builder.put(1, 0, 1, "k", "a").commit_counter = CommitCounter(5);
  builder.put(1, 2, 3, "k", "b").commit_counter = CommitCounter(4);
  expect_violation(builder.history(), "k");

  // Concurrent writes are ordered by their counters, which decides what the read may see.
  HistoryBuilder concurrent;
  concurrent.put(1, 0, 5, "k", "a").commit_counter = CommitCounter(7);
  concurrent.put(2, 0, 5, "k", "b").commit_counter = CommitCounter(6);
  concurrent.read(3, 6, 7, "k", "b");
  expect_violation(concurrent.history(), "k");
}

// A version that is not known is learned from the first read that reports it.
TEST(Linearizability, UnknownVersionIsBoundByARead) {
  HistoryBuilder builder;
  builder.put(1, 0, std::nullopt, "k", "a", Outcome::unknown);
  builder.read(2, 1, 2, "k", "a").reads[0].version = CommitCounter(7);
  builder.read(2, 3, 4, "k", "a").reads[0].version = CommitCounter(7);
  EXPECT_EQ(verdict_of(builder.history()), Verdict::linearizable);

  builder.read(2, 5, 6, "k", "a").reads[0].version = CommitCounter(8);
  expect_violation(builder.history(), "k");

  HistoryBuilder backwards;
  backwards.put(1, 0, std::nullopt, "k", "a", Outcome::unknown);
  backwards.read(2, 1, 2, "k", "a").reads[0].version = CommitCounter(7);
  backwards.put(1, 3, 4, "k", "b").commit_counter = CommitCounter(6);
  expect_violation(backwards.history(), "k");
}

// Planted bug on one key of a multi-key transaction: its write to "y" was lost.
TEST(Linearizability, MultiKeyTransactionIsCheckedPerKey) {
  HistoryBuilder builder;
  Operation& transaction = builder.put(1, 0, 1, "x", "1");
  transaction.writes.push_back(Write::put("y", "1"));
  Operation& read = builder.read(2, 2, 3, "x", "1");
  read.reads.push_back(ReadResult::missing("y"));
  const LinearizabilityReport report = expect_violation(builder.history(), "y");
  ASSERT_EQ(report.keys.size(), 2u);
  EXPECT_EQ(report.keys[0].key, "x");
  EXPECT_EQ(report.keys[0].verdict, Verdict::linearizable);
}

TEST(Linearizability, EqualTimesCountAsOverlapping) {
  HistoryBuilder builder;
  builder.put(1, 0, 5, "k", "a");
  builder.read(2, 5, 6, "k", std::nullopt);
  EXPECT_EQ(verdict_of(builder.history()), Verdict::linearizable);
}

// Unknown writes nothing could observe are dropped before the search.
TEST(Linearizability, UnobservableUnknownWritesAreDropped) {
  HistoryBuilder builder;
  builder.put(1, 0, 1, "k", "a");
  for (int index = 0; index < 100; index++) {
    builder.put(2 + index, 2, std::nullopt, "k", "lost" + std::to_string(index), Outcome::unknown);
  }
  builder.read(1, 3, 4, "k", "a");
  const LinearizabilityReport report = check_linearizability(builder.history());
  EXPECT_EQ(report.verdict, Verdict::linearizable);
  EXPECT_EQ(report.keys.at(0).dropped_unknown_count, 100u);
}

// Many concurrent unknown writes that could be observed: the search is exponential in them.
History hard_history(size_t unknown_count) {
  HistoryBuilder builder;
  for (size_t index = 0; index < unknown_count; index++) {
    builder.put(static_cast<uint32_t>(index), 0, std::nullopt, "k", index % 2 == 0 ? "a" : "b",
                Outcome::unknown);
  }
  for (size_t index = 0; index < 40; index++) {
    builder.read(100, 10 + 2 * static_cast<int64_t>(index), 11 + 2 * static_cast<int64_t>(index),
                 "k", index % 2 == 0 ? "a" : "b");
  }
  builder.read(100, 100, 101, "k", "z");  // Never written: a violation, if the search gets there.
  return builder.history();
}

TEST(Linearizability, StepBudgetExhaustedIsUnknown) {
  CheckBudget budget;
  budget.steps_max_per_key = 1000;
  const History history = hard_history(30);
  const LinearizabilityReport report = check_linearizability(history, budget);
  EXPECT_EQ(report.verdict, Verdict::unknown);
  ASSERT_NE(report.first_problem(), nullptr);
  EXPECT_NE(report.first_problem()->unknown_reason.find("step budget"), std::string::npos);
  EXPECT_NE(report.explain(history).find("step budget of 1000 exhausted"), std::string::npos);
}

TEST(Linearizability, MemoBudgetExhaustedIsUnknown) {
  CheckBudget budget;
  budget.memo_bytes_max_per_key = 1 << 20;
  const LinearizabilityReport report = check_linearizability(hard_history(30), budget);
  EXPECT_EQ(report.verdict, Verdict::unknown);
  ASSERT_NE(report.first_problem(), nullptr);
  EXPECT_NE(report.first_problem()->unknown_reason.find("memo budget"), std::string::npos);
}

// A violation on one key outranks an unknown on another.
TEST(Linearizability, ViolationOutranksUnknown) {
  History history = hard_history(30);
  HistoryBuilder builder;
  builder.put(1, 0, 1, "j", "a");
  builder.read(1, 2, 3, "j", "b");
  for (Operation operation : builder.history()) {
    operation.id += 1000;
    history.push_back(operation);
  }
  CheckBudget budget;
  budget.steps_max_per_key = 1000;
  const LinearizabilityReport report = check_linearizability(history, budget);
  EXPECT_EQ(report.verdict, Verdict::violation);
  EXPECT_EQ(report.first_problem()->key, "j");
}

TEST(Linearizability, ValidateHistoryNamesTheBrokenRule) {
  HistoryBuilder builder;
  builder.put(1, 5, 4, "k", "a");
  const Status status = validate_history(builder.history());
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), ErrorCode::invalid_argument);
  EXPECT_NE(status.error().message().find("op 1"), std::string::npos);

  HistoryBuilder no_completion;
  no_completion.put(1, 0, std::nullopt, "k", "a", Outcome::ok);
  EXPECT_FALSE(validate_history(no_completion.history()).ok());

  History empty(1);  // A scan that found nothing, say: allowed, and constrains nothing.
  empty[0].complete = at_ms(1);
  empty[0].outcome = Outcome::ok;
  EXPECT_TRUE(validate_history(empty).ok());
  EXPECT_EQ(verdict_of(empty), Verdict::linearizable);

  HistoryBuilder failed_condition;
  failed_condition.put(1, 0, 1, "k", "a").condition_failed = true;  // No condition.
  EXPECT_FALSE(validate_history(failed_condition.history()).ok());
}

TEST(Linearizability, DescribeOperationIsShortAndPlain) {
  HistoryBuilder builder;
  Operation& operation = builder.cas(3, 1, 2, "k", "a\n", std::string(1000, 'x'));
  operation.commit_counter = CommitCounter(12);
  const std::string text = describe_operation(operation);
  EXPECT_LT(text.size(), 160u) << text;
  EXPECT_NE(text.find("op 1 client 3"), std::string::npos) << text;
  EXPECT_NE(text.find("\\x0a"), std::string::npos) << text;
  EXPECT_NE(text.find("(1000 bytes)"), std::string::npos) << text;
  EXPECT_NE(text.find("@12"), std::string::npos) << text;
}

// ---- Scale: a simulation-sized history ----

// Clients that issue one operation at a time against a register store; each operation takes
// effect at an instant inside its interval. Returns a linearizable history of `operation_count`
// operations; `distinct_values` false makes every write write one of three values.
History simulated_history(uint64_t seed, size_t operation_count, size_t key_count,
                          uint32_t client_count, bool distinct_values) {
  struct Planned {
    Operation operation;
    Instant effect;
    bool applies = false;
  };
  Rng rng(seed);
  std::vector<Instant> client_free(client_count, Instant());
  std::vector<Planned> planned;
  for (size_t index = 0; index < operation_count; index++) {
    const auto client = static_cast<uint32_t>(index % client_count);
    Planned& next = planned.emplace_back();
    Operation& operation = next.operation;
    operation.id = index + 1;
    operation.client = client;
    operation.invoke =
        client_free[client] + Duration::microseconds(static_cast<int64_t>(rng.between(0, 200)));
    const Duration latency = Duration::microseconds(static_cast<int64_t>(rng.between(50, 2000)));
    operation.complete = operation.invoke + latency;
    next.effect = operation.invoke + Duration::nanoseconds(static_cast<int64_t>(
                                         rng.uniform(static_cast<uint64_t>(latency.ns()) + 1)));
    client_free[client] = *operation.complete;
    const Key key = "key" + std::to_string(rng.uniform(key_count));
    const uint64_t fate = rng.uniform(100);
    operation.outcome = fate < 2 ? Outcome::failed : fate < 4 ? Outcome::unknown : Outcome::ok;
    if (operation.outcome == Outcome::unknown) operation.complete.reset();
    if (rng.one_in(2)) {
      operation.reads.push_back(ReadResult::missing(key));
      continue;
    }
    const Value value = distinct_values ? "value" + std::to_string(index)
                                        : std::string(1, static_cast<char>('a' + rng.uniform(3)));
    operation.writes.push_back(Write::put(key, value));
    next.applies = operation.outcome == Outcome::ok ||
                   (operation.outcome == Outcome::unknown && rng.one_in(2));
  }
  std::stable_sort(planned.begin(), planned.end(), [](const Planned& left, const Planned& right) {
    return left.effect < right.effect;
  });
  std::map<Key, Value> store;
  uint64_t commit_counter = 0;
  History history;
  for (Planned& next : planned) {
    for (ReadResult& read : next.operation.reads) {
      const auto found = store.find(read.key);
      if (found != store.end()) read.value = found->second;
    }
    if (next.applies) {
      store[next.operation.writes[0].key] = *next.operation.writes[0].value;
      commit_counter++;
      if (next.operation.outcome == Outcome::ok) {
        next.operation.commit_counter = CommitCounter(commit_counter);
      }
    }
    history.push_back(std::move(next.operation));
  }
  return history;
}

TEST(Linearizability, TenThousandOperationsOnFiveKeysFromTenClients) {
  for (const bool distinct_values : {true, false}) {
    const History history = simulated_history(42, 10'000, 5, 10, distinct_values);
    const LinearizabilityReport report = check_linearizability(history);
    EXPECT_EQ(report.verdict, Verdict::linearizable) << report.explain(history);
    EXPECT_EQ(report.keys.size(), 5u);
  }
}

TEST(Linearizability, TenThousandOperationsOnOneKeyWithAPlantedStaleRead) {
  History history = simulated_history(7, 10'000, 1, 10, true);
  // The last answered read that saw a value now sees the first value written: stale.
  const auto first_put = std::find_if(history.begin(), history.end(), [](const Operation& op) {
    return op.outcome == Outcome::ok && !op.writes.empty();
  });
  for (auto operation = history.rbegin(); operation != history.rend(); ++operation) {
    if (operation->outcome != Outcome::ok || operation->reads.empty()) continue;
    if (!operation->reads[0].value || operation->invoke < *first_put->complete) continue;
    operation->reads[0].value = first_put->writes[0].value;
    break;
  }
  const LinearizabilityReport report = check_linearizability(history);
  EXPECT_EQ(report.verdict, Verdict::violation) << report.explain(history);
}

// ---- Property: histories from a sequential model ----

// A register store run sequentially; every operation takes effect at its own instant, inside
// an interval drawn around it, so the history is linearizable by construction.
struct GeneratedHistory {
  History history;
  std::vector<size_t> ok_reads;  // Indexes of ok read operations.
};

struct ModelValue {
  Value value;
  CommitCounter version;
};

GeneratedHistory generate_history() {
  const auto key_count = *rc::gen::inRange<size_t>(1, 4);
  const auto client_count = *rc::gen::inRange<uint32_t>(1, 6);
  const auto operation_count = *rc::gen::inRange<size_t>(1, 40);
  // Few distinct values make the search work (equal values from different writes).
  const bool few_values = *rc::gen::arbitrary<bool>();
  auto key_gen = rc::gen::map(rc::gen::inRange<size_t>(0, key_count),
                              [](size_t index) { return "k" + std::to_string(index); });

  std::map<Key, ModelValue> store;
  uint64_t commit_counter = 0;
  GeneratedHistory generated;
  for (size_t index = 0; index <= operation_count; index++) {
    Operation operation;
    operation.id = index + 1;
    operation.client = *rc::gen::inRange<uint32_t>(0, client_count);
    const int64_t instant_us = 100 * static_cast<int64_t>(index) + 50;
    operation.invoke = Instant::from_ns(1000 * (instant_us - *rc::gen::inRange<int64_t>(0, 300)));
    operation.complete = Instant::from_ns(1000 * (instant_us + *rc::gen::inRange<int64_t>(0, 300)));
    // The last operation reads every key, so that there is always a read to corrupt.
    const int kind = index == operation_count ? 0 : *rc::gen::inRange(0, 6);
    const Key key = *key_gen;
    if (kind == 0) {
      for (size_t key_index = 0; key_index < key_count; key_index++) {
        operation.reads.push_back(ReadResult::missing("k" + std::to_string(key_index)));
      }
    } else if (kind == 1) {
      operation.reads.push_back(ReadResult::missing(key));
    } else {
      const Value value = few_values
                              ? std::string(1, static_cast<char>('a' + *rc::gen::inRange(0, 3)))
                              : "v" + std::to_string(index);
      if (kind == 5) {
        operation.writes.push_back(Write::remove(key));
      } else {
        operation.writes.push_back(Write::put(key, value));
      }
      if (kind == 3) operation.writes.push_back(Write::put(*key_gen, value));  // Multi-key.
      if (kind == 4) {
        const auto found = store.find(key);
        const int condition_kind = *rc::gen::inRange(0, 3);
        if (condition_kind == 0) {
          operation.conditions.push_back(Condition::absent(key));
        } else if (condition_kind == 1) {
          const bool matching = found != store.end() && *rc::gen::arbitrary<bool>();
          operation.conditions.push_back(
              Condition::value_equals(key, matching ? found->second.value : "a"));
        } else {
          const bool matching = found != store.end() && *rc::gen::arbitrary<bool>();
          operation.conditions.push_back(Condition::version_equals(
              key, matching ? found->second.version : CommitCounter(commit_counter)));
        }
      }
    }

    // Evaluate at the operation's instant.
    bool conditions_hold = true;
    for (const Condition& condition : operation.conditions) {
      const auto found = store.find(condition.key);
      switch (condition.kind) {
        case Condition::Kind::absent:
          conditions_hold &= found == store.end();
          break;
        case Condition::Kind::value_equals:
          conditions_hold &= found != store.end() && found->second.value == condition.value;
          break;
        case Condition::Kind::version_equals:
          conditions_hold &= found != store.end() && found->second.version == condition.version;
          break;
      }
    }
    for (ReadResult& read : operation.reads) {
      const auto found = store.find(read.key);
      if (found != store.end()) {
        read.value = found->second.value;
        if (*rc::gen::arbitrary<bool>()) read.version = found->second.version;
      }
    }
    // 0: failed, 1-2: unknown, else ok. The final read of every key is always answered.
    const int fate = index == operation_count ? 9 : *rc::gen::inRange(0, 10);
    operation.outcome = fate == 0 ? Outcome::failed : fate <= 2 ? Outcome::unknown : Outcome::ok;
    if (operation.outcome == Outcome::unknown && *rc::gen::arbitrary<bool>()) {
      operation.complete.reset();
    }
    const bool writes = !operation.writes.empty();
    const bool applies = writes && conditions_hold &&
                         (operation.outcome == Outcome::ok ||
                          (operation.outcome == Outcome::unknown && *rc::gen::arbitrary<bool>()));
    if (applies) {
      commit_counter++;
      for (const Write& write : operation.writes) {
        if (write.value) {
          store[write.key] = ModelValue{*write.value, CommitCounter(commit_counter)};
        } else {
          store.erase(write.key);
        }
      }
      if (operation.outcome == Outcome::ok && *rc::gen::inRange(0, 5) != 0) {
        operation.commit_counter = CommitCounter(commit_counter);
      }
    }
    if (operation.outcome == Outcome::ok && !conditions_hold) operation.condition_failed = true;
    if (operation.outcome == Outcome::ok && !operation.reads.empty()) {
      generated.ok_reads.push_back(generated.history.size());
    }
    generated.history.push_back(std::move(operation));
  }
  return generated;
}

RC_GTEST_PROP(LinearizabilityProperty, HistoriesFromASequentialModelPass, ()) {
  const GeneratedHistory generated = generate_history();
  const LinearizabilityReport report = check_linearizability(generated.history);
  RC_ASSERT(report.verdict == Verdict::linearizable);
}

RC_GTEST_PROP(LinearizabilityProperty, ReadOfAValueNeverWrittenFails, ()) {
  GeneratedHistory generated = generate_history();
  RC_ASSERT(!generated.ok_reads.empty());
  const size_t corrupted = *rc::gen::elementOf(generated.ok_reads);
  std::vector<ReadResult>& reads = generated.history[corrupted].reads;
  ReadResult& read = reads[*rc::gen::inRange<size_t>(0, reads.size())];
  read.value = "never written";
  const LinearizabilityReport report = check_linearizability(generated.history);
  RC_ASSERT(report.verdict == Verdict::violation);
  RC_ASSERT(report.first_problem()->key == read.key);
}

// The order in which the recorder listed operations does not matter.
RC_GTEST_PROP(LinearizabilityProperty, VerdictIgnoresListOrder, ()) {
  GeneratedHistory generated = generate_history();
  if (!generated.ok_reads.empty() && *rc::gen::arbitrary<bool>()) {
    generated.history[generated.ok_reads.front()].reads.front().value = "never written";
  }
  const Verdict verdict = check_linearizability(generated.history).verdict;
  History shuffled = generated.history;
  const auto rotation = *rc::gen::inRange<size_t>(0, shuffled.size());
  std::rotate(shuffled.begin(), shuffled.begin() + static_cast<ptrdiff_t>(rotation),
              shuffled.end());
  std::reverse(shuffled.begin(), shuffled.end());
  RC_ASSERT(check_linearizability(shuffled).verdict == verdict);
}

// ---- Property: agreement with a brute-force search on small random histories ----

// Random single-key histories over two values and, if `versions`, a few commit counters.
History random_small_history(bool versions) {
  const auto operation_count = *rc::gen::inRange<size_t>(1, 7);
  auto value_gen = rc::gen::element<Value>("a", "b");
  History history;
  for (size_t index = 0; index < operation_count; index++) {
    Operation operation;
    operation.id = index + 1;
    operation.client = static_cast<uint32_t>(index);
    const auto invoke = *rc::gen::inRange<int64_t>(0, 10);
    operation.invoke = Instant::from_ns(invoke);
    operation.complete = Instant::from_ns(invoke + *rc::gen::inRange<int64_t>(0, 6));
    const int fate = *rc::gen::inRange(0, 6);
    operation.outcome = fate == 0 ? Outcome::failed : fate == 1 ? Outcome::unknown : Outcome::ok;
    if (operation.outcome == Outcome::unknown && *rc::gen::arbitrary<bool>()) {
      operation.complete.reset();
    }
    auto version_gen = rc::gen::construct<CommitCounter>(rc::gen::inRange<uint64_t>(1, 4));
    const bool with_version = versions && *rc::gen::arbitrary<bool>();
    switch (*rc::gen::inRange(0, 5)) {
      case 0: {
        const bool found = *rc::gen::inRange(0, 3) != 0;
        operation.reads.push_back(found ? ReadResult::found("k", *value_gen)
                                        : ReadResult::missing("k"));
        if (found && with_version) operation.reads[0].version = *version_gen;
        break;
      }
      case 4:
        operation.conditions.push_back(versions ? Condition::version_equals("k", *version_gen)
                                                : Condition::absent("k"));
        operation.writes.push_back(Write::put("k", *value_gen));
        operation.condition_failed =
            operation.outcome == Outcome::ok && *rc::gen::inRange(0, 3) == 0;
        break;
      case 1:
        operation.writes.push_back(Write::put("k", *value_gen));
        break;
      case 2:
        operation.writes.push_back(Write::remove("k"));
        break;
      default:
        operation.conditions.push_back(*rc::gen::arbitrary<bool>()
                                           ? Condition::value_equals("k", *value_gen)
                                           : Condition::absent("k"));
        operation.writes.push_back(Write::put("k", *value_gen));
        operation.condition_failed =
            operation.outcome == Outcome::ok && *rc::gen::inRange(0, 3) == 0;
    }
    if (with_version && !operation.writes.empty() && operation.outcome == Outcome::ok &&
        !operation.condition_failed) {
      operation.commit_counter = *version_gen;
    }
    history.push_back(std::move(operation));
  }
  return history;
}

// The checker's register model, written again plainly: the value, its version (0: not known)
// and the highest known version written.
TEST(Linearizability, TwoWritesOfOneWriteSetShareItsVersion) {
  // Goal: two transactions sealed into one write set both carry its commit counter as version;
  // the later one wins, and a read of it reports that version.
  History history;
  Operation first;
  first.client = 1;
  first.id = 1;
  first.invoke = Instant::from_ns(0);
  first.complete = Instant::from_ns(100);
  first.outcome = Outcome::ok;
  first.writes.push_back(Write::put("k", "a"));
  first.commit_counter = CommitCounter(7);
  Operation second = first;
  second.client = 2;
  second.id = 2;
  second.writes = {Write::put("k", "b")};
  Operation read;
  read.client = 3;
  read.id = 3;
  read.invoke = Instant::from_ns(200);
  read.complete = Instant::from_ns(300);
  read.outcome = Outcome::ok;
  read.reads.push_back(ReadResult::found("k", "b", CommitCounter(7)));
  history = {first, second, read};
  EXPECT_EQ(check_linearizability(history).verdict, Verdict::linearizable);
  // A version below one already written is still a violation.
  history[2].reads[0] = ReadResult::found("k", "b", CommitCounter(6));
  EXPECT_EQ(check_linearizability(history).verdict, Verdict::violation);
}

struct BruteForceRegister {
  std::optional<Value> value;
  uint64_t version = 0;
  uint64_t floor = 0;

  // A version reported for the present value.
  bool learn(uint64_t reported) {
    if (version != 0) return version == reported;
    if (reported < floor) return false;  // Equal: a write of the same write set.
    version = floor = reported;
    return true;
  }
  // 1: true, 0: false, -1: cannot tell (a version condition on a value of unknown version).
  int evaluate(const Condition& condition) const {
    switch (condition.kind) {
      case Condition::Kind::absent:
        return !value.has_value();
      case Condition::Kind::value_equals:
        return value == condition.value;
      case Condition::Kind::version_equals:
        if (!value) return 0;
        return version == 0 ? -1 : version == condition.version.value();
    }
    return 0;
  }
  bool apply(const Operation& operation) {
    if (operation.condition_failed) {
      return std::any_of(operation.conditions.begin(), operation.conditions.end(),
                         [&](const Condition& condition) { return evaluate(condition) != 1; });
    }
    for (const Condition& condition : operation.conditions) {
      const int truth = evaluate(condition);
      if (truth == 0 || (truth == -1 && !learn(condition.version.value()))) return false;
    }
    for (const ReadResult& read : operation.reads) {
      if (read.value != value) return false;
      if (value && read.version && !learn(read.version->value())) return false;
    }
    if (operation.writes.empty()) return true;
    const uint64_t written = operation.outcome == Outcome::ok && operation.commit_counter
                                 ? operation.commit_counter->value()
                                 : 0;
    if (written != 0) {
      if (written < floor) return false;  // Equal: two writes of one write set.
      floor = written;
    }
    value = operation.writes.back().value;
    version = value ? written : 0;
    return true;
  }
};

// Tries every subset of the unknown operations and every order of the chosen ones.
bool brute_force_linearizable(const History& history) {
  std::vector<const Operation*> definite;
  std::vector<const Operation*> unknown;
  for (const Operation& operation : history) {
    if (operation.outcome == Outcome::ok) definite.push_back(&operation);
    if (operation.outcome == Outcome::unknown) unknown.push_back(&operation);
  }
  auto complete_of = [](const Operation* operation) {
    return operation->outcome == Outcome::unknown ? Instant::max() : *operation->complete;
  };
  auto explains = [&](const std::vector<const Operation*>& order) {
    for (size_t later = 0; later < order.size(); later++) {
      for (size_t earlier = 0; earlier < later; earlier++) {
        if (complete_of(order[later]) < order[earlier]->invoke) return false;
      }
    }
    // An unknown operation whose condition fails is the same as one left out.
    BruteForceRegister state;
    for (const Operation* operation : order) {
      if (!state.apply(*operation)) return false;
    }
    return true;
  };
  for (uint32_t subset = 0; subset < (1u << unknown.size()); subset++) {
    std::vector<const Operation*> chosen = definite;
    for (size_t index = 0; index < unknown.size(); index++) {
      if ((subset >> index) & 1) chosen.push_back(unknown[index]);
    }
    std::sort(chosen.begin(), chosen.end());
    do {
      if (explains(chosen)) return true;
    } while (std::next_permutation(chosen.begin(), chosen.end()));
  }
  return false;
}

RC_GTEST_PROP(LinearizabilityProperty, AgreesWithBruteForce, ()) {
  const History history = random_small_history(*rc::gen::arbitrary<bool>());
  const bool expected = brute_force_linearizable(history);
  const LinearizabilityReport report = check_linearizability(history);
  RC_CLASSIFY(expected, "linearizable");
  RC_ASSERT(report.verdict == (expected ? Verdict::linearizable : Verdict::violation));
}

}  // namespace
}  // namespace quire::harness
