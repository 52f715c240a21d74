// See timeline.h and docs/harness.md, "Timeline".
#include "harness/timeline.h"

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <set>

#include "io/base/text.h"

namespace quire::harness {

const char* member_role_name(MemberRole role) {
  switch (role) {
    case MemberRole::leader:
      return "leader";
    case MemberRole::follower:
      return "follower";
    case MemberRole::candidate:
      return "candidate";
    case MemberRole::down:
      return "down";
    case MemberRole::paused:
      return "paused";
  }
  QUIRE_UNREACHABLE();
}

void add_history(Timeline& timeline, const History& history) {
  for (const Operation& operation : history) {
    ClientOperationEvent& event = timeline.operations.emplace_back();
    event.client = operation.client;
    event.invoke = operation.invoke;
    event.complete = operation.complete;
    event.outcome = operation.outcome;
    event.condition_failed = operation.condition_failed;
    event.label = concat("op ", operation.id, ": ", describe_body(operation));
  }
}

namespace {

// Length of the UTF-8 sequence that starts at `index`, or 0 if the bytes there are not one.
size_t utf8_sequence_size(std::string_view text, size_t index) {
  const auto byte = [&](size_t offset) { return static_cast<unsigned char>(text[index + offset]); };
  const unsigned char lead = byte(0);
  size_t size = 0;
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    size = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    size = 3;
    // No overlong forms, no surrogates.
    if (lead == 0xe0) second_min = 0xa0;
    if (lead == 0xed) second_max = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    size = 4;
    if (lead == 0xf0) second_min = 0x90;
    if (lead == 0xf4) second_max = 0x8f;
  } else {
    return 0;
  }
  if (index + size > text.size()) return 0;
  if (byte(1) < second_min || byte(1) > second_max) return 0;
  for (size_t offset = 2; offset < size; offset++) {
    if (byte(offset) < 0x80 || byte(offset) > 0xbf) return 0;
  }
  return size;
}

void append_escaped_byte(std::string& out, unsigned char byte) {
  char escaped[8];
  std::snprintf(escaped, sizeof(escaped), "\\x%02x", byte);
  out.append(escaped);
}

}  // namespace

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t index = 0; index < text.size();) {
    const auto byte = static_cast<unsigned char>(text[index]);
    if (byte >= 0x80) {
      const size_t size = utf8_sequence_size(text, index);
      if (size == 0) {
        append_escaped_byte(out, byte);
        index++;
      } else {
        out.append(text.substr(index, size));
        index += size;
      }
      continue;
    }
    switch (byte) {
      case '&':
        out.append("&amp;");
        break;
      case '<':
        out.append("&lt;");
        break;
      case '>':
        out.append("&gt;");
        break;
      case '"':
        out.append("&quot;");
        break;
      case '\'':
        out.append("&#39;");
        break;
      case '\n':
      case '\t':
        out.push_back(static_cast<char>(byte));
        break;
      default:
        if (byte < 0x20 || byte == 0x7f) {
          append_escaped_byte(out, byte);
        } else {
          out.push_back(static_cast<char>(byte));
        }
    }
    index++;
  }
  return out;
}

namespace {

// ---- Geometry ----

constexpr double lane_label_width_px = 140;
constexpr double right_margin_px = 16;
constexpr double note_line_height_px = 16;
constexpr double axis_height_px = 26;
constexpr double member_lane_height_px = 22;
constexpr double lane_gap_px = 4;
constexpr double operation_row_height_px = 10;
constexpr double operation_bar_height_px = 8;
constexpr double density_row_height_px = 8;
constexpr size_t operation_rows_max = 4;  // Sub-rows for a client's overlapping operations.
constexpr double section_title_height_px = 18;

std::string px(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f", value);
  return text;
}

// Maps virtual time onto the chart's x axis.
class TimeScale {
 public:
  TimeScale(Instant begin, Instant end, double width_px)
      : begin_(begin), span_ns_(std::max<int64_t>((end - begin).ns(), 1)), width_px_(width_px) {}

  double x(Instant time) const {
    const double fraction =
        static_cast<double>((time - begin_).ns()) / static_cast<double>(span_ns_);
    return lane_label_width_px + std::clamp(fraction, 0.0, 1.0) * width_px_;
  }
  // A bar from `from` to `to`, at least one pixel wide so that short operations stay visible.
  std::pair<double, double> bar(Instant from, Instant to) const {
    const double left = x(from);
    return {left, std::max(x(to) - left, 1.0)};
  }
  Instant begin() const { return begin_; }
  Instant end() const { return begin_ + Duration::nanoseconds(span_ns_); }
  int64_t span_ns() const { return span_ns_; }
  double width_px() const { return width_px_; }

 private:
  Instant begin_;
  int64_t span_ns_;
  double width_px_;
};

// ---- Choosing what to draw ----

// The earliest and latest instants any event mentions.
std::pair<Instant, Instant> time_range(const Timeline& timeline) {
  std::optional<Instant> begin;
  std::optional<Instant> end;
  auto see = [&](Instant time) {
    if (time == Instant::max()) return;
    begin = begin ? std::min(*begin, time) : time;
    end = end ? std::max(*end, time) : time;
  };
  for (const RoleInterval& interval : timeline.roles) {
    see(interval.from);
    see(interval.to);
  }
  for (const CommitEvent& commit : timeline.commits)
    see(commit.time);
  for (const ClientOperationEvent& operation : timeline.operations) {
    see(operation.invoke);
    if (operation.complete) see(*operation.complete);
  }
  for (const FaultEvent& fault : timeline.faults) {
    see(fault.from);
    see(fault.to);
  }
  for (const MarkEvent& mark : timeline.marks)
    see(mark.time);
  if (!begin) return {Instant(), Instant()};
  return {*begin, *end};
}

// Which outcome class an operation is drawn with; lower is more interesting.
enum class OperationClass : uint8_t { unknown, failed, condition_failed, ok };
constexpr size_t operation_class_count = 4;

OperationClass classify(const ClientOperationEvent& operation) {
  switch (operation.outcome) {
    case Outcome::unknown:
      return OperationClass::unknown;
    case Outcome::failed:
      return OperationClass::failed;
    case Outcome::ok:
      return operation.condition_failed ? OperationClass::condition_failed : OperationClass::ok;
  }
  QUIRE_UNREACHABLE();
}

const char* css_class(OperationClass operation_class) {
  switch (operation_class) {
    case OperationClass::unknown:
      return "unknown";
    case OperationClass::failed:
      return "failed";
    case OperationClass::condition_failed:
      return "cf";
    case OperationClass::ok:
      return "ok";
  }
  QUIRE_UNREACHABLE();
}

const char* class_name(OperationClass operation_class) {
  return operation_class == OperationClass::condition_failed ? "condition failed"
                                                             : css_class(operation_class);
}

// Indexes of the operations drawn one by one: all of them if they fit, otherwise the most
// interesting (unknown, failed, condition failed, ok) and, within a class, the earliest.
std::vector<bool> choose_drawn_operations(const std::vector<ClientOperationEvent>& operations,
                                          size_t drawn_max) {
  std::vector<bool> drawn(operations.size(), operations.size() <= drawn_max);
  if (operations.size() <= drawn_max) return drawn;
  std::vector<size_t> order(operations.size());
  for (size_t index = 0; index < order.size(); index++)
    order[index] = index;
  std::sort(order.begin(), order.end(), [&](size_t left, size_t right) {
    const auto left_class = classify(operations[left]);
    const auto right_class = classify(operations[right]);
    if (left_class != right_class) return left_class < right_class;
    if (operations[left].invoke != operations[right].invoke) {
      return operations[left].invoke < operations[right].invoke;
    }
    return left < right;
  });
  for (size_t rank = 0; rank < drawn_max; rank++)
    drawn[order[rank]] = true;
  return drawn;
}

// Role intervals drawn: all if they fit, otherwise the longest ones.
std::vector<size_t> choose_role_intervals(const std::vector<RoleInterval>& roles,
                                          size_t drawn_max) {
  std::vector<size_t> order(roles.size());
  for (size_t index = 0; index < order.size(); index++)
    order[index] = index;
  if (roles.size() > drawn_max) {
    std::sort(order.begin(), order.end(), [&](size_t left, size_t right) {
      const Duration left_length = roles[left].to - roles[left].from;
      const Duration right_length = roles[right].to - roles[right].from;
      if (left_length != right_length) return left_length > right_length;
      return left < right;
    });
    order.resize(drawn_max);
    std::sort(order.begin(), order.end());
  }
  return order;
}

// Cells of a density strip: per lane, counts per time bucket and outcome class.
class DensityGrid {
 public:
  DensityGrid(TimeScale scale, size_t bucket_count)
      : scale_(scale), bucket_count_(std::max<size_t>(bucket_count, 1)) {}

  void add(size_t lane, Instant time, size_t class_index) {
    auto& cells = lanes_[lane];
    if (cells.empty()) cells.resize(bucket_count_);
    cells[bucket_of(time)][class_index]++;
  }

  bool empty() const { return lanes_.empty(); }
  bool has_lane(size_t lane) const { return lanes_.count(lane) > 0; }
  size_t bucket_count() const { return bucket_count_; }
  const std::vector<std::array<uint32_t, operation_class_count>>& lane(size_t lane) const {
    return lanes_.at(lane);
  }
  uint32_t cell_total_max() const {
    uint32_t maximum = 1;
    for (const auto& [lane, cells] : lanes_) {
      for (const auto& cell : cells)
        maximum = std::max(maximum, total(cell));
    }
    return maximum;
  }
  static uint32_t total(const std::array<uint32_t, operation_class_count>& cell) {
    uint32_t sum = 0;
    for (const uint32_t count : cell)
      sum += count;
    return sum;
  }
  Instant bucket_begin(size_t bucket) const {
    return scale_.begin() +
           Duration::nanoseconds(static_cast<int64_t>(static_cast<__int128>(scale_.span_ns()) *
                                                      static_cast<__int128>(bucket) /
                                                      static_cast<__int128>(bucket_count_)));
  }

 private:
  size_t bucket_of(Instant time) const {
    const int64_t offset = std::clamp<int64_t>((time - scale_.begin()).ns(), 0, scale_.span_ns());
    const auto bucket =
        static_cast<size_t>(static_cast<__int128>(offset) * static_cast<__int128>(bucket_count_) /
                            static_cast<__int128>(scale_.span_ns()));
    return std::min(bucket, bucket_count_ - 1);
  }

  TimeScale scale_;
  size_t bucket_count_;
  std::map<size_t, std::vector<std::array<uint32_t, operation_class_count>>> lanes_;
};

// ---- Drawing ----

class Renderer {
 public:
  Renderer(const Timeline& timeline, const TimelineOptions& options);
  std::string html();

 private:
  void plan_lanes();
  void plan_operations();
  void plan_commits();
  void plan_cuts();
  void lay_out();
  void draw_notes();
  void draw_axis();
  void draw_lane_backgrounds();
  void draw_faults();
  void draw_roles();
  void draw_commits();
  void draw_operations();
  void draw_density(const DensityGrid& grid, size_t lane_index, double top, const char* unit);
  void draw_marks();
  void rect(double x, double y, double width, double height, const std::string& attributes,
            const std::string& title);
  std::string label(const std::string& text) const;

  const Timeline& timeline_;
  const TimelineOptions& options_;
  TimeScale scale_;
  std::vector<std::string> notes_;
  std::string svg_;

  std::vector<std::string> members_;
  std::vector<uint32_t> clients_;
  std::map<std::string, size_t> member_index_;
  std::map<uint32_t, size_t> client_index_;
  std::vector<double> member_top_px_;
  std::vector<double> client_top_px_;
  std::vector<size_t> client_rows_;
  double members_title_top_px_ = 0;
  double clients_title_top_px_ = 0;
  double chart_top_px_ = 0;
  double height_px_ = 0;

  std::vector<size_t> faults_drawn_;
  std::vector<size_t> roles_drawn_;
  std::vector<size_t> marks_drawn_;
  std::vector<bool> operation_drawn_;
  std::vector<size_t> operation_row_;
  std::vector<Instant> operation_end_;
  DensityGrid operation_density_;
  bool commits_aggregated_ = false;
  DensityGrid commit_density_;
};

size_t density_buckets(const TimelineOptions& options, size_t lanes) {
  const size_t by_width = static_cast<size_t>(std::max(options.chart_width_px, 8)) / 2;
  const size_t by_budget = options.aggregate_cells_max / std::max<size_t>(lanes, 1);
  return std::clamp<size_t>(by_budget, 16, std::max<size_t>(by_width, 16));
}

Renderer::Renderer(const Timeline& timeline, const TimelineOptions& options)
    : timeline_(timeline),
      options_(options),
      scale_(time_range(timeline).first, time_range(timeline).second,
             std::max(options.chart_width_px, 100)),
      operation_density_(scale_, 1),
      commit_density_(scale_, 1) {
  QUIRE_ASSERT(options.label_bytes_max > 0);
}

std::string Renderer::label(const std::string& text) const {
  if (text.size() <= options_.label_bytes_max) return escape_html(text);
  size_t cut = options_.label_bytes_max;
  // Cut at a character boundary, so that the cut does not show as escaped bytes.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80)
    cut--;
  return escape_html(text.substr(0, cut)) + "...";
}

void Renderer::plan_lanes() {
  std::set<std::string> members;
  for (const RoleInterval& interval : timeline_.roles)
    members.insert(interval.member);
  for (const CommitEvent& commit : timeline_.commits)
    members.insert(commit.member);
  members_.assign(members.begin(), members.end());
  for (size_t index = 0; index < members_.size(); index++)
    member_index_[members_[index]] = index;
  std::set<uint32_t> clients;
  for (const ClientOperationEvent& operation : timeline_.operations) {
    clients.insert(operation.client);
  }
  clients_.assign(clients.begin(), clients.end());
  for (size_t index = 0; index < clients_.size(); index++)
    client_index_[clients_[index]] = index;
}

// Assigns drawn operations to sub-rows of their client's lane (first row free at invocation),
// and counts the others into the density grid.
void Renderer::plan_operations() {
  const auto& operations = timeline_.operations;
  operation_drawn_ = choose_drawn_operations(operations, options_.operations_drawn_max);
  operation_row_.assign(operations.size(), 0);
  client_rows_.assign(clients_.size(), 1);
  std::vector<size_t> order(operations.size());
  for (size_t index = 0; index < order.size(); index++)
    order[index] = index;
  std::stable_sort(order.begin(), order.end(), [&](size_t left, size_t right) {
    return operations[left].invoke < operations[right].invoke;
  });
  // An operation that never completed is drawn until its client's next invocation (the client
  // gave up on it), or to the end; drawing every one to the end would fill the lane with them.
  operation_end_.assign(operations.size(), scale_.end());
  std::vector<std::optional<Instant>> earliest_seen(clients_.size());  // Walking backwards.
  std::vector<std::optional<Instant>> next_later(clients_.size());     // First invoke after this.
  for (auto position = order.rbegin(); position != order.rend(); ++position) {
    const ClientOperationEvent& operation = operations[*position];
    const size_t lane = client_index_.at(operation.client);
    if (earliest_seen[lane] && *earliest_seen[lane] > operation.invoke) {
      next_later[lane] = earliest_seen[lane];
    }
    earliest_seen[lane] = operation.invoke;
    if (operation.complete) {
      operation_end_[*position] = *operation.complete;
    } else if (next_later[lane]) {
      operation_end_[*position] = *next_later[lane];
    }
  }
  const size_t aggregated =
      static_cast<size_t>(std::count(operation_drawn_.begin(), operation_drawn_.end(), false));
  if (aggregated > 0)
    operation_density_ = DensityGrid(scale_, density_buckets(options_, clients_.size()));
  std::vector<std::vector<Instant>> row_ends(clients_.size());
  for (const size_t index : order) {
    const ClientOperationEvent& operation = operations[index];
    const size_t lane = client_index_.at(operation.client);
    if (!operation_drawn_[index]) {
      operation_density_.add(lane, operation.invoke, static_cast<size_t>(classify(operation)));
      continue;
    }
    const Instant end = operation_end_[index];
    std::vector<Instant>& ends = row_ends[lane];
    size_t row = 0;
    while (row < ends.size() && ends[row] > operation.invoke)
      row++;
    if (row == ends.size() && ends.size() < operation_rows_max) ends.push_back(Instant());
    if (row == ends.size()) {
      // Every row is busy: overlap the one that frees first.
      row = static_cast<size_t>(std::min_element(ends.begin(), ends.end()) - ends.begin());
    }
    ends[row] = std::max(ends[row], end);
    operation_row_[index] = row;
    client_rows_[lane] = std::max(client_rows_[lane], ends.size());
  }
  if (aggregated > 0) {
    notes_.push_back(concat(operations.size(),
                            " client operations: ", operations.size() - aggregated,
                            " drawn one by one (unknown, failed and condition-failed first), ",
                            aggregated, " counted into density cells under each client lane"));
  }
}

void Renderer::plan_commits() {
  if (timeline_.commits.size() <= options_.commits_drawn_max) return;
  commits_aggregated_ = true;
  commit_density_ = DensityGrid(scale_, density_buckets(options_, members_.size()));
  for (const CommitEvent& commit : timeline_.commits) {
    commit_density_.add(member_index_.at(commit.member), commit.time, 0);
  }
  notes_.push_back(concat(timeline_.commits.size(),
                          " commits: more than can be drawn one by one, counted into density "
                          "cells per member"));
}

void Renderer::rect(double x, double y, double width, double height, const std::string& attributes,
                    const std::string& title) {
  svg_.append(concat("<rect x=\"", px(x), "\" y=\"", px(y), "\" width=\"", px(width),
                     "\" height=\"", px(height), "\" ", attributes, "><title>", title,
                     "</title></rect>\n"));
}

void Renderer::draw_notes() {
  double y = note_line_height_px;
  for (const std::string& note : notes_) {
    svg_.append(
        concat("<text class=\"note\" x=\"4\" y=\"", px(y), "\">", escape_html(note), "</text>\n"));
    y += note_line_height_px;
  }
}

// Ticks at a round step (1, 2 or 5 times a power of ten nanoseconds), labeled in the unit where
// the step is a whole number.
void Renderer::draw_axis() {
  const int64_t span_ns = scale_.span_ns();
  const int64_t step_ns = [&] {
    for (int64_t power = 1;; power *= 10) {
      for (const int64_t factor : {1, 2, 5}) {
        if (span_ns / (power * factor) <= 10) return power * factor;
      }
    }
  }();
  const char* unit = "ns";
  int64_t unit_ns = 1;
  if (step_ns >= 1'000'000'000) {
    unit = "s";
    unit_ns = 1'000'000'000;
  } else if (step_ns >= 1'000'000) {
    unit = "ms";
    unit_ns = 1'000'000;
  } else if (step_ns >= 1'000) {
    unit = "us";
    unit_ns = 1'000;
  }
  const int64_t begin_ns = scale_.begin().ns();
  int64_t tick_ns = begin_ns / step_ns * step_ns;
  if (tick_ns < begin_ns) tick_ns += step_ns;
  const double axis_y = chart_top_px_ - 6;
  for (; tick_ns <= scale_.end().ns(); tick_ns += step_ns) {
    const double x = scale_.x(Instant::from_ns(tick_ns));
    svg_.append(concat("<line class=\"tick\" x1=\"", px(x), "\" y1=\"", px(axis_y), "\" x2=\"",
                       px(x), "\" y2=\"", px(height_px_), "\"/>\n"));
    svg_.append(concat("<text x=\"", px(x + 2), "\" y=\"", px(axis_y - 4), "\">", tick_ns / unit_ns,
                       unit, "</text>\n"));
  }
}

void Renderer::draw_lane_backgrounds() {
  auto lane = [&](double top, double height, const std::string& name, size_t index) {
    svg_.append(concat("<rect class=\"", index % 2 == 0 ? "lane0" : "lane1", "\" x=\"0\" y=\"",
                       px(top), "\" width=\"", px(lane_label_width_px + scale_.width_px()),
                       "\" height=\"", px(height), "\"/>\n"));
    svg_.append(concat("<text class=\"lane\" x=\"4\" y=\"", px(top + 13), "\">", escape_html(name),
                       "</text>\n"));
  };
  auto title = [&](double top, const char* text) {
    svg_.append(
        concat("<text class=\"section\" x=\"4\" y=\"", px(top + 13), "\">", text, "</text>\n"));
  };
  if (!members_.empty()) title(members_title_top_px_, "members");
  for (size_t index = 0; index < members_.size(); index++) {
    const double extra = commits_aggregated_ ? density_row_height_px : 0;
    lane(member_top_px_[index], member_lane_height_px + extra, members_[index], index);
  }
  if (!clients_.empty()) title(clients_title_top_px_, "clients");
  for (size_t index = 0; index < clients_.size(); index++) {
    const double extra = operation_density_.has_lane(index) ? density_row_height_px : 0;
    lane(client_top_px_[index],
         static_cast<double>(client_rows_[index]) * operation_row_height_px + 4 + extra,
         concat("client ", clients_[index]), index);
  }
}

// Faults and marks beyond their bound: the earliest are kept. Role intervals: the longest.
void Renderer::plan_cuts() {
  auto earliest = [&](size_t count, size_t drawn_max, auto time_of, const char* what) {
    std::vector<size_t> order(count);
    for (size_t index = 0; index < order.size(); index++)
      order[index] = index;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t left, size_t right) { return time_of(left) < time_of(right); });
    if (order.size() > drawn_max) {
      notes_.push_back(concat(order.size() - drawn_max, " of ", order.size(), " ", what,
                              " (the latest) not drawn"));
      order.resize(drawn_max);
    }
    return order;
  };
  faults_drawn_ = earliest(
      timeline_.faults.size(), options_.faults_drawn_max,
      [&](size_t index) { return timeline_.faults[index].from; }, "faults");
  marks_drawn_ = earliest(
      timeline_.marks.size(), options_.marks_drawn_max,
      [&](size_t index) { return timeline_.marks[index].time; }, "marks");
  roles_drawn_ = choose_role_intervals(timeline_.roles, options_.role_intervals_drawn_max);
  if (roles_drawn_.size() < timeline_.roles.size()) {
    notes_.push_back(concat(timeline_.roles.size() - roles_drawn_.size(), " of ",
                            timeline_.roles.size(), " role intervals (the shortest) not drawn"));
  }
}

void Renderer::draw_faults() {
  for (const size_t index : faults_drawn_) {
    const FaultEvent& fault = timeline_.faults[index];
    const auto [x, width] = scale_.bar(fault.from, fault.to);
    rect(x, chart_top_px_, width, height_px_ - chart_top_px_, "class=\"fault\"",
         concat("fault ", label(fault.description), "\n", format_instant(fault.from), " .. ",
                format_instant(fault.to)));
    // Named in the picture where the band is wide enough for a few characters of it.
    constexpr double character_width_px = 6;
    const auto characters = static_cast<size_t>(width / character_width_px);
    if (characters < 6) continue;
    std::string name = fault.description;
    if (name.size() > characters) name = name.substr(0, characters - 3) + "...";
    svg_.append(concat("<text class=\"faulttext\" x=\"", px(x + 2), "\" y=\"", px(height_px_ - 4),
                       "\">", escape_html(name), "</text>\n"));
  }
}

void Renderer::draw_roles() {
  for (const size_t index : roles_drawn_) {
    const RoleInterval& interval = timeline_.roles[index];
    const auto [x, width] = scale_.bar(interval.from, interval.to);
    const double top = member_top_px_[member_index_.at(interval.member)] + 2;
    rect(x, top, width, member_lane_height_px - 4,
         concat("class=\"", member_role_name(interval.role), "\""),
         concat(escape_html(interval.member), " ", member_role_name(interval.role), "\n",
                format_instant(interval.from), " .. ", format_instant(interval.to)));
  }
}

void Renderer::draw_commits() {
  if (commits_aggregated_) {
    for (size_t lane = 0; lane < members_.size(); lane++) {
      if (!commit_density_.has_lane(lane)) continue;
      draw_density(commit_density_, lane, member_top_px_[lane] + member_lane_height_px, "commits");
    }
    return;
  }
  for (const CommitEvent& commit : timeline_.commits) {
    const double x = scale_.x(commit.time);
    const double top = member_top_px_[member_index_.at(commit.member)];
    svg_.append(concat("<line class=\"commit\" x1=\"", px(x), "\" y1=\"", px(top), "\" x2=\"",
                       px(x), "\" y2=\"", px(top + 7), "\"><title>", escape_html(commit.member),
                       " commit ", commit.counter.value(), " at ", format_instant(commit.time),
                       "</title></line>\n"));
  }
}

void Renderer::draw_operations() {
  const auto& operations = timeline_.operations;
  for (size_t index = 0; index < operations.size(); index++) {
    if (!operation_drawn_[index]) continue;
    const ClientOperationEvent& operation = operations[index];
    const size_t lane = client_index_.at(operation.client);
    const double top = client_top_px_[lane] + 2 +
                       static_cast<double>(operation_row_[index]) * operation_row_height_px;
    const auto [x, width] = scale_.bar(operation.invoke, operation_end_[index]);
    const OperationClass operation_class = classify(operation);
    // An operation that never completed runs off the end, drawn open.
    const char* open = operation.complete ? "" : " open";
    rect(x, top, width, operation_bar_height_px,
         concat("class=\"", css_class(operation_class), open, "\""),
         concat(label(operation.label), "\nclient ", operation.client, " ",
                class_name(operation_class), " ", format_instant(operation.invoke), " .. ",
                operation.complete ? format_instant(*operation.complete) : "never"));
  }
  for (size_t lane = 0; lane < clients_.size(); lane++) {
    if (!operation_density_.has_lane(lane)) continue;
    const double top = client_top_px_[lane] + 2 +
                       static_cast<double>(client_rows_[lane]) * operation_row_height_px;
    draw_density(operation_density_, lane, top, "operations");
  }
}

// One cell per non-empty bucket; darker for more, colored by the most interesting class in it.
void Renderer::draw_density(const DensityGrid& grid, size_t lane_index, double top,
                            const char* unit) {
  const double cell_width = scale_.width_px() / static_cast<double>(grid.bucket_count());
  const uint32_t total_max = grid.cell_total_max();
  const auto& cells = grid.lane(lane_index);
  for (size_t bucket = 0; bucket < cells.size(); bucket++) {
    const uint32_t total = DensityGrid::total(cells[bucket]);
    if (total == 0) continue;
    size_t worst = 0;
    while (cells[bucket][worst] == 0)
      worst++;
    std::string counts;
    if (std::string_view(unit) == "operations") {
      for (size_t class_index = 0; class_index < operation_class_count; class_index++) {
        if (cells[bucket][class_index] == 0) continue;
        counts.append(concat(counts.empty() ? ": " : ", ",
                             class_name(static_cast<OperationClass>(class_index)), " ",
                             cells[bucket][class_index]));
      }
    }
    const double opacity = 0.2 + 0.8 * static_cast<double>(total) / static_cast<double>(total_max);
    char opacity_text[16];
    std::snprintf(opacity_text, sizeof(opacity_text), "%.2f", opacity);
    const char* css = std::string_view(unit) == "operations"
                          ? css_class(static_cast<OperationClass>(worst))
                          : "commitcell";
    rect(lane_label_width_px + cell_width * static_cast<double>(bucket), top, cell_width,
         density_row_height_px - 1,
         concat("class=\"", css, "\" fill-opacity=\"", opacity_text, "\""),
         concat(total, " ", unit, counts, "\n", format_instant(grid.bucket_begin(bucket)), " .. ",
                format_instant(grid.bucket_begin(bucket + 1))));
  }
}

void Renderer::draw_marks() {
  for (const size_t index : marks_drawn_) {
    const MarkEvent& mark = timeline_.marks[index];
    const double x = scale_.x(mark.time);
    svg_.append(concat("<g class=\"markg\"><line class=\"mark\" x1=\"", px(x), "\" y1=\"",
                       px(chart_top_px_), "\" x2=\"", px(x), "\" y2=\"", px(height_px_),
                       "\"/><text class=\"marktext\" x=\"", px(x + 3), "\" y=\"",
                       px(chart_top_px_ + 10), "\">", label(mark.text), "</text><title>",
                       format_instant(mark.time), " ", label(mark.text), "</title></g>\n"));
  }
}

constexpr const char* style_sheet = R"(body{font:13px sans-serif;margin:8px;color:#222}
h1{font-size:16px;margin:4px 0}
.legend span{display:inline-block;padding:1px 6px;margin-right:4px;border-radius:3px}
#info{position:sticky;top:0;background:#fffde7;border:1px solid #ddd;padding:2px 6px;min-height:2.6em;white-space:pre-wrap;font:12px monospace;z-index:1}
.chart{overflow-x:auto}
svg text{font:11px sans-serif;fill:#222}
svg text.note{fill:#b71c1c;font-weight:bold}
svg text.section{font-weight:bold}
svg text.marktext{fill:#0d47a1}
svg text.faulttext{fill:#b71c1c}
.lane0{fill:#fafafa}.lane1{fill:#f0f0f0}
.tick{stroke:#ddd}
.leader,.l-leader{fill:#2e7d32;background:#2e7d32;color:#fff}
.follower,.l-follower{fill:#90caf9;background:#90caf9}
.candidate,.l-candidate{fill:#ffb300;background:#ffb300}
.down,.l-down{fill:#9e9e9e;background:#9e9e9e}
.paused,.l-paused{fill:#ab47bc;background:#ab47bc;color:#fff}
.ok,.l-ok{fill:#66bb6a;background:#66bb6a}
.cf,.l-cf{fill:#4db6ac;background:#4db6ac}
.failed,.l-failed{fill:#e53935;background:#e53935;color:#fff}
.unknown,.l-unknown{fill:#ff9800;background:#ff9800}
.open{stroke:#e65100;stroke-dasharray:3 2}
.commit{stroke:#000;stroke-width:1.5}
.commitcell{fill:#000}
.fault,.l-fault{fill:#f44336;fill-opacity:.13;background:#fbd5d2}
.mark{stroke:#1565c0;stroke-dasharray:4 3}
rect:hover,line.commit:hover{stroke:#000;stroke-width:1.5}
)";

// Shows the hovered item's title in the info bar (native tooltips are slow and easy to lose).
constexpr const char* script = R"(var info=document.getElementById('info');
document.querySelector('svg').addEventListener('mouseover',function(e){
var n=e.target;while(n&&n.tagName!=='svg'){var t=n.querySelector&&n.querySelector(':scope>title');
if(t){info.textContent=t.textContent;return;}n=n.parentNode;}});
)";

std::string legend() {
  std::string out = "<div class=\"legend\">roles: ";
  for (const MemberRole role : {MemberRole::leader, MemberRole::follower, MemberRole::candidate,
                                MemberRole::down, MemberRole::paused}) {
    out.append(concat("<span class=\"l-", member_role_name(role), "\">", member_role_name(role),
                      "</span>"));
  }
  out.append(" operations: ");
  for (const auto operation_class : {OperationClass::ok, OperationClass::condition_failed,
                                     OperationClass::failed, OperationClass::unknown}) {
    out.append(concat("<span class=\"l-", css_class(operation_class), "\">",
                      class_name(operation_class), "</span>"));
  }
  out.append(" <span class=\"l-fault\">fault</span> commits: ticks; marks: dashed lines</div>\n");
  return out;
}

// Stacks the notes, the axis, the member lanes and the client lanes from the top.
void Renderer::lay_out() {
  members_title_top_px_ = static_cast<double>(notes_.size()) * note_line_height_px + axis_height_px;
  chart_top_px_ = members_title_top_px_;
  double top = members_title_top_px_ + (members_.empty() ? 0 : section_title_height_px);
  for (size_t index = 0; index < members_.size(); index++) {
    member_top_px_.push_back(top);
    top += member_lane_height_px + (commits_aggregated_ ? density_row_height_px : 0) + lane_gap_px;
  }
  clients_title_top_px_ = top;
  top += clients_.empty() ? 0 : section_title_height_px;
  for (size_t index = 0; index < clients_.size(); index++) {
    client_top_px_.push_back(top);
    top += static_cast<double>(client_rows_[index]) * operation_row_height_px + 4 +
           (operation_density_.has_lane(index) ? density_row_height_px : 0) + lane_gap_px;
  }
  height_px_ = top + 4;
}

std::string Renderer::html() {
  plan_lanes();
  plan_operations();
  plan_commits();
  plan_cuts();
  lay_out();
  draw_notes();
  draw_lane_backgrounds();
  draw_faults();
  draw_roles();
  draw_commits();
  draw_operations();
  draw_marks();
  draw_axis();

  const std::string title =
      escape_html(timeline_.title.empty() ? "quire timeline" : timeline_.title);
  std::string out =
      concat("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>", title,
             "</title>\n<style>", style_sheet, "</style></head><body>\n<h1>", title, "</h1>\n");
  out.append(concat("<p>", format_instant(scale_.begin()), " .. ", format_instant(scale_.end()),
                    ": ", members_.size(), " members, ", clients_.size(), " clients, ",
                    timeline_.operations.size(), " operations, ", timeline_.commits.size(),
                    " commits, ", timeline_.faults.size(), " faults, ", timeline_.marks.size(),
                    " marks</p>\n"));
  out.append(legend());
  out.append("<div id=\"info\">hover an item to see it here</div>\n<div class=\"chart\">");
  out.append(concat("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"",
                    px(lane_label_width_px + scale_.width_px() + right_margin_px), "\" height=\"",
                    px(height_px_), "\">\n"));
  out.append(svg_);
  out.append("</svg></div>\n<script>");
  out.append(script);
  out.append("</script>\n</body></html>\n");
  return out;
}

}  // namespace

std::string render_timeline_html(const Timeline& timeline, const TimelineOptions& options) {
  Renderer renderer(timeline, options);
  return renderer.html();
}

Status write_timeline_html(const Timeline& timeline, const std::string& path,
                           const TimelineOptions& options) {
  const std::string html = render_timeline_html(timeline, options);
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return Error(ErrorCode::io_error, concat("timeline: cannot create ", path));
  const size_t written = std::fwrite(html.data(), 1, html.size(), file);
  const bool closed = std::fclose(file) == 0;
  if (written != html.size() || !closed) {
    return Error(ErrorCode::io_error, concat("timeline: cannot write ", path));
  }
  return ok_status();
}

}  // namespace quire::harness
