// Goal: quired's event log (tools/event_log.h) writes lines a program can read back, text and
// JSON alike, whatever a value holds; drops what the level filter excludes; and turns a flood
// into a bounded number of lines and one count. MemberEvents (tools/member_events.h) turns
// snapshots of a member into leader, election and repair events with their real values.
// Method: a sink that keeps the lines, a clock the test moves, a small logfmt reader, nlohmann's
// JSON parser.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tools/event_log.h"
#include "tools/member_events.h"

namespace quire::tools {
namespace {

struct Recorder {
  std::vector<std::string> lines;
  int64_t now_ms = 1'764'776'315'123;  // 2025-12-03T15:38:35.123Z
  EventLog make(EventLogOptions options) {
    return EventLog(
        7, options, [this](std::string_view line) { lines.emplace_back(line); },
        [this] { return now_ms; });
  }
};

// Reads `key=value key="quoted value"` back: a quoted value is a JSON string.
std::map<std::string, std::string> parse_text_line(const std::string& line) {
  std::map<std::string, std::string> out;
  size_t at = line.find(' ');
  out["time"] = line.substr(0, at);
  const size_t level_end = line.find(' ', at + 1);
  out["level"] = line.substr(at + 1, level_end - at - 1);
  at = level_end;
  while (at < line.size()) {
    EXPECT_EQ(line[at], ' ') << line;
    const size_t equals = line.find('=', at);
    const std::string key = line.substr(at + 1, equals - at - 1);
    size_t end = equals + 1;
    std::string value;
    if (line[end] == '"') {
      size_t close = end + 1;
      while (line[close] != '"')
        close += line[close] == '\\' ? 2 : 1;
      value = nlohmann::json::parse(line.substr(end, close - end + 1)).get<std::string>();
      end = close + 1;
    } else {
      end = std::min(line.find(' ', end), line.size());
      value = line.substr(equals + 1, end - equals - 1);
    }
    out[key] = value;
    at = end;
  }
  return out;
}

TEST(EventLogTest, TimeIsRfc3339UtcWithMilliseconds) {
  EXPECT_EQ(rfc3339_utc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(rfc3339_utc(1'764'776'315'123), "2025-12-03T15:38:35.123Z");
  EXPECT_EQ(rfc3339_utc(1'764'776'315'007), "2025-12-03T15:38:35.007Z");
}

TEST(EventLogTest, TextLineParsesBackWithEscapedValues) {
  const std::string awkward = "wrong group: \"a b\"\nnext=line\\end";
  const LogEvent event{LogLevel::warn,
                       "handshake_refused",
                       {{"count", uint64_t{3}},
                        {"reason", awkward},
                        {"empty", std::string()},
                        {"plain", std::string("word")},
                        {"rate", 2.5},
                        {"clean", false}}};
  const std::string line = format_text_line(1'764'776'315'123, 7, event);
  EXPECT_EQ(line.find('\n'), std::string::npos) << "a value's newline must not break the line";
  auto fields = parse_text_line(line);
  EXPECT_EQ(fields["time"], "2025-12-03T15:38:35.123Z");
  EXPECT_EQ(fields["level"], "warn");
  EXPECT_EQ(fields["member"], "7");
  EXPECT_EQ(fields["event"], "handshake_refused");
  EXPECT_EQ(fields["count"], "3");
  EXPECT_EQ(fields["reason"], awkward);
  EXPECT_EQ(fields["empty"], "");
  EXPECT_EQ(fields["plain"], "word");
  EXPECT_EQ(fields["rate"], "2.500");
  EXPECT_EQ(fields["clean"], "false");
  EXPECT_NE(line.find(" plain=word"), std::string::npos) << "a plain token stays bare: " << line;
}

TEST(EventLogTest, JsonLineParsesBackWithTypedFields) {
  const std::string awkward = "say \"hi\"\n\ttab \x01 and invalid \xff utf-8";
  const LogEvent event{
      LogLevel::error, "stop", {{"clean", false}, {"reason", awkward}, {"term", uint64_t{12}}}};
  const std::string line = format_json_line(1'764'776'315'123, 3, event);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const auto parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["time"], "2025-12-03T15:38:35.123Z");
  EXPECT_EQ(parsed["level"], "error");
  EXPECT_EQ(parsed["member"], 3);
  EXPECT_EQ(parsed["event"], "stop");
  EXPECT_EQ(parsed["fields"]["clean"], false);
  EXPECT_EQ(parsed["fields"]["term"], 12);
  const std::string reason = parsed["fields"]["reason"].get<std::string>();
  EXPECT_EQ(reason.substr(0, 19), "say \"hi\"\n\ttab \x01 and");
  EXPECT_NE(reason.find("\xEF\xBF\xBD"), std::string::npos) << "invalid UTF-8 becomes U+FFFD";
}

TEST(EventLogTest, LevelsAndFormatsParseAndNameTheBadValue) {
  EXPECT_EQ(*parse_log_level("trace"), LogLevel::trace);
  EXPECT_EQ(*parse_log_level("error"), LogLevel::error);
  EXPECT_EQ(*parse_log_format("json"), LogFormat::json);
  auto bad = parse_log_level("loud");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("'loud'"), std::string::npos);
  EXPECT_FALSE(parse_log_format("xml").ok());
}

TEST(EventLogTest, LevelFilterDropsLessSevereEvents) {
  Recorder recorder;
  EventLog log = recorder.make({LogLevel::warn, LogFormat::text, 20});
  log.log(LogLevel::debug, "election_started");
  log.log(LogLevel::info, "leader_changed");
  log.log(LogLevel::warn, "handshake_refused");
  log.log(LogLevel::error, "stop");
  ASSERT_EQ(recorder.lines.size(), 2u);
  EXPECT_NE(recorder.lines[0].find("event=handshake_refused"), std::string::npos);
  EXPECT_NE(recorder.lines[1].find("event=stop"), std::string::npos);
}

TEST(EventLogTest, FloodIsCappedPerEventAndItsCountReported) {
  Recorder recorder;
  EventLog log = recorder.make({LogLevel::info, LogFormat::json, 5});
  for (int each = 0; each < 1000; each++) {
    log.log(LogLevel::warn, "handshake_refused", {{"count", uint64_t{1}}});
  }
  log.log(LogLevel::info, "leader_changed");  // Another event is not held back by the flood.
  EXPECT_EQ(recorder.lines.size(), 6u);
  recorder.now_ms += 999;
  log.flush_suppressed();
  EXPECT_EQ(recorder.lines.size(), 6u) << "the window has not ended";
  recorder.now_ms += 1;
  log.flush_suppressed();
  ASSERT_EQ(recorder.lines.size(), 7u);
  const auto summary = nlohmann::json::parse(recorder.lines.back());
  EXPECT_EQ(summary["event"], "handshake_refused");
  EXPECT_EQ(summary["level"], "warn");
  EXPECT_EQ(summary["fields"]["suppressed"], 995);
  log.flush_suppressed();
  EXPECT_EQ(recorder.lines.size(), 7u) << "a count is reported once";
  // The next window admits again.
  log.log(LogLevel::warn, "handshake_refused");
  EXPECT_EQ(recorder.lines.size(), 8u);
}

TEST(EventLogTest, RateLimiterMemoryIsBoundedByNames) {
  EventRateLimiter limiter(1, 1000, 8);
  for (int each = 0; each < 10'000; each++) {
    (void)limiter.admit("event_" + std::to_string(each), LogLevel::info, 0);
  }
  EXPECT_LE(limiter.names_count(), 8u);
  const auto ended = limiter.take_ended(1000);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].name, "*");
  EXPECT_EQ(ended[0].suppressed_count, 10'000u - 7u - 1u);
}

MemberSnapshot follower_of(uint32_t leader, uint64_t term) {
  MemberSnapshot snapshot;
  snapshot.running = true;
  snapshot.status.role = engine::core::Role::follower;
  snapshot.status.term = Term(term);
  snapshot.status.leader = NodeId(leader);
  return snapshot;
}

TEST(MemberEventsTest, LeaderChangeAndElectionsCarryTermAndLeader) {
  Recorder recorder;
  EventLog log = recorder.make({LogLevel::info, LogFormat::json, 20});
  MemberEvents events(log);
  MemberSnapshot snapshot = follower_of(1, 4);
  events.observe(snapshot, 0);
  ASSERT_EQ(recorder.lines.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(recorder.lines[0])["event"], "member_running");
  // The leader dies: this member stands in term 5 and loses to member 3.
  snapshot.status.role = engine::core::Role::candidate;
  snapshot.status.term = Term(5);
  snapshot.status.leader = node_none;
  snapshot.driver.elections_started = 1;
  events.observe(snapshot, 100);
  snapshot = follower_of(3, 5);
  snapshot.driver.elections_started = 1;
  events.observe(snapshot, 200);
  std::map<std::string, nlohmann::json> by_event;
  for (const std::string& line : recorder.lines) {
    const auto parsed = nlohmann::json::parse(line);
    by_event[parsed["event"].get<std::string>()] = parsed;
  }
  ASSERT_TRUE(by_event.contains("election_started"));
  EXPECT_EQ(by_event["election_started"]["fields"]["term"], 5);
  ASSERT_TRUE(by_event.contains("election_lost"));
  EXPECT_EQ(by_event["election_lost"]["fields"]["leader"], 3);
  EXPECT_EQ(by_event["election_lost"]["fields"]["elections_lost"], 1);
  ASSERT_TRUE(by_event.contains("leader_changed"));
  EXPECT_EQ(by_event["leader_changed"]["fields"]["leader"], 3);
  EXPECT_EQ(by_event["leader_changed"]["fields"]["term"], 5);
  EXPECT_EQ(by_event["term_changed"]["fields"]["previous"], 4);
  EXPECT_FALSE(by_event.contains("election_won"));
}

TEST(MemberEventsTest, RebuildReportsBytesAndRate) {
  Recorder recorder;
  EventLog log = recorder.make({LogLevel::info, LogFormat::json, 20});
  MemberEvents events(log);
  MemberSnapshot snapshot = follower_of(1, 2);
  events.observe(snapshot, 0);
  snapshot.status.rebuilding = true;
  snapshot.driver.rebuilds_started = 1;
  events.observe(snapshot, 100);
  snapshot.driver.rebuild_bytes_installed = 64u << 20;
  snapshot.driver.rebuild_bytes_total = 128u << 20;
  events.observe(snapshot, 5'100);  // 5 s in: a progress line.
  snapshot.status.rebuilding = false;
  snapshot.status.committed = CommitCounter(40);
  snapshot.driver.rebuilds_completed = 1;
  snapshot.driver.rebuild_bytes_installed = 128u << 20;
  events.observe(snapshot, 8'100);
  ASSERT_EQ(recorder.lines.size(), 4u);
  const auto progress = nlohmann::json::parse(recorder.lines[2]);
  EXPECT_EQ(progress["event"], "rebuild_progress");
  EXPECT_EQ(progress["fields"]["bytes"], 64u << 20);
  EXPECT_NEAR(progress["fields"]["mib_per_second"].get<double>(), 12.8, 0.01);
  const auto ended = nlohmann::json::parse(recorder.lines[3]);
  EXPECT_EQ(ended["event"], "rebuild_ended");
  EXPECT_EQ(ended["fields"]["outcome"], "done");
  EXPECT_EQ(ended["fields"]["committed"], 40);
  EXPECT_NEAR(ended["fields"]["mib_per_second"].get<double>(), 16.0, 0.01);
}

}  // namespace
}  // namespace quire::tools
