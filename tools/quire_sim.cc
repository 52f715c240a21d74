// quire-sim: the simulator driver. Until the engine lands, `run` drives the io-level chatter
// workload on N nodes under the fault injector and prints what happened; see docs/simulation.md.
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "io/base/text.h"
#include "sim/chatter.h"
#include "sim/determinism.h"
#include "sim/fault_injector.h"
#include "sim/world.h"

#ifndef QUIRE_GIT_COMMIT
#define QUIRE_GIT_COMMIT "unknown"
#endif

namespace quire {
namespace {

struct RunFlags {
  uint64_t seed = 1;
  size_t nodes = 3;
  int64_t seconds = 30;
  std::string faults = "swarm";
  bool check_determinism = false;
};

[[noreturn]] void usage(const char* problem) {
  std::fprintf(
      stderr,
      "quire-sim: %s\n"
      "usage: quire-sim run [--seed N] [--nodes N] [--seconds S]\n"
      "                     [--faults swarm|all|none|kind,kind,...] [--check-determinism]\n",
      problem);
  std::exit(2);
}

uint64_t parse_number(std::string_view flag, std::string_view text) {
  uint64_t value = 0;
  const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (status != std::errc() || end != text.data() + text.size()) {
    usage(concat("bad number for ", flag, ": '", text, "'").c_str());
  }
  return value;
}

RunFlags parse_run_flags(int argc, char** argv) {
  RunFlags flags;
  for (int index = 2; index < argc; index++) {
    const std::string_view flag = argv[index];
    auto value = [&]() -> std::string_view {
      if (index + 1 >= argc) usage(concat("missing value for ", flag).c_str());
      return argv[++index];
    };
    if (flag == "--seed") {
      flags.seed = parse_number(flag, value());
    } else if (flag == "--nodes") {
      flags.nodes = parse_number(flag, value());
      if (flags.nodes < 1 || flags.nodes > 9) usage("--nodes must be 1..9");
    } else if (flag == "--seconds") {
      flags.seconds = static_cast<int64_t>(parse_number(flag, value()));
      if (flags.seconds < 3) usage("--seconds must be at least 3");
    } else if (flag == "--faults") {
      flags.faults = std::string(value());
    } else if (flag == "--check-determinism") {
      flags.check_determinism = true;
    } else {
      usage(concat("unknown flag '", flag, "'").c_str());
    }
  }
  return flags;
}

sim::FaultPlan parse_faults(const RunFlags& flags) {
  Rng rng(split_seed(flags.seed, "swarm"));
  if (flags.faults == "swarm") return sim::FaultPlan::swarm(rng);
  sim::FaultPlan plan;
  if (flags.faults == "all") {
    plan.enable_all();
  } else if (flags.faults != "none") {
    std::string_view rest = flags.faults;
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      const std::string_view name = rest.substr(0, comma);
      sim::FaultKind kind;
      if (!sim::parse_fault_kind(name, &kind))
        usage(concat("unknown fault kind '", name, "'").c_str());
      plan.set(kind);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  return plan;
}

struct ChatterReport {
  sim::Trace trace;
  sim::ChatterCounts counts;
  std::vector<std::string> fault_log;
};

ChatterReport run_chatter(const RunFlags& flags, const sim::TraceOptions& trace_options) {
  sim::WorldOptions options;
  options.seed = flags.seed;
  options.trace = trace_options;
  ChatterReport report;
  sim::World world(options);
  std::vector<std::string> names;
  for (size_t node = 0; node < flags.nodes; node++)
    names.push_back(concat("n", node));
  for (const std::string& name : names) {
    std::vector<std::string> peers = names;
    std::erase(peers, name);
    if (peers.empty()) peers.push_back(name);
    world.add_node(name, sim::chatter_main(report.counts, peers));
  }
  for (size_t node = 0; node < world.node_count(); node++)
    world.start(node);
  sim::FaultPlan plan = parse_faults(flags);
  plan.max_faulty_nodes = (flags.nodes - 1) / 2;
  sim::FaultInjector injector(world, plan, split_seed(flags.seed, "injector"));
  const Instant end = Instant() + Duration::seconds(flags.seconds);
  injector.schedule(Instant() + Duration::milliseconds(100), end - Duration::seconds(2));
  world.run_until(end);
  report.fault_log = injector.log();
  report.trace = world.trace();
  return report;
}

int run(int argc, char** argv) {
  const RunFlags flags = parse_run_flags(argc, argv);
  const sim::FaultPlan plan = parse_faults(flags);
  std::printf("quire-sim run: seed=%llu commit=%s nodes=%zu seconds=%lld\n",
              static_cast<unsigned long long>(flags.seed), QUIRE_GIT_COMMIT, flags.nodes,
              static_cast<long long>(flags.seconds));
  std::printf(
      "  workload: chatter (io layer: frames echoed between nodes, logs written and synced)\n");
  std::printf("  faults: %s\n", plan.describe().c_str());
  std::printf("  replay: quire-sim run --seed %llu --nodes %zu --seconds %lld --faults %s\n",
              static_cast<unsigned long long>(flags.seed), flags.nodes,
              static_cast<long long>(flags.seconds), flags.faults.c_str());
  const ChatterReport report = run_chatter(flags, {});
  for (const std::string& line : report.fault_log)
    std::printf("  fault %s\n", line.c_str());
  std::printf("  round trips %llu, frames echoed %llu, network errors %llu\n",
              static_cast<unsigned long long>(report.counts.round_trips),
              static_cast<unsigned long long>(report.counts.frames_echoed),
              static_cast<unsigned long long>(report.counts.network_errors));
  std::printf("  disk writes synced %llu, disk errors %llu, process starts %llu\n",
              static_cast<unsigned long long>(report.counts.disk_writes),
              static_cast<unsigned long long>(report.counts.disk_errors),
              static_cast<unsigned long long>(report.counts.starts));
  std::printf("  trace: %llu events, hash %s\n",
              static_cast<unsigned long long>(report.trace.event_count()),
              hex64(report.trace.hash()).c_str());
  if (flags.check_determinism) {
    const sim::DivergenceReport divergence = sim::check_determinism(
        [&](const sim::TraceOptions& options) { return run_chatter(flags, options).trace; },
        [&](const sim::TraceOptions& options) { return run_chatter(flags, options).trace; });
    std::printf("  %s\n", divergence.to_string().c_str());
    if (divergence.diverged) return 129;
  }
  return 0;
}

}  // namespace
}  // namespace quire

int main(int argc, char** argv) {
  if (argc < 2) quire::usage("missing command");
  if (std::strcmp(argv[1], "run") == 0) return quire::run(argc, argv);
  quire::usage("unknown command");
}
