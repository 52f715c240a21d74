// See linearizability.h and docs/harness.md, "Linearizability checker".
#include "harness/linearizability.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string_view>

#include "io/base/text.h"

namespace quire::harness {

const char* verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::linearizable:
      return "linearizable";
    case Verdict::violation:
      return "violation";
    case Verdict::unknown:
      return "unknown";
  }
  QUIRE_UNREACHABLE();
}

namespace {

// ---- The per-key problem: operations projected onto one key, values interned ----

constexpr uint32_t absent_value_id = 0;

// The register of one key. Versions are commit counters; 0 means "not known" (or absent).
struct RegisterState {
  uint32_t value_id = absent_value_id;
  uint64_t version = 0;
  // The highest known version written so far: writes commit in counter order, so a known
  // version placed after it must not be lower (two writes of one write set share a version).
  uint64_t floor = 0;

  bool operator==(const RegisterState&) const = default;
};

struct KeyCondition {
  Condition::Kind kind = Condition::Kind::absent;
  uint32_t value_id = absent_value_id;
  uint64_t version = 0;
};

struct KeyRead {
  uint32_t value_id = absent_value_id;  // absent_value_id: the key was absent.
  uint64_t version = 0;                 // 0: not reported.
};

// One operation's projection onto one key.
struct KeyOperation {
  size_t history_index = 0;
  bool definite = false;  // ok (it must be placed); otherwise unknown (it may be placed).
  bool condition_failed = false;
  std::vector<KeyCondition> conditions;
  std::vector<KeyRead> reads;
  bool writes = false;
  uint32_t written_value_id = absent_value_id;  // absent_value_id: a remove.
  uint64_t version = 0;                         // Of the write; 0: not known.
};

// Interns a key's values so that the search compares integers. The views point into the history.
class ValueTable {
 public:
  uint32_t intern(std::string_view value) {
    const auto [position, inserted] =
        ids_.try_emplace(value, static_cast<uint32_t>(values_.size()));
    if (inserted) values_.push_back(value);
    return position->second;
  }
  std::string_view value(uint32_t value_id) const {
    QUIRE_ASSERT(value_id != absent_value_id && value_id < values_.size());
    return values_[value_id];
  }

 private:
  std::map<std::string_view, uint32_t> ids_;
  std::vector<std::string_view> values_{std::string_view()};  // Index 0 is "absent".
};

struct KeyProblem {
  std::string_view key;
  // Definite operations first, then unknown ones; each group in invocation order.
  std::vector<KeyOperation> operations;
  size_t definite_count = 0;
  size_t dropped_unknown_count = 0;
  ValueTable values;
};

// The keys an operation's projection touches, sorted and distinct. Failed operations touch none.
// A condition-failed transaction tells only that some condition was false: with conditions on one
// key that is a fact about that key, with several it is a fact about none of them alone.
std::set<std::string_view> projected_keys(const Operation& operation) {
  std::set<std::string_view> keys;
  if (operation.outcome == Outcome::failed) return keys;
  if (operation.condition_failed) {
    for (const Condition& condition : operation.conditions)
      keys.insert(condition.key);
    if (keys.size() > 1) keys.clear();
    return keys;
  }
  // An unknown operation's answer is not known, so only its writes can matter to a key.
  for (const Write& write : operation.writes)
    keys.insert(write.key);
  if (operation.outcome == Outcome::unknown) return keys;
  for (const Condition& condition : operation.conditions)
    keys.insert(condition.key);
  for (const ReadResult& read : operation.reads)
    keys.insert(read.key);
  return keys;
}

KeyOperation project(const Operation& operation, size_t history_index, std::string_view key,
                     ValueTable& values) {
  KeyOperation projected;
  projected.history_index = history_index;
  projected.definite = operation.outcome == Outcome::ok;
  projected.condition_failed = operation.condition_failed;
  for (const Condition& condition : operation.conditions) {
    if (condition.key != key) continue;
    KeyCondition& target = projected.conditions.emplace_back();
    target.kind = condition.kind;
    if (condition.kind == Condition::Kind::value_equals) {
      target.value_id = values.intern(condition.value);
    }
    target.version = condition.version.value();
  }
  if (operation.outcome == Outcome::ok) {
    for (const ReadResult& read : operation.reads) {
      if (read.key != key) continue;
      KeyRead& target = projected.reads.emplace_back();
      if (read.value.has_value()) target.value_id = values.intern(*read.value);
      if (read.version.has_value()) target.version = read.version->value();
    }
  }
  if (operation.condition_failed) return projected;
  for (const Write& write : operation.writes) {
    if (write.key != key) continue;
    // Only the last write of a key in one transaction is ever visible.
    projected.writes = true;
    projected.written_value_id = write.value ? values.intern(*write.value) : absent_value_id;
  }
  if (projected.writes && operation.outcome == Outcome::ok && operation.commit_counter) {
    projected.version = operation.commit_counter->value();
  }
  return projected;
}

// What the operations on a key can observe. An unknown write that nothing could observe can only
// make answers wrong, never explain one, so dropping it loses no linearization; that keeps the
// search from trying it at every point.
struct Observations {
  std::set<uint32_t> values;
  bool absent = false;
  bool any_version_condition = false;
  bool any_condition_failed = false;

  bool could_observe(const KeyOperation& write) const {
    if (any_condition_failed) return true;  // A false condition may be explained by any write.
    if (write.written_value_id == absent_value_id) return absent;
    return any_version_condition || values.count(write.written_value_id) > 0;
  }
};

Observations observations_of(const std::vector<KeyOperation>& operations) {
  Observations seen;
  for (const KeyOperation& operation : operations) {
    seen.any_condition_failed |= operation.condition_failed;
    for (const KeyCondition& condition : operation.conditions) {
      if (condition.kind == Condition::Kind::absent) seen.absent = true;
      if (condition.kind == Condition::Kind::version_equals) seen.any_version_condition = true;
      if (condition.kind == Condition::Kind::value_equals) seen.values.insert(condition.value_id);
    }
    for (const KeyRead& read : operation.reads) {
      if (read.value_id == absent_value_id) seen.absent = true;
      if (read.value_id != absent_value_id) seen.values.insert(read.value_id);
    }
  }
  return seen;
}

KeyProblem build_problem(std::string_view key, const History& history,
                         const std::vector<size_t>& history_indexes) {
  KeyProblem problem;
  problem.key = key;
  std::vector<KeyOperation> projected;
  for (const size_t index : history_indexes) {
    projected.push_back(project(history[index], index, key, problem.values));
  }
  const Observations seen = observations_of(projected);
  for (KeyOperation& operation : projected) {
    if (!operation.definite && !seen.could_observe(operation)) {
      problem.dropped_unknown_count++;
      continue;
    }
    problem.definite_count += operation.definite ? 1 : 0;
    problem.operations.push_back(std::move(operation));
  }
  std::stable_sort(problem.operations.begin(), problem.operations.end(),
                   [&](const KeyOperation& left, const KeyOperation& right) {
                     if (left.definite != right.definite) return left.definite;
                     return history[left.history_index].invoke <
                            history[right.history_index].invoke;
                   });
  return problem;
}

// ---- The model: one step of the register ----

enum class Truth : uint8_t { yes, no, maybe };

Truth evaluate(const RegisterState& state, const KeyCondition& condition) {
  const bool present = state.value_id != absent_value_id;
  switch (condition.kind) {
    case Condition::Kind::absent:
      return present ? Truth::no : Truth::yes;
    case Condition::Kind::value_equals:
      return present && state.value_id == condition.value_id ? Truth::yes : Truth::no;
    case Condition::Kind::version_equals:
      if (!present) return Truth::no;
      if (state.version == 0) return Truth::maybe;
      return state.version == condition.version ? Truth::yes : Truth::no;
  }
  QUIRE_UNREACHABLE();
}

// Learns that the present value's version is `version`. False if that contradicts what is known.
bool bind_version(RegisterState& state, uint64_t version) {
  QUIRE_ASSERT(state.value_id != absent_value_id);
  if (state.version != 0) return state.version == version;
  // Writes of one write set share its counter: equal to the floor is possible, below is not.
  if (version < state.floor) return false;
  state.version = version;
  state.floor = version;
  return true;
}

// A condition-failed transaction saw some condition false. A version condition on a value whose
// version is not known may have been that one: allowed, without learning anything.
bool may_have_failed(const KeyOperation& operation, const RegisterState& state) {
  return std::any_of(
      operation.conditions.begin(), operation.conditions.end(),
      [&](const KeyCondition& condition) { return evaluate(state, condition) != Truth::yes; });
}

// Applies `operation` at this point of the order. False: it cannot be placed here.
bool apply(const KeyOperation& operation, RegisterState& state) {
  if (operation.condition_failed) return may_have_failed(operation, state);
  for (const KeyCondition& condition : operation.conditions) {
    const Truth truth = evaluate(state, condition);
    if (truth == Truth::no) return false;
    if (truth == Truth::maybe && !bind_version(state, condition.version)) return false;
  }
  for (const KeyRead& read : operation.reads) {
    if (read.value_id != state.value_id) return false;
    if (read.value_id != absent_value_id && read.version != 0 &&
        !bind_version(state, read.version)) {
      return false;
    }
  }
  if (!operation.writes) return true;
  if (operation.version != 0) {
    if (operation.version < state.floor) return false;  // Equal: the same write set.
    state.floor = operation.version;
  }
  state.value_id = operation.written_value_id;
  state.version = operation.written_value_id == absent_value_id ? 0 : operation.version;
  return true;
}

std::string describe_state(const RegisterState& state, const ValueTable& values) {
  if (state.value_id == absent_value_id) {
    return concat("absent (highest version written: ", state.floor, ")");
  }
  std::string out = quote_value(std::string(values.value(state.value_id)));
  out.append(state.version != 0 ? concat(" at version ", state.version) : " at an unknown version");
  out.append(concat(" (highest version written: ", state.floor, ")"));
  return out;
}

// ---- The memo: (linearized set, state) pairs already explored ----

uint64_t mix64(uint64_t value) {
  // splitmix64's finalizer: a fixed function, so hashes (and so the search) never vary by run.
  value += 0x9e3779b97f4a7c15ULL;
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
  return value ^ (value >> 31);
}

uint64_t hash_words(std::span<const uint64_t> words) {
  uint64_t hash = words.size();
  for (const uint64_t word : words)
    hash = mix64(hash ^ word);
  return hash;
}

// An open-addressing set of variable-length records (word arrays), stored in chunks so that
// growth never copies them. A slot is 8 bytes (32 bits of hash, a 32-bit word offset): the memo
// is most of the checker's memory. Membership only: iteration order never matters.
class Memo {
 public:
  // Offsets are 32-bit word indexes.
  static constexpr size_t bytes_max = (size_t{1} << 32) * sizeof(uint64_t);

  explicit Memo(size_t record_words_max)
      : chunk_words_(std::max<size_t>(size_t{1} << 16, record_words_max * 4)), slots_(1024) {}

  // Adds `record` unless an equal one is present. Returns whether it was added.
  // REQUIRES: bytes() stays below bytes_max (the caller's budget).
  bool insert(std::span<const uint64_t> record) {
    if ((entry_count_ + 1) * 2 > slots_.size()) grow();
    const uint64_t hash = hash_words(record);
    const auto tag = static_cast<uint32_t>(hash >> 32);
    size_t position = hash & (slots_.size() - 1);
    for (;; position = (position + 1) & (slots_.size() - 1)) {
      const Slot& slot = slots_[position];
      if (slot.offset_plus_one == 0) break;
      if (slot.tag == tag && equal(slot.offset_plus_one - 1, record)) return false;
    }
    slots_[position] = Slot{tag, store(record) + 1};
    entry_count_++;
    return true;
  }

  size_t entry_count() const { return entry_count_; }
  size_t bytes() const {
    return slots_.size() * sizeof(Slot) + chunks_.size() * chunk_words_ * sizeof(uint64_t);
  }

 private:
  struct Slot {
    uint32_t tag = 0;
    uint32_t offset_plus_one = 0;  // 0: empty.
  };

  // A stored record is its length, then its words.
  std::span<const uint64_t> stored(uint32_t offset) const {
    const uint64_t* start = chunks_[offset / chunk_words_].get() + offset % chunk_words_;
    return {start + 1, static_cast<size_t>(start[0])};
  }

  bool equal(uint32_t offset, std::span<const uint64_t> record) const {
    const std::span<const uint64_t> other = stored(offset);
    return other.size() == record.size() &&
           std::memcmp(other.data(), record.data(), record.size_bytes()) == 0;
  }

  uint32_t store(std::span<const uint64_t> record) {
    const size_t needed = record.size() + 1;
    QUIRE_ASSERT(needed <= chunk_words_);
    if (chunks_.empty() || used_in_last_chunk_ + needed > chunk_words_) {
      chunks_.push_back(std::make_unique<uint64_t[]>(chunk_words_));
      used_in_last_chunk_ = 0;
    }
    const size_t offset = (chunks_.size() - 1) * chunk_words_ + used_in_last_chunk_;
    QUIRE_ASSERT(offset + needed < UINT32_MAX);
    uint64_t* target = chunks_.back().get() + used_in_last_chunk_;
    target[0] = record.size();
    std::memcpy(target + 1, record.data(), record.size_bytes());
    used_in_last_chunk_ += needed;
    return static_cast<uint32_t>(offset);
  }

  // Doubles the table; positions come from the records' hashes again.
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot{});
    for (const Slot& slot : old) {
      if (slot.offset_plus_one == 0) continue;
      size_t position = hash_words(stored(slot.offset_plus_one - 1)) & (slots_.size() - 1);
      while (slots_[position].offset_plus_one != 0) {
        position = (position + 1) & (slots_.size() - 1);
      }
      slots_[position] = slot;
    }
  }

  size_t chunk_words_;
  std::vector<Slot> slots_;
  size_t entry_count_ = 0;
  std::vector<std::unique_ptr<uint64_t[]>> chunks_;
  size_t used_in_last_chunk_ = 0;
};

// ---- The search ----

struct SearchOutcome {
  Verdict verdict = Verdict::linearizable;
  std::string unknown_reason;
  uint64_t steps = 0;
  size_t memo_entries = 0;
  size_t memo_bytes = 0;
  std::vector<uint32_t> longest_prefix;  // Operation indexes in the problem.
  RegisterState state_after_prefix;
  std::optional<uint32_t> blocked_operation;
  std::vector<uint32_t> candidates;
};

// The set of placed operations as a bitset: definite operations in the low words, unknown ones
// in the words after them. The memo stores it compactly, because a long history's search keeps a
// long fully placed prefix and a short frontier: (count of leading full words, the words from
// there to the last non-zero definite word, the unknown words).
class PlacedSet {
 public:
  PlacedSet(size_t definite_count, size_t unknown_count)
      : definite_count_(definite_count),
        definite_words_((definite_count + 63) / 64),
        words_(definite_words_ + (unknown_count + 63) / 64, 0) {
    // Bits past the last definite operation stay set, so that a fully placed word is all ones.
    if (definite_count % 64 != 0) padding_ = ~uint64_t{0} << (definite_count % 64);
    if (definite_words_ > 0) words_[definite_words_ - 1] = padding_;
    update_full_words(0);
  }

  void set(size_t operation) {
    const auto [word, mask] = position(operation);
    QUIRE_ASSERT((words_[word] & mask) == 0);
    words_[word] |= mask;
    if (word < definite_words_) {
      used_words_ = std::max(used_words_, word + 1);
      update_full_words(word);
    }
  }

  void clear(size_t operation) {
    const auto [word, mask] = position(operation);
    QUIRE_ASSERT((words_[word] & mask) != 0);
    words_[word] &= ~mask;
    if (word < definite_words_) {
      full_words_ = std::min(full_words_, word);
      while (used_words_ > 0 && words_[used_words_ - 1] == empty_word(used_words_ - 1)) {
        used_words_--;
      }
    }
  }

  // Appends the compact form (see the class comment) to `record`.
  void append_record(std::vector<uint64_t>& record) const {
    const size_t end = std::max(full_words_, used_words_);
    record.push_back(full_words_);
    record.insert(record.end(), words_.begin() + static_cast<ptrdiff_t>(full_words_),
                  words_.begin() + static_cast<ptrdiff_t>(end));
    record.insert(record.end(), words_.begin() + static_cast<ptrdiff_t>(definite_words_),
                  words_.end());
  }

  size_t record_words_max() const { return words_.size() + 1; }

 private:
  std::pair<size_t, uint64_t> position(size_t operation) const {
    const size_t bit = operation < definite_count_
                           ? operation
                           : definite_words_ * 64 + (operation - definite_count_);
    return {bit / 64, uint64_t{1} << (bit % 64)};
  }

  // A definite word with no operation placed: zero, but for the padding of the last one.
  uint64_t empty_word(size_t word) const { return word + 1 == definite_words_ ? padding_ : 0; }

  void update_full_words(size_t changed_word) {
    if (changed_word != full_words_) return;
    while (full_words_ < definite_words_ && words_[full_words_] == ~uint64_t{0})
      full_words_++;
  }

  size_t definite_count_;
  size_t definite_words_;
  std::vector<uint64_t> words_;
  uint64_t padding_ = 0;
  size_t full_words_ = 0;  // Leading definite words with every bit set.
  size_t used_words_ = 0;  // One past the last definite word with an operation placed.
};

// Lowe's just-in-time linearization over a doubly linked list of call and return entries in
// time order: walk the list; at a call, try to place its operation now (model step, then the
// memo), and if that works lift the call and its return out of the list and restart from the
// head; at a return, the operation it ends was not placed in time, so take back the last placed
// one and try the entry after it. Unknown operations have a call but no return: they may be
// placed any time after their invocation and never have to be.
class LinearizationSearch {
 public:
  LinearizationSearch(const KeyProblem& problem, const History& history, const CheckBudget& budget)
      : problem_(problem),
        budget_(budget),
        placed_(problem.definite_count, problem.operations.size() - problem.definite_count),
        memo_(placed_.record_words_max() + 3) {
    build_list(history);
  }

  SearchOutcome run();

 private:
  static constexpr uint32_t none = 0;  // Node 0 is the head; no node's `next` is the head.

  struct Node {
    uint32_t operation = 0;
    bool is_call = false;
    uint32_t match = none;  // A call's return node, if the operation has one.
    uint32_t previous = none;
    uint32_t next = none;
  };

  struct Frame {
    uint32_t call_node = none;
    RegisterState state_before;
    // A read-only operation that changed nothing: it can always be placed as early as this, so
    // no other order from this point needs to be tried once it fails (see run()).
    bool forced = false;
  };

  void build_list(const History& history);
  void lift(uint32_t call_node);
  void unlift(uint32_t call_node);
  bool try_place(uint32_t call_node);
  void take_back();
  bool over_budget(SearchOutcome& outcome) const;
  void note_progress();
  void note_blocked(uint32_t return_node);

  const KeyProblem& problem_;
  const CheckBudget& budget_;
  std::vector<Node> nodes_;
  PlacedSet placed_;
  Memo memo_;
  std::vector<uint64_t> record_;
  RegisterState state_;
  std::vector<Frame> stack_;
  size_t placed_definite_count_ = 0;
  uint64_t steps_ = 0;

  // The deepest point reached (most definite operations placed), kept for the report.
  size_t best_definite_count_ = 0;
  std::vector<uint32_t> best_prefix_;
  size_t frames_agreeing_with_best_ = 0;  // Leading frames of stack_ equal to best_prefix_.
  RegisterState best_state_;
  std::optional<uint32_t> blocked_operation_;
  std::vector<uint32_t> candidates_;
};

void LinearizationSearch::build_list(const History& history) {
  struct Event {
    Instant time;
    bool is_return;
    uint32_t operation;
  };
  std::vector<Event> events;
  for (uint32_t index = 0; index < problem_.operations.size(); index++) {
    const Operation& operation = history[problem_.operations[index].history_index];
    events.push_back(Event{operation.invoke, false, index});
    if (problem_.operations[index].definite) {
      events.push_back(Event{*operation.complete, true, index});
    }
  }
  // At equal times calls come first: the operations then count as overlapping, which is the
  // permissive reading of a tie.
  std::sort(events.begin(), events.end(), [](const Event& left, const Event& right) {
    if (left.time != right.time) return left.time < right.time;
    if (left.is_return != right.is_return) return right.is_return;
    return left.operation < right.operation;
  });
  nodes_.resize(events.size() + 1);
  std::vector<uint32_t> call_node_of(problem_.operations.size(), none);
  for (uint32_t index = 0; index < events.size(); index++) {
    const uint32_t node = index + 1;
    nodes_[node].operation = events[index].operation;
    nodes_[node].is_call = !events[index].is_return;
    nodes_[node].previous = node - 1;
    nodes_[node - 1].next = node;
    if (nodes_[node].is_call) {
      call_node_of[events[index].operation] = node;
    } else {
      QUIRE_ASSERT(call_node_of[events[index].operation] != none);
      nodes_[call_node_of[events[index].operation]].match = node;
    }
  }
}

void LinearizationSearch::lift(uint32_t call_node) {
  auto unlink = [&](uint32_t node) {
    nodes_[nodes_[node].previous].next = nodes_[node].next;
    if (nodes_[node].next != none) nodes_[nodes_[node].next].previous = nodes_[node].previous;
  };
  unlink(call_node);
  if (nodes_[call_node].match != none) unlink(nodes_[call_node].match);
}

// Dancing links: relinking in the reverse order of unlinking restores the list exactly.
void LinearizationSearch::unlift(uint32_t call_node) {
  auto relink = [&](uint32_t node) {
    nodes_[nodes_[node].previous].next = node;
    if (nodes_[node].next != none) nodes_[nodes_[node].next].previous = node;
  };
  if (nodes_[call_node].match != none) relink(nodes_[call_node].match);
  relink(call_node);
}

bool LinearizationSearch::try_place(uint32_t call_node) {
  const uint32_t operation = nodes_[call_node].operation;
  RegisterState next_state = state_;
  if (!apply(problem_.operations[operation], next_state)) return false;
  placed_.set(operation);
  record_.clear();
  placed_.append_record(record_);
  record_.push_back(next_state.value_id);
  record_.push_back(next_state.version);
  record_.push_back(next_state.floor);
  if (!memo_.insert(record_)) {
    placed_.clear(operation);  // Explored already, from another order of the same operations.
    return false;
  }
  const bool forced = !problem_.operations[operation].writes && next_state == state_;
  stack_.push_back(Frame{call_node, state_, forced});
  state_ = next_state;
  lift(call_node);
  if (problem_.operations[operation].definite) placed_definite_count_++;
  note_progress();
  return true;
}

void LinearizationSearch::take_back() {
  QUIRE_ASSERT(!stack_.empty());
  const Frame frame = stack_.back();
  stack_.pop_back();
  const uint32_t operation = nodes_[frame.call_node].operation;
  state_ = frame.state_before;
  placed_.clear(operation);
  unlift(frame.call_node);
  if (problem_.operations[operation].definite) placed_definite_count_--;
  frames_agreeing_with_best_ = std::min(frames_agreeing_with_best_, stack_.size());
}

void LinearizationSearch::note_progress() {
  if (placed_definite_count_ <= best_definite_count_) return;
  best_definite_count_ = placed_definite_count_;
  // Only the frames pushed since the stack last agreed with the best prefix are copied, so that
  // the bookkeeping costs O(1) per step amortized.
  best_prefix_.resize(frames_agreeing_with_best_);
  for (size_t index = frames_agreeing_with_best_; index < stack_.size(); index++) {
    best_prefix_.push_back(nodes_[stack_[index].call_node].operation);
  }
  frames_agreeing_with_best_ = stack_.size();
  best_state_ = state_;
  blocked_operation_.reset();
  candidates_.clear();
}

// At the best point, the first return met names the operation that could not be placed; the
// calls before it are what was tried instead.
void LinearizationSearch::note_blocked(uint32_t return_node) {
  if (blocked_operation_.has_value()) return;
  if (best_prefix_.size() != stack_.size() || frames_agreeing_with_best_ != stack_.size()) return;
  const uint32_t blocked = nodes_[return_node].operation;
  blocked_operation_ = blocked;
  for (uint32_t node = nodes_[0].next; node != return_node; node = nodes_[node].next) {
    if (nodes_[node].is_call && nodes_[node].operation != blocked) {
      candidates_.push_back(nodes_[node].operation);
    }
  }
}

bool LinearizationSearch::over_budget(SearchOutcome& outcome) const {
  if (steps_ > budget_.steps_max_per_key) {
    outcome.unknown_reason = concat("step budget of ", budget_.steps_max_per_key, " exhausted");
  } else if (memo_.bytes() > budget_.memo_bytes_max_per_key) {
    outcome.unknown_reason = concat("memo budget of ", budget_.memo_bytes_max_per_key,
                                    " bytes exhausted after ", memo_.entry_count(), " entries");
  } else {
    return false;
  }
  outcome.verdict = Verdict::unknown;
  return true;
}

SearchOutcome LinearizationSearch::run() {
  SearchOutcome outcome;
  uint32_t entry = nodes_[0].next;
  while (placed_definite_count_ < problem_.definite_count) {
    steps_++;
    if (over_budget(outcome)) break;
    // While a definite operation is unplaced its return is still in the list, ahead of any
    // entry the walk can reach.
    QUIRE_ASSERT(entry != none);
    if (nodes_[entry].is_call) {
      entry = try_place(entry) ? nodes_[0].next : nodes_[entry].next;
      continue;
    }
    note_blocked(entry);
    // Take back the last placement. Below a forced one there is nothing else to try at its
    // point: if some order placed that read-only operation later, placing it here instead is
    // just as valid (it was a candidate here, so nothing placed later had to precede it, and it
    // changes no state), so the failure of everything after it is the failure of its point too.
    uint32_t taken_back = none;
    bool forced = true;
    while (forced && !stack_.empty()) {
      taken_back = stack_.back().call_node;
      forced = stack_.back().forced;
      take_back();
    }
    if (forced) {
      outcome.verdict = Verdict::violation;
      break;
    }
    entry = nodes_[taken_back].next;
  }
  outcome.steps = steps_;
  outcome.memo_entries = memo_.entry_count();
  outcome.memo_bytes = memo_.bytes();
  if (outcome.verdict == Verdict::violation) {
    outcome.longest_prefix = best_prefix_;
    outcome.state_after_prefix = best_state_;
    outcome.blocked_operation = blocked_operation_;
    outcome.candidates = candidates_;
  }
  return outcome;
}

KeyReport check_key(std::string_view key, const History& history,
                    const std::vector<size_t>& history_indexes, const CheckBudget& budget) {
  const KeyProblem problem = build_problem(key, history, history_indexes);
  LinearizationSearch search(problem, history, budget);
  const SearchOutcome outcome = search.run();

  auto id_of = [&](uint32_t operation) {
    return history[problem.operations[operation].history_index].id;
  };
  KeyReport report;
  report.key = Key(key);
  report.verdict = outcome.verdict;
  report.operation_count = problem.operations.size() + problem.dropped_unknown_count;
  report.dropped_unknown_count = problem.dropped_unknown_count;
  report.steps = outcome.steps;
  report.memo_entries = outcome.memo_entries;
  report.memo_bytes = outcome.memo_bytes;
  report.unknown_reason = outcome.unknown_reason;
  if (outcome.verdict == Verdict::violation) {
    for (const uint32_t operation : outcome.longest_prefix) {
      report.longest_prefix.push_back(id_of(operation));
    }
    report.state_after_prefix = describe_state(outcome.state_after_prefix, problem.values);
    if (outcome.blocked_operation) report.blocked_operation = id_of(*outcome.blocked_operation);
    for (const uint32_t operation : outcome.candidates) {
      report.candidates.push_back(id_of(operation));
    }
  }
  return report;
}

}  // namespace

LinearizabilityReport check_linearizability(const History& history, const CheckBudget& budget) {
  QUIRE_ASSERT(budget.memo_bytes_max_per_key < Memo::bytes_max);
  const Status valid = validate_history(history);
  QUIRE_ASSERT_MSG(valid.ok(), valid.ok() ? "" : valid.error().to_string());

  // std::map: keys are checked, and reported, in byte order whatever the history's order.
  std::map<std::string_view, std::vector<size_t>> indexes_by_key;
  for (size_t index = 0; index < history.size(); index++) {
    for (const std::string_view key : projected_keys(history[index])) {
      indexes_by_key[key].push_back(index);
    }
  }

  LinearizabilityReport report;
  bool any_unknown = false;
  for (const auto& [key, indexes] : indexes_by_key) {
    report.keys.push_back(check_key(key, history, indexes, budget));
    const Verdict verdict = report.keys.back().verdict;
    if (verdict == Verdict::violation) report.verdict = Verdict::violation;
    any_unknown |= verdict == Verdict::unknown;
  }
  if (report.verdict != Verdict::violation && any_unknown) report.verdict = Verdict::unknown;
  return report;
}

const KeyReport* LinearizabilityReport::first_problem() const {
  for (const Verdict wanted : {Verdict::violation, Verdict::unknown}) {
    for (const KeyReport& key : keys) {
      if (key.verdict == wanted) return &key;
    }
  }
  return nullptr;
}

std::string LinearizabilityReport::explain(const History& history) const {
  // Enough context to see the story without drowning in a long prefix.
  constexpr size_t prefix_operations_shown = 8;
  constexpr size_t candidates_shown = 8;

  std::map<uint64_t, const Operation*> by_id;
  for (const Operation& operation : history)
    by_id.emplace(operation.id, &operation);
  auto describe_id = [&](uint64_t id) {
    const auto found = by_id.find(id);
    return found == by_id.end() ? concat("op ", id, " (not in this history)")
                                : describe_operation(*found->second);
  };

  uint64_t steps = 0;
  for (const KeyReport& key : keys)
    steps += key.steps;
  std::string out =
      concat("linearizability: ", verdict_name(verdict), " (", history.size(), " operations, ",
             keys.size(), keys.size() == 1 ? " key, " : " keys, ", steps, " steps)\n");
  const KeyReport* problem = first_problem();
  if (problem == nullptr) return out;

  out.append(concat("key ", quote_value(problem->key), ": ", verdict_name(problem->verdict), ", ",
                    problem->operation_count, " operations\n"));
  if (problem->verdict == Verdict::unknown) {
    out.append(concat("  ", problem->unknown_reason, "\n"));
    return out;
  }
  const size_t prefix_size = problem->longest_prefix.size();
  out.append(concat("  longest explained order: ", prefix_size, " operations"));
  out.append(prefix_size > prefix_operations_shown ? ", the last ones:\n" : ":\n");
  for (size_t index = prefix_size - std::min(prefix_size, prefix_operations_shown);
       index < prefix_size; index++) {
    out.append(concat("    ", describe_id(problem->longest_prefix[index]), "\n"));
  }
  out.append(concat("  state after it: ", problem->state_after_prefix, "\n"));
  if (problem->blocked_operation) {
    out.append(concat("  cannot place: ", describe_id(*problem->blocked_operation), "\n"));
  }
  if (!problem->candidates.empty()) {
    out.append("  concurrent with it, tried first:\n");
    for (size_t index = 0; index < std::min(problem->candidates.size(), candidates_shown);
         index++) {
      out.append(concat("    ", describe_id(problem->candidates[index]), "\n"));
    }
    if (problem->candidates.size() > candidates_shown) {
      out.append(concat("    ... and ", problem->candidates.size() - candidates_shown, " more\n"));
    }
  }
  return out;
}

}  // namespace quire::harness
