// Strong types for the identifiers and units every layer shares, so that a term cannot be passed
// where a commit counter is expected, and time always carries its unit (nanoseconds).
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace quire {

template <class Tag, class Rep>
class StrongInt {
 public:
  using rep = Rep;
  constexpr StrongInt() = default;
  constexpr explicit StrongInt(Rep value) : value_(value) {}

  constexpr Rep value() const { return value_; }
  constexpr StrongInt next() const { return StrongInt(value_ + 1); }
  constexpr StrongInt prev() const { return StrongInt(value_ - 1); }
  constexpr auto operator<=>(const StrongInt&) const = default;

 private:
  Rep value_ = 0;
};

struct NodeIdTag;
struct TermTag;
struct CommitCounterTag;
struct TicksTag;

// A member of a replication group; 0 is "none" (no vote, no leader known).
using NodeId = StrongInt<NodeIdTag, uint32_t>;
// The quorum token: raised by every election, stamped on every block and message.
using Term = StrongInt<TermTag, uint64_t>;
// The number of the commit point; commit point 0 is the empty journal.
using CommitCounter = StrongInt<CommitCounterTag, uint64_t>;
// The engine core's unit of time: one Tick input per tick interval.
using Ticks = StrongInt<TicksTag, uint64_t>;

inline constexpr NodeId node_none{0};

// A span of time in nanoseconds. Signed so that differences are natural; durations are never
// negative where the code uses them as such (asserted there).
class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration nanoseconds(int64_t count) { return Duration(count); }
  static constexpr Duration microseconds(int64_t count) { return Duration(count * 1'000); }
  static constexpr Duration milliseconds(int64_t count) { return Duration(count * 1'000'000); }
  static constexpr Duration seconds(int64_t count) { return Duration(count * 1'000'000'000); }

  constexpr int64_t ns() const { return ns_; }
  constexpr int64_t us() const { return ns_ / 1'000; }
  constexpr int64_t ms() const { return ns_ / 1'000'000; }
  constexpr double seconds_double() const { return static_cast<double>(ns_) / 1e9; }

  constexpr Duration operator+(Duration other) const { return Duration(ns_ + other.ns_); }
  constexpr Duration operator-(Duration other) const { return Duration(ns_ - other.ns_); }
  constexpr Duration operator*(int64_t factor) const { return Duration(ns_ * factor); }
  constexpr Duration operator/(int64_t divisor) const { return Duration(ns_ / divisor); }
  constexpr auto operator<=>(const Duration&) const = default;

 private:
  constexpr explicit Duration(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

// A point on a node's monotonic clock, in nanoseconds since that clock's origin.
class Instant {
 public:
  constexpr Instant() = default;
  static constexpr Instant from_ns(int64_t ns) { return Instant(ns); }
  static constexpr Instant max() { return Instant(INT64_MAX); }

  constexpr int64_t ns() const { return ns_; }
  constexpr Instant operator+(Duration duration) const { return Instant(ns_ + duration.ns()); }
  constexpr Instant operator-(Duration duration) const { return Instant(ns_ - duration.ns()); }
  constexpr Duration operator-(Instant other) const {
    return Duration::nanoseconds(ns_ - other.ns_);
  }
  constexpr auto operator<=>(const Instant&) const = default;

 private:
  constexpr explicit Instant(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

}  // namespace quire

template <class Tag, class Rep>
struct std::hash<quire::StrongInt<Tag, Rep>> {
  size_t operator()(quire::StrongInt<Tag, Rep> id) const { return std::hash<Rep>{}(id.value()); }
};
