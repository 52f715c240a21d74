// quired's event log (docs/operations.md, "Logs"): one line per event, with its UTC time
// (RFC 3339, milliseconds), level, member id, event name and fields, as text
// (`time level member=N event=NAME key=value ...`, values quoted when they need it) or as JSON
// lines (`{"time":..,"level":..,"member":..,"event":..,"fields":{..}}`). A level filter drops
// what the operator did not ask for, and a per-event rate limit keeps a flood (a peer retrying a
// wrong token a thousand times a second) from filling the disk: past the limit, the lines of that
// event are counted, and one summary line (`suppressed=K`) follows when its window ends.
//
// Lives in tools/, not in the engine: the daemon observes the node and logs, the simulator never
// sees this (docs/operations.md says why). Single-threaded: called on the runtime's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "io/base/result.h"

namespace quire::tools {

enum class LogLevel { trace, debug, info, warn, error };
enum class LogFormat { text, json };

// "trace" ... "error"; an error names the value and the choices.
Result<LogLevel> parse_log_level(std::string_view text);
// "text" or "json".
Result<LogFormat> parse_log_format(std::string_view text);
std::string_view level_name(LogLevel level);

// A field's value: numbers stay numbers in JSON lines.
using FieldValue = std::variant<uint64_t, int64_t, double, bool, std::string>;
using EventFields = std::vector<std::pair<std::string, FieldValue>>;

struct LogEvent {
  LogLevel level = LogLevel::info;
  std::string name;
  EventFields fields;
};

// "2026-12-03T15:38:35.123Z" for milliseconds since the Unix epoch.
std::string rfc3339_utc(int64_t unix_ms);
// One line, without its newline. Keys are written as given; REQUIRES: keys are [a-z0-9_]+.
std::string format_text_line(int64_t unix_ms, uint32_t member, const LogEvent& event);
std::string format_json_line(int64_t unix_ms, uint32_t member, const LogEvent& event);

// At most `lines_per_window_max` lines per event name in each window of `window_ms`; beyond
// that, a count. Remembers at most `names_max` names (a name beyond them shares one window with
// the others), so its memory is bounded whatever it is fed.
class EventRateLimiter {
 public:
  struct Summary {
    std::string name;
    LogLevel level = LogLevel::info;
    uint64_t suppressed_count = 0;
  };

  EventRateLimiter(uint32_t lines_per_window_max, int64_t window_ms, size_t names_max);
  // Whether a line of `name` may be written now; if not, it is counted.
  bool admit(std::string_view name, LogLevel level, int64_t now_ms);
  // The summaries of windows that ended by `now_ms` with lines suppressed, each once.
  std::vector<Summary> take_ended(int64_t now_ms);
  size_t names_count() const { return windows_.size(); }

 private:
  struct Window {
    int64_t begin_ms = 0;
    uint32_t admitted_count = 0;
    uint64_t suppressed_count = 0;
    LogLevel level = LogLevel::info;  // The most severe level suppressed.
  };
  Window& window_of(std::string_view name);

  uint32_t lines_per_window_max_;
  int64_t window_ms_;
  size_t names_max_;
  std::map<std::string, Window, std::less<>> windows_;
};

struct EventLogOptions {
  LogLevel level_min = LogLevel::info;
  LogFormat format = LogFormat::text;
  uint32_t lines_per_second_per_event = 20;
};

class EventLog {
 public:
  using Sink = std::function<void(std::string_view line)>;  // One line, without its newline.
  using Clock = std::function<int64_t()>;                   // Milliseconds since the epoch.

  EventLog(uint32_t member, EventLogOptions options, Sink sink, Clock clock);
  // Writes each line with one write(2) to stderr, and reads the wall clock.
  static Sink stderr_sink();
  static Clock wall_clock();

  bool enabled(LogLevel level) const { return level >= options_.level_min; }
  void log(LogLevel level, std::string_view name, EventFields fields = {});
  // Writes the summaries of rate-limit windows that have ended; the daemon calls it on each
  // poll so that a flood that stops still reports its count.
  void flush_suppressed();

 private:
  void write(const LogEvent& event, int64_t now_ms);

  uint32_t member_;
  EventLogOptions options_;
  Sink sink_;
  Clock clock_;
  EventRateLimiter limiter_;
};

}  // namespace quire::tools
