#include "tools/bench_report.h"

#include <array>

#include "io/base/text.h"

namespace quire::tools {
namespace {

struct Percentile {
  const char* text_name;
  const char* json_name;
  double fraction;
};
constexpr std::array<Percentile, 4> percentiles = {
    {{"p50", "p50", 0.50}, {"p90", "p90", 0.90}, {"p99", "p99", 0.99}, {"p99.9", "p999", 0.999}}};

std::string format_number(const char* format, double value) {
  std::array<char, 64> buffer{};
  const int length = std::snprintf(buffer.data(), buffer.size(), format, value);
  QUIRE_ASSERT(length > 0 && static_cast<size_t>(length) < buffer.size());
  return std::string(buffer.data(), static_cast<size_t>(length));
}

double milliseconds(uint64_t value_ns) {
  return static_cast<double>(value_ns) / 1e6;
}

// Error kinds are identifiers (ErrorCode and Outcome names); escaped anyway, so that the object
// stays valid JSON whatever a future kind is called.
std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const char letter : text) {
    if (letter == '"' || letter == '\\') {
      out += concat('\\', letter);
    } else if (static_cast<unsigned char>(letter) < 0x20) {
      std::array<char, 8> escape{};
      std::snprintf(escape.data(), escape.size(), "\\u%04x", static_cast<unsigned>(letter));
      out += escape.data();
    } else {
      out += letter;
    }
  }
  return out + "\"";
}

}  // namespace

void print_bench_text(std::FILE* out, const BenchOptions& options, const BenchResult& result) {
  const BenchMix& mix = options.mix;
  std::fprintf(out,
               "bench: %u clients on %u connections, %llu-byte values, %llu keys, mix put=%u "
               "get=%u txn=%u\n",
               options.clients, options.connections,
               static_cast<unsigned long long>(options.value_size_bytes),
               static_cast<unsigned long long>(options.key_count), mix.put_percent, mix.get_percent,
               mix.txn_percent);
  std::fprintf(out, "operations: %llu (gets not found: %llu)\n",
               static_cast<unsigned long long>(result.operations),
               static_cast<unsigned long long>(result.gets_not_found));
  std::fprintf(out, "errors: %llu\n", static_cast<unsigned long long>(result.error_count));
  for (const auto& [kind, count] : result.errors) {
    std::fprintf(out, "  %s: %llu\n", kind.c_str(), static_cast<unsigned long long>(count));
  }
  std::fprintf(out, "elapsed: %.3f s\n", result.seconds);
  std::fprintf(out, "rate: %.1f ops/s (successful operations)\n", result.rate());
  std::fprintf(out, "latency ms:");
  for (const Percentile& percentile : percentiles) {
    std::fprintf(out, " %s %.3f", percentile.text_name,
                 milliseconds(result.latency.percentile_ns(percentile.fraction)));
  }
  std::fprintf(out, " max %.3f\n", milliseconds(result.latency.max_ns()));
}

std::string bench_json(const BenchOptions& options, const BenchResult& result) {
  std::string errors;
  for (const auto& [kind, count] : result.errors) {
    errors += concat(errors.empty() ? "" : ",", json_string(kind), ":", count);
  }
  std::string latency;
  for (const Percentile& percentile : percentiles) {
    latency += concat(
        "\"", percentile.json_name, "\":",
        format_number("%.3f", milliseconds(result.latency.percentile_ns(percentile.fraction))),
        ",");
  }
  latency += concat("\"max\":", format_number("%.3f", milliseconds(result.latency.max_ns())));
  const BenchMix& mix = options.mix;
  return concat("{\"operations\":", result.operations, ",\"errors\":{", errors,
                "},\"error_count\":", result.error_count,
                ",\"seconds\":", format_number("%.3f", result.seconds),
                ",\"rate\":", format_number("%.1f", result.rate()), ",\"latency_ms\":{", latency,
                "},\"clients\":", options.clients, ",\"connections\":", options.connections,
                ",\"value_size\":", options.value_size_bytes, ",\"mix\":{\"put\":", mix.put_percent,
                ",\"get\":", mix.get_percent, ",\"txn\":", mix.txn_percent, "}}");
}

}  // namespace quire::tools
