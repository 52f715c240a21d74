// See history.h.
#include "harness/history.h"

#include <cinttypes>
#include <cstdio>
#include <set>

#include "io/base/text.h"

namespace quire::harness {

const char* outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::ok:
      return "ok";
    case Outcome::failed:
      return "failed";
    case Outcome::unknown:
      return "unknown";
  }
  QUIRE_UNREACHABLE();
}

Condition Condition::value_equals(Key key, Value value) {
  return Condition{std::move(key), Kind::value_equals, std::move(value), CommitCounter()};
}
Condition Condition::version_equals(Key key, CommitCounter version) {
  return Condition{std::move(key), Kind::version_equals, Value(), version};
}
Condition Condition::absent(Key key) {
  return Condition{std::move(key), Kind::absent, Value(), CommitCounter()};
}

Write Write::put(Key key, Value value) {
  return Write{std::move(key), std::move(value)};
}
Write Write::remove(Key key) {
  return Write{std::move(key), std::nullopt};
}

ReadResult ReadResult::found(Key key, Value value, std::optional<CommitCounter> version) {
  return ReadResult{std::move(key), std::move(value), version};
}
ReadResult ReadResult::missing(Key key) {
  return ReadResult{std::move(key), std::nullopt, std::nullopt};
}

namespace {

Error invalid(const Operation& operation, std::string_view rule) {
  return Error(ErrorCode::invalid_argument, concat("history: op ", operation.id, ": ", rule));
}

Status validate_operation(const Operation& operation) {
  if (operation.complete.has_value() && *operation.complete < operation.invoke) {
    return invalid(operation, "completes before it is invoked");
  }
  // Commit counter 0 is the empty journal: no write carries it, and no read of a present key
  // reports it.
  if (operation.commit_counter.has_value() && operation.commit_counter->value() == 0) {
    return invalid(operation, "commit counter 0");
  }
  for (const ReadResult& read : operation.reads) {
    if (read.version.has_value() && read.version->value() == 0) {
      return invalid(operation, "read reports version 0 (say 'not reported' instead)");
    }
  }
  if (operation.outcome != Outcome::unknown && !operation.complete.has_value()) {
    return invalid(operation, "has a definite outcome but no completion time");
  }
  if (operation.condition_failed) {
    if (operation.outcome != Outcome::ok) return invalid(operation, "condition_failed without ok");
    if (operation.conditions.empty()) return invalid(operation, "condition_failed, no condition");
    if (!operation.reads.empty()) return invalid(operation, "condition_failed with reads");
  }
  return ok_status();
}

}  // namespace

Status validate_history(const History& history) {
  std::set<uint64_t> ids;
  for (const Operation& operation : history) {
    if (!ids.insert(operation.id).second) return invalid(operation, "id is not unique");
    QUIRE_TRY(validate_operation(operation));
  }
  return ok_status();
}

std::string format_instant(Instant instant) {
  const int64_t ns = instant.ns();
  if (instant == Instant::max()) return "never";
  char text[48];
  const char* sign = ns < 0 ? "-" : "";
  const uint64_t magnitude = ns < 0 ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  std::snprintf(text, sizeof(text), "%s%" PRIu64 ".%06" PRIu64 "s", sign, magnitude / 1'000'000'000,
                (magnitude % 1'000'000'000) / 1'000);
  return text;
}

std::string quote_value(const std::string& value) {
  // Large values (a workload writes megabytes) would drown a report; their head and length
  // identify them well enough.
  constexpr size_t shown_bytes_max = 24;
  std::string out = "\"";
  const size_t shown = std::min(value.size(), shown_bytes_max);
  for (size_t index = 0; index < shown; index++) {
    const auto byte = static_cast<unsigned char>(value[index]);
    if (byte == '"' || byte == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(byte));
    } else if (byte >= 0x20 && byte < 0x7f) {
      out.push_back(static_cast<char>(byte));
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", byte);
      out.append(escaped);
    }
  }
  out.push_back('"');
  if (shown < value.size()) out.append(concat("...(", value.size(), " bytes)"));
  return out;
}

namespace {

std::string describe_condition(const Condition& condition) {
  switch (condition.kind) {
    case Condition::Kind::value_equals:
      return concat(quote_value(condition.key), "==", quote_value(condition.value));
    case Condition::Kind::version_equals:
      return concat(quote_value(condition.key), "@", condition.version.value());
    case Condition::Kind::absent:
      return concat(quote_value(condition.key), " absent");
  }
  QUIRE_UNREACHABLE();
}

std::string describe_write(const Write& write) {
  if (!write.value.has_value()) return concat("remove ", quote_value(write.key));
  return concat("put ", quote_value(write.key), "=", quote_value(*write.value));
}

std::string describe_read(const ReadResult& read, bool answered) {
  if (!answered) return concat("read ", quote_value(read.key));
  if (!read.value.has_value()) return concat("read ", quote_value(read.key), " -> absent");
  std::string out = concat("read ", quote_value(read.key), " -> ", quote_value(*read.value));
  if (read.version.has_value()) out.append(concat("@", read.version->value()));
  return out;
}

void append_joined(std::string& out, const std::string& piece, std::string_view separator) {
  if (!out.empty()) out.append(separator);
  out.append(piece);
}

}  // namespace

std::string describe_body(const Operation& operation) {
  std::string conditions;
  for (const Condition& condition : operation.conditions) {
    append_joined(conditions, describe_condition(condition), " && ");
  }
  std::string actions;
  for (const Write& write : operation.writes)
    append_joined(actions, describe_write(write), ", ");
  const bool answered = operation.outcome == Outcome::ok;
  for (const ReadResult& read : operation.reads) {
    append_joined(actions, describe_read(read, answered), ", ");
  }
  std::string out;
  if (!conditions.empty())
    out = concat("if ", conditions, operation.condition_failed ? " (false)" : "");
  append_joined(out, actions, conditions.empty() ? "" : " then ");
  return out;
}

std::string describe_operation(const Operation& operation) {
  std::string out = concat("op ", operation.id, " client ", operation.client, " [",
                           format_instant(operation.invoke), ", ",
                           operation.complete ? format_instant(*operation.complete) : "never", "] ",
                           outcome_name(operation.outcome));
  if (operation.commit_counter.has_value())
    out.append(concat(" @", operation.commit_counter->value()));
  out.append(": ");
  out.append(describe_body(operation));
  return out;
}

}  // namespace quire::harness
