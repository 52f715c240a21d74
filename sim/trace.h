// Trace: every event of a simulation (virtual time, node, fiber, text) folded into a rolling
// XXH3 hash, so that two runs of one seed can be compared by one number. On request it keeps the
// hash after each event (to find where two runs part) and the event lines themselves, in full or
// in a window, or streams them to a file. See docs/io.md, "Trace".
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/base/checksum.h"
#include "io/base/ids.h"

namespace quire::sim {

struct TraceOptions {
  // Keep the rolling hash after each event (8 bytes an event).
  bool keep_hashes = false;
  // Keep event lines whose index is in [lines_begin, lines_end).
  uint64_t lines_begin = 0;
  uint64_t lines_end = 0;
  // Stream every line to this file (not owned); null: off.
  std::FILE* sink = nullptr;
};

class Trace {
 public:
  explicit Trace(TraceOptions options = {}) : options_(options) {}
  Trace(const Trace& other)
      : options_(other.options_),
        node_hashes_(other.node_hashes_),
        hash_(other.hash_),
        event_count_(other.event_count_),
        hashes_(other.hashes_),
        lines_(other.lines_) {}
  Trace& operator=(const Trace& other) {
    options_ = other.options_;
    node_hashes_ = other.node_hashes_;
    hash_ = other.hash_;
    event_count_ = other.event_count_;
    hashes_ = other.hashes_;
    lines_ = other.lines_;
    return *this;
  }

  // A described event.
  void record(Instant time, std::string_view node, std::string_view fiber, std::string_view event);
  // A fiber switch: hashed from numbers, and formatted only when a line is wanted.
  void record_switch(Instant time, std::string_view node, uint64_t fiber_id,
                     std::string_view fiber);

  uint64_t hash() const { return hash_; }
  uint64_t event_count() const { return event_count_; }
  const std::vector<uint64_t>& hashes() const { return hashes_; }
  // Kept lines, each "index time node fiber: event".
  const std::vector<std::string>& lines() const { return lines_; }
  const TraceOptions& options() const { return options_; }

 private:
  bool wants_line() const {
    return options_.sink != nullptr ||
           (event_count_ >= options_.lines_begin && event_count_ < options_.lines_end);
  }
  void fold(uint64_t event_hash);
  void emit(Instant time, std::string_view node, std::string_view fiber, std::string_view event);

  uint64_t node_hash(std::string_view node);

  TraceOptions options_;
  Checksummer checksummer_;  // Reused: an event must not cost an allocation.
  std::vector<std::pair<std::string, uint64_t>> node_hashes_;
  uint64_t hash_ = 0;
  uint64_t event_count_ = 0;
  std::vector<uint64_t> hashes_;
  std::vector<std::string> lines_;
};

// The index of the first event after which the two runs' rolling hashes differ, or nullopt if
// one is a prefix of the other and both have the same length.
std::optional<uint64_t> first_divergence(const std::vector<uint64_t>& left,
                                         const std::vector<uint64_t>& right);

// "12.000345678" (seconds with nanoseconds).
std::string format_time(Instant time);

}  // namespace quire::sim
