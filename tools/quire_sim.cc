// quire-sim: the simulator driver (docs/simulation.md).
//   quire-sim run --seed N [--nodes N] [--seconds S] [--faults swarm|all|none|kind,...]
//                 [--over-budget] [--check-determinism] [--trace FILE]
// Every parameter not given is drawn from the seed. Exit codes: 0 passed, 127 an assertion
// failed, 128 liveness failure, 129 correctness failure, 2 usage.
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "harness/simulation.h"
#include "io/base/text.h"
#include "sim/determinism.h"

#ifndef QUIRE_GIT_COMMIT
#define QUIRE_GIT_COMMIT "unknown"
#endif

namespace quire {
namespace {

constexpr int exit_assertion = 127;

[[noreturn]] void usage(const std::string& problem) {
  std::fprintf(stderr,
               "quire-sim: %s\n"
               "usage: quire-sim run [--seed N] [--nodes 1|3|5] [--seconds S]\n"
               "                     [--faults swarm|all|none|kind,kind,...] [--over-budget]\n"
               "                     [--check-determinism] [--trace FILE]\n",
               problem.c_str());
  std::exit(2);
}

uint64_t parse_number(std::string_view flag, std::string_view text) {
  uint64_t value = 0;
  const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (status != std::errc() || end != text.data() + text.size()) {
    usage(concat("bad number for ", flag, ": '", text, "'"));
  }
  return value;
}

struct RunFlags {
  uint64_t seed = 1;
  std::optional<uint32_t> nodes;
  std::optional<int64_t> seconds;
  std::optional<std::string> faults;
  bool over_budget = false;
  bool check_determinism = false;
  std::string trace_path;
};

RunFlags parse_run_flags(int argc, char** argv) {
  RunFlags flags;
  for (int index = 2; index < argc; index++) {
    const std::string_view flag = argv[index];
    auto value = [&]() -> std::string_view {
      if (index + 1 >= argc) usage(concat("missing value for ", flag));
      return argv[++index];
    };
    if (flag == "--seed") {
      flags.seed = parse_number(flag, value());
    } else if (flag == "--nodes") {
      const uint64_t nodes = parse_number(flag, value());
      if (nodes != 1 && nodes != 3 && nodes != 5) usage("--nodes must be 1, 3 or 5");
      flags.nodes = static_cast<uint32_t>(nodes);
    } else if (flag == "--seconds") {
      flags.seconds = static_cast<int64_t>(parse_number(flag, value()));
      if (*flags.seconds < 2 || *flags.seconds > 100'000) usage("--seconds must be 2..100000");
    } else if (flag == "--faults") {
      flags.faults = std::string(value());
    } else if (flag == "--over-budget") {
      flags.over_budget = true;
    } else if (flag == "--check-determinism") {
      flags.check_determinism = true;
    } else if (flag == "--trace") {
      flags.trace_path = std::string(value());
    } else {
      usage(concat("unknown flag '", flag, "'"));
    }
  }
  return flags;
}

harness::ClusterSpec spec_from(const RunFlags& flags) {
  harness::ClusterSpec spec = harness::ClusterSpec::draw(flags.seed);
  if (flags.nodes) spec.member_count = *flags.nodes;
  if (flags.seconds) spec.duration = Duration::seconds(*flags.seconds);
  if (flags.faults) {
    sim::FaultPlan plan = spec.faults;
    plan.enabled.fill(false);
    if (*flags.faults == "all") {
      plan.enable_all();
    } else if (*flags.faults == "swarm") {
      plan = spec.faults;
    } else if (*flags.faults != "none") {
      std::string_view rest = *flags.faults;
      while (!rest.empty()) {
        const size_t comma = rest.find(',');
        const std::string_view name = rest.substr(0, comma);
        sim::FaultKind kind;
        if (!sim::parse_fault_kind(name, &kind)) usage(concat("unknown fault kind '", name, "'"));
        plan.set(kind);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
    }
    spec.faults = plan;
  }
  if (flags.over_budget) spec.over_budget = true;
  spec.faults.max_faulty_nodes = spec.over_budget ? spec.member_count : (spec.member_count - 1) / 2;
  return spec;
}

std::string replay_command(const RunFlags& flags, const harness::ClusterSpec& spec) {
  std::string command = concat("quire-sim run --seed ", flags.seed, " --nodes ", spec.member_count,
                               " --seconds ", spec.duration.ms() / 1000);
  if (flags.faults) command += concat(" --faults ", *flags.faults);
  if (spec.over_budget) command += " --over-budget";
  return command;
}

int run(int argc, char** argv) {
  const RunFlags flags = parse_run_flags(argc, argv);
  const harness::ClusterSpec spec = spec_from(flags);
  const std::string replay = replay_command(flags, spec);
  std::printf("quire-sim run: seed %llu, commit %s\n", static_cast<unsigned long long>(flags.seed),
              QUIRE_GIT_COMMIT);
  std::printf("%s", spec.describe().c_str());
  std::printf("  replay: %s\n", replay.c_str());
  std::fflush(stdout);
  set_assertion_exit([] { std::_Exit(exit_assertion); });
  std::FILE* trace_file = nullptr;
  harness::SimulationOptions options;
  options.trace.keep_hashes = flags.check_determinism;
  if (!flags.trace_path.empty()) {
    trace_file = std::fopen(flags.trace_path.c_str(), "w");
    if (trace_file == nullptr) usage(concat("cannot write the trace to ", flags.trace_path));
    options.trace.sink = trace_file;
  }
  const harness::SimulationReport report = harness::run_simulation(spec, options);
  if (trace_file != nullptr) std::fclose(trace_file);
  for (const std::string& line : report.fault_log)
    std::printf("  fault %s\n", line.c_str());
  for (const std::string& line : report.node_exits)
    std::printf("  node exit %s\n", line.c_str());
  std::printf("%s", report.summary().c_str());
  std::printf("  marks:");
  for (const auto& [mark, count] : report.marks) {
    std::printf(" %s=%llu", mark.c_str(), static_cast<unsigned long long>(count));
  }
  std::printf("\n");
  int code = report.exit_code();
  if (flags.check_determinism) {
    auto again = [&](const sim::TraceOptions& trace) {
      harness::SimulationOptions rerun;
      rerun.trace = trace;
      return harness::run_simulation(spec, rerun).trace;
    };
    const sim::DivergenceReport divergence = sim::check_determinism(report.trace, again, again);
    std::printf("  determinism: %s\n", divergence.to_string().c_str());
    if (divergence.diverged) code = 129;
  }
  std::printf("%s: %s\n", code == 0 ? "PASSED" : "FAILED", replay.c_str());
  return code;
}

}  // namespace
}  // namespace quire

int main(int argc, char** argv) {
  if (argc < 2) quire::usage("missing command");
  if (std::strcmp(argv[1], "run") == 0) return quire::run(argc, argv);
  quire::usage(quire::concat("unknown command '", argv[1], "'"));
}
