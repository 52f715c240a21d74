// History: what the simulated clients saw — every operation on the key-value store with its
// invocation and completion times and its outcome. The linearizability checker
// (harness/linearizability.h) judges it, and the timeline (harness/timeline.h) draws it.
// See docs/harness.md, "Linearizability checker".
//
// The vocabulary follows the client protocol (engine/wire/wire.proto): a transaction is a list
// of conditions and a list of writes, applied atomically when every condition holds; a read
// returns, per key, the value and the version (the commit counter that last wrote the key) or
// "absent". Keys and values are byte strings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/base/ids.h"
#include "io/base/result.h"

namespace quire::harness {

using Key = std::string;
using Value = std::string;

// How an operation ended, from the client's point of view.
enum class Outcome : uint8_t {
  ok,       // It took effect (a transaction whose condition failed is ok too: see Operation).
  failed,   // It surely did not take effect (not_leader, unavailable, busy, invalid, ...).
  unknown,  // It may or may not have taken effect, at any time after its invocation.
};

const char* outcome_name(Outcome outcome);

struct Condition {
  enum class Kind : uint8_t { value_equals, version_equals, absent };

  Key key;
  Kind kind = Kind::absent;
  Value value;            // value_equals only.
  CommitCounter version;  // version_equals only.

  static Condition value_equals(Key key, Value value);
  static Condition version_equals(Key key, CommitCounter version);
  static Condition absent(Key key);
};

struct Write {
  Key key;
  std::optional<Value> value;  // Absent: remove the key.

  static Write put(Key key, Value value);
  static Write remove(Key key);
};

// One key of a read's answer.
struct ReadResult {
  Key key;
  std::optional<Value> value;            // Absent: the key does not exist.
  std::optional<CommitCounter> version;  // Absent: not reported; the checker ignores it.

  static ReadResult found(Key key, Value value, std::optional<CommitCounter> version = {});
  static ReadResult missing(Key key);
};

// One client operation: a transaction (conditions and writes) or a read (reads), never both in
// the client protocol, though the checker accepts both (conditions and reads see the state before
// the writes).
struct Operation {
  uint32_t client = 0;
  uint64_t id = 0;  // Unique within the history.
  Instant invoke;
  // When the client learned the outcome. Absent: never (the run ended first). The checker treats
  // an unknown operation as possibly taking effect at any time after `invoke`, whatever this says.
  std::optional<Instant> complete;
  Outcome outcome = Outcome::unknown;
  // Only with Outcome::ok: some condition was false, so nothing was written. The operation still
  // happened: it observed the state at one instant.
  bool condition_failed = false;

  std::vector<Condition> conditions;
  std::vector<Write> writes;
  // With Outcome::ok: the answer, one entry per key read. Otherwise the keys asked (values are
  // ignored: the answer is not known).
  std::vector<ReadResult> reads;
  // With Outcome::ok and writes applied: the commit counter of the write set that carried them,
  // which becomes every written key's version. Absent: not known; versions are then unchecked.
  // Ignored on failed, unknown and condition-failed operations (they wrote nothing known).
  std::optional<CommitCounter> commit_counter;

  // With Outcome::failed: the client gave up (no member answered definitely before its
  // deadline), rather than a member refusing the request definitely.
  bool gave_up = false;
  // The members this client could reach for the whole operation, as the simulator saw it (up,
  // running, no link between them blocked, nothing changed in between). The availability checker
  // reads it; other recorders leave it empty.
  std::vector<NodeId> reachable_throughout;
};

using History = std::vector<Operation>;

// Rules a recorder must follow: ids unique; complete >= invoke; ok and failed operations have a
// completion time; condition_failed only with ok, with at least one condition and no reads; no
// commit counter or read version 0 (a version is a commit counter >= 1). An operation with no
// condition, write or read (say, a scan that found nothing) is allowed and constrains nothing.
// Errors: invalid_argument naming the first operation that breaks a rule.
Status validate_history(const History& history);

// One line for people: `op 17 client 3 [1.200000s, 1.450000s] ok @12: if k=="a" put k="b"`.
// Values longer than a few dozen bytes are cut, and bytes that are not printable are escaped, so
// that the line stays short and plain.
std::string describe_operation(const Operation& operation);
// The operation without its id, client and times: `if k=="a" put k="b"`.
std::string describe_body(const Operation& operation);
// A value quoted for a report: "abc", "a\x00b", "xxxx...(1048576 bytes)".
std::string quote_value(const std::string& value);
// Seconds with microseconds, "1.250000s", for virtual times in reports.
std::string format_instant(Instant instant);

}  // namespace quire::harness
