#include "tools/bench_options.h"

#include <array>

#include "io/base/text.h"
#include "tools/cli_flags.h"

namespace quire::tools {
namespace {

// Above these a run measures the bench rather than the group: every client is a fiber with a
// 256 KiB stack, and a value past 1 MiB (the default write-cache block) is a bulk load.
constexpr uint64_t clients_max = 1024;
constexpr uint64_t value_size_bytes_max = 1 << 20;
constexpr uint64_t operation_count_max = 1'000'000'000;
constexpr uint64_t seconds_max = 86'400;
constexpr uint64_t key_count_max = 1'000'000'000'000;

struct FlagSpec {
  std::string_view name;
  bool takes_value;
};
constexpr std::array<FlagSpec, 10> bench_flags = {{{"--clients", true},
                                                   {"--connections", true},
                                                   {"--value-size", true},
                                                   {"--count", true},
                                                   {"--seconds", true},
                                                   {"--mix", true},
                                                   {"--keys", true},
                                                   {"--consistency", true},
                                                   {"--json", false},
                                                   {"--progress", false}}};

Result<uint64_t> parse_in_range(std::string_view text, std::string_view flag, uint64_t low,
                                uint64_t high) {
  QUIRE_TRY_ASSIGN(const uint64_t value, parse_number(text, flag));
  if (value < low || value > high) {
    return usage_error(concat(flag, ": '", text, "' is not in ", low, " to ", high));
  }
  return value;
}

// "put=P,get=G,txn=T": any order, each name at most once, the named ones adding up to 100.
Result<BenchMix> parse_mix(std::string_view text) {
  BenchMix mix{.put_percent = 0, .get_percent = 0, .txn_percent = 0};
  std::array<bool, 3> seen = {false, false, false};
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const size_t equals = item.find('=');
    const std::string_view name = item.substr(0, equals);
    if (equals == std::string_view::npos) {
      return usage_error(concat("--mix: '", item, "' is not NAME=PERCENT"));
    }
    const size_t slot = name == "put" ? 0 : name == "get" ? 1 : name == "txn" ? 2 : seen.size();
    if (slot == seen.size()) {
      return usage_error(concat("--mix: '", name, "' is not put, get or txn"));
    }
    if (seen[slot]) return usage_error(concat("--mix: '", name, "' is given twice"));
    seen[slot] = true;
    QUIRE_TRY_ASSIGN(const uint64_t percent,
                     parse_in_range(item.substr(equals + 1), "--mix", 0, 100));
    uint32_t& target = slot == 0 ? mix.put_percent : slot == 1 ? mix.get_percent : mix.txn_percent;
    target = static_cast<uint32_t>(percent);
  }
  if (mix.put_percent + mix.get_percent + mix.txn_percent != 100) {
    return usage_error("--mix: the percentages must add up to 100");
  }
  return mix;
}

Result<BenchConsistency> parse_consistency(std::string_view text) {
  if (text == "linearizable") return BenchConsistency::linearizable;
  if (text == "local") return BenchConsistency::local;
  return usage_error(concat("--consistency: '", text, "' is not linearizable or local"));
}

// One flag with its value (empty for the switches) into `options`.
Status apply(std::string_view name, std::string_view value, BenchOptions& options,
             bool& connections_given, bool& count_given) {
  if (name == "--clients") {
    QUIRE_TRY_ASSIGN(const uint64_t clients, parse_in_range(value, name, 1, clients_max));
    options.clients = static_cast<uint32_t>(clients);
  } else if (name == "--connections") {
    QUIRE_TRY_ASSIGN(const uint64_t connections, parse_in_range(value, name, 1, clients_max));
    options.connections = static_cast<uint32_t>(connections);
    connections_given = true;
  } else if (name == "--value-size") {
    QUIRE_TRY_ASSIGN(options.value_size_bytes,
                     parse_in_range(value, name, 0, value_size_bytes_max));
  } else if (name == "--count") {
    QUIRE_TRY_ASSIGN(options.operation_count, parse_in_range(value, name, 1, operation_count_max));
    count_given = true;
  } else if (name == "--seconds") {
    QUIRE_TRY_ASSIGN(options.seconds, parse_in_range(value, name, 1, seconds_max));
  } else if (name == "--mix") {
    QUIRE_TRY_ASSIGN(options.mix, parse_mix(value));
  } else if (name == "--keys") {
    QUIRE_TRY_ASSIGN(options.key_count, parse_in_range(value, name, 1, key_count_max));
  } else if (name == "--consistency") {
    QUIRE_TRY_ASSIGN(options.consistency, parse_consistency(value));
  } else if (name == "--json") {
    options.json = true;
  } else {
    QUIRE_ASSERT(name == "--progress");
    options.progress = true;
  }
  return ok_status();
}

}  // namespace

const char* const bench_usage_text =
    "  bench [--clients N] [--connections M] [--value-size B] [--count K | --seconds S]\n"
    "        [--mix put=P,get=G,txn=T] [--keys K] [--consistency linearizable|local]\n"
    "        [--json] [--progress]\n"
    "                                load: N closed-loop clients (default 1) on M connections\n"
    "                                (default N), K operations (default 10000) or S seconds,\n"
    "                                B-byte values (256), keys bench-<n> of K (100000), the mix\n"
    "                                in percent (put=100); prints rate and latency; exit 0 all\n"
    "                                ok, 1 some failed, 4 no leader\n";

std::optional<bool> bench_flag_takes_value(std::string_view name) {
  for (const FlagSpec& flag : bench_flags) {
    if (flag.name == name) return flag.takes_value;
  }
  return std::nullopt;
}

Result<BenchOptions> parse_bench_options(const std::vector<std::string>& arguments) {
  BenchOptions options;
  bool connections_given = false;
  bool count_given = false;
  for (const std::string& argument : arguments) {
    const size_t equals = argument.find('=');
    const std::string_view name = std::string_view(argument).substr(0, equals);
    const std::optional<bool> takes_value = bench_flag_takes_value(name);
    QUIRE_ASSERT_MSG(takes_value.has_value(), "the caller passes only bench's flags");
    if (*takes_value != (equals != std::string::npos)) {
      return usage_error(concat(name, *takes_value ? " needs a value" : " takes no value"));
    }
    const std::string_view value = equals == std::string::npos
                                       ? std::string_view()
                                       : std::string_view(argument).substr(equals + 1);
    QUIRE_TRY(apply(name, value, options, connections_given, count_given));
  }
  if (count_given && options.seconds > 0) return usage_error("give --count or --seconds, not both");
  if (options.seconds > 0) options.operation_count = 0;
  if (!connections_given) options.connections = options.clients;
  if (options.connections > options.clients) {
    return usage_error(concat("--connections: ", options.connections, " is more than --clients ",
                              options.clients));
  }
  return options;
}

}  // namespace quire::tools
