#include "tools/event_log.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "io/base/assert.h"
#include "io/base/text.h"

namespace quire::tools {
namespace {

constexpr std::array<std::string_view, 5> level_names = {"trace", "debug", "info", "warn", "error"};

// JSON text of a string. Invalid UTF-8 (a peer's group name is its own bytes) becomes U+FFFD
// rather than nlohmann's exception.
std::string json_string(const std::string& value) {
  return nlohmann::json(value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A text value stays bare while it is one plain token; otherwise it is quoted and escaped as a
// JSON string, so a reader can take it apart with any JSON parser (logfmt does the same).
bool needs_quotes(const std::string& value) {
  if (value.empty()) return true;
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= ' ' || byte >= 0x7f || c == '"' || c == '=' || c == '\\') return true;
  }
  return false;
}

std::string text_value(const FieldValue& value) {
  return std::visit(
      [](const auto& each) -> std::string {
        using T = std::decay_t<decltype(each)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return needs_quotes(each) ? json_string(each) : each;
        } else if constexpr (std::is_same_v<T, bool>) {
          return each ? "true" : "false";
        } else if constexpr (std::is_same_v<T, double>) {
          char buffer[32];
          std::snprintf(buffer, sizeof buffer, "%.3f", each);
          return buffer;
        } else {
          return std::to_string(each);
        }
      },
      value);
}

nlohmann::json json_value(const FieldValue& value) {
  return std::visit([](const auto& each) { return nlohmann::json(each); }, value);
}

void check_key(std::string_view key) {
  QUIRE_ASSERT(!key.empty());
  for (const char c : key)
    QUIRE_ASSERT((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
}

}  // namespace

Result<LogLevel> parse_log_level(std::string_view text) {
  for (size_t index = 0; index < level_names.size(); index++) {
    if (text == level_names[index]) return static_cast<LogLevel>(index);
  }
  return Error(ErrorCode::invalid_argument,
               concat("log level '", text, "' is not one of trace, debug, info, warn, error"));
}

Result<LogFormat> parse_log_format(std::string_view text) {
  if (text == "text") return LogFormat::text;
  if (text == "json") return LogFormat::json;
  return Error(ErrorCode::invalid_argument,
               concat("log format '", text, "' is not one of text, json"));
}

std::string_view level_name(LogLevel level) {
  const auto index = static_cast<size_t>(level);
  QUIRE_ASSERT(index < level_names.size());
  return level_names[index];
}

std::string rfc3339_utc(int64_t unix_ms) {
  QUIRE_ASSERT(unix_ms >= 0);
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  QUIRE_ASSERT(gmtime_r(&seconds, &utc) != nullptr);
  char buffer[40];
  const int length = std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                                   utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                                   utc.tm_min, utc.tm_sec, static_cast<int>(unix_ms % 1000));
  QUIRE_ASSERT(length == 24);
  return std::string(buffer, static_cast<size_t>(length));
}

std::string format_text_line(int64_t unix_ms, uint32_t member, const LogEvent& event) {
  std::string line = concat(rfc3339_utc(unix_ms), " ", level_name(event.level), " member=", member,
                            " event=", event.name);
  for (const auto& [key, value] : event.fields) {
    check_key(key);
    line += concat(" ", key, "=", text_value(value));
  }
  return line;
}

std::string format_json_line(int64_t unix_ms, uint32_t member, const LogEvent& event) {
  nlohmann::ordered_json line;
  line["time"] = rfc3339_utc(unix_ms);
  line["level"] = level_name(event.level);
  line["member"] = member;
  line["event"] = event.name;
  nlohmann::ordered_json fields = nlohmann::ordered_json::object();
  for (const auto& [key, value] : event.fields) {
    check_key(key);
    fields[key] = json_value(value);
  }
  line["fields"] = std::move(fields);
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

EventRateLimiter::EventRateLimiter(uint32_t lines_per_window_max, int64_t window_ms,
                                   size_t names_max)
    : lines_per_window_max_(lines_per_window_max), window_ms_(window_ms), names_max_(names_max) {
  QUIRE_ASSERT(lines_per_window_max > 0 && window_ms > 0 && names_max > 0);
}

EventRateLimiter::Window& EventRateLimiter::window_of(std::string_view name) {
  if (auto found = windows_.find(name); found != windows_.end()) return found->second;
  // Past the bound, every new name shares the window of "*".
  const std::string key = windows_.size() + 1 < names_max_ ? std::string(name) : "*";
  return windows_[key];
}

bool EventRateLimiter::admit(std::string_view name, LogLevel level, int64_t now_ms) {
  Window& window = window_of(name);
  if (now_ms - window.begin_ms >= window_ms_ && window.suppressed_count == 0) {
    window.begin_ms = now_ms;
    window.admitted_count = 0;
  }
  if (now_ms - window.begin_ms < window_ms_ && window.admitted_count < lines_per_window_max_) {
    window.admitted_count++;
    return true;
  }
  // A window that ended with lines suppressed waits for take_ended() to report them.
  window.suppressed_count++;
  if (level > window.level) window.level = level;
  QUIRE_ASSERT(windows_.size() <= names_max_);
  return false;
}

std::vector<EventRateLimiter::Summary> EventRateLimiter::take_ended(int64_t now_ms) {
  std::vector<Summary> ended;
  for (auto& [name, window] : windows_) {
    if (window.suppressed_count == 0 || now_ms - window.begin_ms < window_ms_) continue;
    ended.push_back(Summary{name, window.level, window.suppressed_count});
    // The next window starts now and counts from zero: the summary was its first line.
    window = Window{now_ms, 1, 0, LogLevel::info};
  }
  return ended;
}

EventLog::EventLog(uint32_t member, EventLogOptions options, Sink sink, Clock clock)
    : member_(member),
      options_(options),
      sink_(std::move(sink)),
      clock_(std::move(clock)),
      limiter_(options.lines_per_second_per_event, 1000, 256) {
  QUIRE_ASSERT(sink_ && clock_);
}

EventLog::Sink EventLog::stderr_sink() {
  return [](std::string_view line) {
    std::string out(line);
    out += '\n';
    // One write per line, so that lines from a second thread (none today) never interleave.
    // A log that cannot be written is no reason to stop the node.
    [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, out.data(), out.size());
  };
}

EventLog::Clock EventLog::wall_clock() {
  return [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
}

void EventLog::log(LogLevel level, std::string_view name, EventFields fields) {
  if (!enabled(level)) return;
  const int64_t now_ms = clock_();
  flush_suppressed();
  if (!limiter_.admit(name, level, now_ms)) return;
  write(LogEvent{level, std::string(name), std::move(fields)}, now_ms);
}

void EventLog::flush_suppressed() {
  const int64_t now_ms = clock_();
  for (EventRateLimiter::Summary& summary : limiter_.take_ended(now_ms)) {
    write(
        LogEvent{
            summary.level, std::move(summary.name), {{"suppressed", summary.suppressed_count}}},
        now_ms);
  }
}

void EventLog::write(const LogEvent& event, int64_t now_ms) {
  sink_(options_.format == LogFormat::json ? format_json_line(now_ms, member_, event)
                                           : format_text_line(now_ms, member_, event));
}

}  // namespace quire::tools
