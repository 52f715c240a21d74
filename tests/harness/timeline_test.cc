// Goal: the timeline is one self-contained, well-formed HTML file that shows every lane, escapes
// whatever text it is given, stays small for huge runs (and says that it aggregated), and is
// byte-for-byte deterministic.
// Method: render small and large timelines and inspect the text: tag balance, lane names,
// escapes, the absence of external references, the size.
#include "harness/timeline.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace quire::harness {
namespace {

Instant at_ms(int64_t ms) {
  return Instant::from_ns(ms * 1'000'000);
}

size_t count_of(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t position = text.find(needle); position != std::string::npos;
       position = text.find(needle, position + needle.size())) {
    count++;
  }
  return count;
}

// Every element is closed in order (HTML void elements aside); script and style bodies are
// skipped. Returns an empty string, or what is wrong.
std::string tag_balance_problem(const std::string& html) {
  std::vector<std::string> open;
  size_t position = 0;
  while ((position = html.find('<', position)) != std::string::npos) {
    const size_t end = html.find('>', position);
    if (end == std::string::npos) return "unterminated tag";
    std::string tag = html.substr(position + 1, end - position - 1);
    position = end + 1;
    if (tag.rfind("!DOCTYPE", 0) == 0) continue;
    const bool closing = !tag.empty() && tag[0] == '/';
    const bool self_closing = !tag.empty() && tag.back() == '/';
    const std::string name =
        tag.substr(closing ? 1 : 0, tag.find_first_of(" /", 1) - (closing ? 1 : 0));
    if (name == "meta" || self_closing) continue;
    if (closing) {
      if (open.empty() || open.back() != name) return "unexpected </" + name + ">";
      open.pop_back();
      continue;
    }
    open.push_back(name);
    if (name == "script" || name == "style") {
      // Their bodies are not markup; jump to the matching end tag.
      position = html.find("</" + name + ">", position);
      if (position == std::string::npos) return "unclosed " + name;
    }
  }
  return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

Timeline small_timeline() {
  Timeline timeline;
  timeline.title = "seed 42 <&>";
  timeline.roles = {
      {"n1", MemberRole::leader, at_ms(0), at_ms(40)},
      {"n1", MemberRole::down, at_ms(40), at_ms(60)},
      {"n2", MemberRole::follower, at_ms(0), at_ms(45)},
      {"n2", MemberRole::candidate, at_ms(45), at_ms(50)},
      {"n2", MemberRole::leader, at_ms(50), at_ms(100)},
      {"n3", MemberRole::follower, at_ms(0), at_ms(80)},
      {"n3", MemberRole::paused, at_ms(80), at_ms(100)},
  };
  timeline.commits = {{"n1", at_ms(10), CommitCounter(1)},
                      {"n2", at_ms(11), CommitCounter(1)},
                      {"n2", at_ms(70), CommitCounter(2)}};
  timeline.operations = {
      {1, at_ms(5), at_ms(12), Outcome::ok, false, "put <k>=a&b"},
      {1, at_ms(8), at_ms(9), Outcome::ok, false, "read k -> a"},  // Overlaps: a second row.
      {2, at_ms(30), std::nullopt, Outcome::unknown, false, "put k=\"c\""},
      {3, at_ms(50), at_ms(52), Outcome::failed, false, "put k='d'"},
      {3, at_ms(60), at_ms(75), Outcome::ok, true, "if k==a put k=e"},
  };
  timeline.faults = {{at_ms(38), at_ms(60), "crash n1 & restart <n1>"}};
  timeline.marks = {{at_ms(90), "checker: violation on \"k\""}};
  return timeline;
}

TEST(Timeline, SmallTimelineIsWellFormedAndShowsEveryLane) {
  const std::string html = render_timeline_html(small_timeline());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(tag_balance_problem(html), "");
  for (const char* lane : {">n1<", ">n2<", ">n3<", ">client 1<", ">client 2<", ">client 3<"}) {
    EXPECT_NE(html.find(lane), std::string::npos) << lane;
  }
  for (const char* role : {"class=\"leader\"", "class=\"follower\"", "class=\"candidate\"",
                           "class=\"down\"", "class=\"paused\""}) {
    EXPECT_NE(html.find(role), std::string::npos) << role;
  }
  EXPECT_EQ(count_of(html, "<line class=\"commit\""), 3u);
  EXPECT_EQ(count_of(html, "class=\"fault\""), 1u);
  EXPECT_EQ(count_of(html, "<line class=\"mark\""), 1u);
  EXPECT_NE(html.find("class=\"unknown open\""), std::string::npos);
  EXPECT_NE(html.find("class=\"cf\""), std::string::npos);
  EXPECT_NE(html.find("class=\"failed\""), std::string::npos);
  EXPECT_EQ(count_of(html, "<title>"), count_of(html, "</title>"));
}

TEST(Timeline, TextIsEscaped) {
  const std::string html = render_timeline_html(small_timeline());
  EXPECT_NE(html.find("put &lt;k&gt;=a&amp;b"), std::string::npos);
  EXPECT_NE(html.find("crash n1 &amp; restart &lt;n1&gt;"), std::string::npos);
  EXPECT_NE(html.find("seed 42 &lt;&amp;&gt;"), std::string::npos);
  EXPECT_NE(html.find("violation on &quot;k&quot;"), std::string::npos);
  EXPECT_EQ(html.find("<k>"), std::string::npos);
  EXPECT_EQ(html.find("<n1>"), std::string::npos);
  EXPECT_EQ(html.find("a&b"), std::string::npos);
}

TEST(Timeline, NoExternalResources) {
  const std::string html = render_timeline_html(small_timeline());
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  // The only URL is the SVG namespace name, which is never fetched.
  EXPECT_EQ(count_of(html, "http"), 1u);
}

TEST(Timeline, EscapeHtml) {
  EXPECT_EQ(escape_html("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
  EXPECT_EQ(escape_html(std::string("\x01z\x7f", 3)), "\\x01z\\x7f");
  EXPECT_EQ(escape_html("caf\xc3\xa9"), "caf\xc3\xa9");       // UTF-8 stays.
  EXPECT_EQ(escape_html("\xff\xc3"), "\\xff\\xc3");           // Not UTF-8.
  EXPECT_EQ(escape_html("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // A surrogate.
  EXPECT_EQ(escape_html("line\nnext"), "line\nnext");
}

TEST(Timeline, LongLabelsAreCut) {
  Timeline timeline;
  timeline.operations = {{1, at_ms(0), at_ms(1), Outcome::ok, false, std::string(100'000, 'v')}};
  const std::string html = render_timeline_html(timeline);
  EXPECT_LT(html.size(), 10'000u);
  EXPECT_NE(html.find("vvv..."), std::string::npos);
}

TEST(Timeline, EmptyTimelineRenders) {
  const std::string html = render_timeline_html(Timeline{});
  EXPECT_EQ(tag_balance_problem(html), "");
  EXPECT_NE(html.find("quire timeline"), std::string::npos);
}

TEST(Timeline, RenderingIsDeterministic) {
  EXPECT_EQ(render_timeline_html(small_timeline()), render_timeline_html(small_timeline()));
}

// 100k operations, 50k commits, many role flips, faults and marks: bounded output that says
// what it aggregated or left out.
TEST(Timeline, HugeRunIsAggregatedAndSaysSo) {
  Timeline timeline;
  for (int64_t index = 0; index < 100'000; index++) {
    const Outcome outcome = index % 97 == 0   ? Outcome::unknown
                            : index % 89 == 0 ? Outcome::failed
                                              : Outcome::ok;
    timeline.operations.push_back({static_cast<uint32_t>(index % 20), at_ms(index),
                                   at_ms(index + 3), outcome, false,
                                   "put key" + std::to_string(index % 7) + "=<v>"});
  }
  for (int64_t index = 0; index < 50'000; index++) {
    timeline.commits.push_back({"n" + std::to_string(index % 3), at_ms(2 * index),
                                CommitCounter(static_cast<uint64_t>(index / 3 + 1))});
  }
  for (int64_t index = 0; index < 20'000; index++) {
    timeline.roles.push_back({"n" + std::to_string(index % 3),
                              index % 2 == 0 ? MemberRole::leader : MemberRole::follower,
                              at_ms(5 * index), at_ms(5 * index + 1 + index % 5)});
  }
  for (int64_t index = 0; index < 2'000; index++) {
    timeline.faults.push_back({at_ms(50 * index), at_ms(50 * index + 10), "clog"});
    timeline.marks.push_back({at_ms(50 * index + 20), "mark"});
  }
  const std::string html = render_timeline_html(timeline);
  EXPECT_LT(html.size(), 6'000'000u);
  EXPECT_EQ(tag_balance_problem(html), "");
  EXPECT_NE(html.find("counted into density cells under each client lane"), std::string::npos);
  EXPECT_NE(html.find("50000 commits: more than can be drawn"), std::string::npos);
  EXPECT_NE(html.find("15000 of 20000 role intervals (the shortest) not drawn"), std::string::npos);
  EXPECT_NE(html.find("1500 of 2000 faults (the latest) not drawn"), std::string::npos);
  EXPECT_NE(html.find("1500 of 2000 marks (the latest) not drawn"), std::string::npos);
  EXPECT_LE(count_of(html, "<rect"), 5'000u + 5'000u + 500u + 20'000u + 20'000u + 100u);
  for (int client = 0; client < 20; client++) {
    EXPECT_NE(html.find(">client " + std::to_string(client) + "<"), std::string::npos);
  }
}

TEST(Timeline, AddHistoryLabelsOperations) {
  History history(1);
  history[0].id = 7;
  history[0].client = 2;
  history[0].invoke = at_ms(1);
  history[0].complete = at_ms(2);
  history[0].outcome = Outcome::ok;
  history[0].writes.push_back(Write::put("k", "<v>"));
  Timeline timeline;
  add_history(timeline, history);
  ASSERT_EQ(timeline.operations.size(), 1u);
  EXPECT_EQ(timeline.operations[0].label, "op 7: put \"k\"=\"<v>\"");
  EXPECT_NE(render_timeline_html(timeline).find("op 7: put &quot;k&quot;=&quot;&lt;v&gt;&quot;"),
            std::string::npos);
}

TEST(Timeline, WritesAFile) {
  const std::string path = testing::TempDir() + "quire_timeline_test.html";
  ASSERT_TRUE(write_timeline_html(small_timeline(), path).ok());
  std::ifstream file(path);
  std::stringstream contents;
  contents << file.rdbuf();
  EXPECT_EQ(contents.str(), render_timeline_html(small_timeline()));
  std::remove(path.c_str());

  const Status status = write_timeline_html(small_timeline(), "/nonexistent-dir/x.html");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), ErrorCode::io_error);
}

}  // namespace
}  // namespace quire::harness
