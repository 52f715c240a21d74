// quire-sim: the simulator driver (docs/harness.md, "Running the simulator").
//   quire-sim run --seed N [--nodes N] [--seconds S] [--faults swarm|all|none|kind,...]
//                 [--over-budget] [--check-determinism] [--trace FILE]
// Every parameter not given is drawn from the seed. Exit codes: 0 passed, 127 an assertion
// failed, 128 liveness failure, 129 correctness failure, 2 usage.
// Built as quire-sim-planted (QUIRE_PLANTED_BUGS), `run`, `fuzz`, `replay` and `shrink` also take
// --plant NAME: one deliberately broken rule for the whole process (io/base/planted_bug.h,
// docs/harness.md).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/coverage_marks.h"
#include "harness/scenario.h"
#include "harness/simulation.h"
#include "io/base/planted_bug.h"
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
               "                     [--check-determinism] [--trace FILE]\n"
               "       quire-sim replay FILE [--trace FILE]\n"
               "       quire-sim fuzz [--seeds K] [--start S] [--jobs J] [--seconds S]\n"
               "                      [--check-determinism] [--require-coverage]\n"
               "       quire-sim shrink --seed N [--seconds S] [--out FILE]\n"
               "quire-sim-planted run, fuzz, replay and shrink also take --plant NAME;\n"
               "fuzz --until-caught stops\n"
               "at the first seed whose failure names the planted bug's checker\n",
               problem.c_str());
  std::exit(2);
}

// The planted bug `name`, checked: only quire-sim-planted has planted bugs.
const PlantedBugInfo& parse_planted_bug(std::string_view name) {
  if (!planted_bugs_built) {
    usage(concat("--plant ", name,
                 ": this build has no planted bugs; use quire-sim-planted (docs/harness.md)"));
  }
  const PlantedBugInfo* info = find_planted_bug(name);
  if (info == nullptr) {
    std::string names;
    for (const PlantedBugInfo& each : planted_bugs)
      names += concat(" ", each.name);
    usage(concat("unknown planted bug '", name, "'; the planted bugs are:", names));
  }
  return *info;
}

// Turns the bug on for this process (before any simulation starts) and says so in the report.
void plant(const PlantedBugInfo& info) {
#ifdef QUIRE_PLANTED_BUGS
  planted_bug_chosen = info.bug;
#else
  QUIRE_ASSERT_MSG(false, "parse_planted_bug refuses --plant in this build");
#endif
  std::printf("  PLANTED BUG %s (the %s checker must catch it)\n", std::string(info.name).c_str(),
              std::string(info.checker).c_str());
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
  const PlantedBugInfo* planted = nullptr;
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
    } else if (flag == "--plant") {
      flags.planted = &parse_planted_bug(value());
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
  std::string command =
      concat(flags.planted != nullptr ? "quire-sim-planted" : "quire-sim", " run --seed ",
             flags.seed, " --nodes ", spec.member_count, " --seconds ", spec.duration.ms() / 1000);
  if (flags.planted != nullptr) command += concat(" --plant ", flags.planted->name);
  if (flags.faults) command += concat(" --faults ", *flags.faults);
  if (spec.over_budget) command += " --over-budget";
  return command;
}

// The whole text of `path`, or nullopt when it cannot be read.
std::optional<std::string> read_text_file(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) return std::nullopt;
  std::string text;
  char buffer[65536];
  while (size_t count = std::fread(buffer, 1, sizeof buffer, file))
    text.append(buffer, count);
  std::fclose(file);
  return text;
}

// Starts this executable again (the running one, even if a rebuild replaced the file) with
// `arguments`, its stdout and stderr going to `output_path`. Returns its pid.
pid_t spawn_self(std::vector<std::string> arguments, const std::string& output_path) {
  static char self[] = "/proc/self/exe";
  std::vector<char*> raw = {self};
  for (std::string& argument : arguments)
    raw.push_back(argument.data());
  raw.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  if (posix_spawn(&pid, self, &actions, nullptr, raw.data(), environ) != 0) {
    usage(concat("cannot spawn quire-sim ", arguments.front()));
  }
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

int run(int argc, char** argv) {
  const RunFlags flags = parse_run_flags(argc, argv);
  const harness::ClusterSpec spec = spec_from(flags);
  const std::string replay = replay_command(flags, spec);
  std::printf("quire-sim run: seed %llu, commit %s\n", static_cast<unsigned long long>(flags.seed),
              QUIRE_GIT_COMMIT);
  if (flags.planted != nullptr) plant(*flags.planted);
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
      rerun.check = false;
      return harness::run_simulation(spec, rerun).trace;
    };
    const sim::DivergenceReport divergence = sim::check_determinism(report.trace, again, again);
    std::printf("  determinism: %s\n", divergence.to_string().c_str());
    if (divergence.diverged) code = 129;
  }
  std::printf("%s: %s\n", code == 0 ? "PASSED" : "FAILED", replay.c_str());
  return code;
}

// ---- replay: one scenario file ----

int replay(int argc, char** argv) {
  if (argc < 3) usage("replay needs a scenario file");
  const std::string path = argv[2];
  std::string trace_path;
  const PlantedBugInfo* planted = nullptr;
  for (int index = 3; index < argc; index++) {
    const std::string_view flag = argv[index];
    if (flag == "--trace" && index + 1 < argc) {
      trace_path = argv[++index];
    } else if (flag == "--plant" && index + 1 < argc) {
      planted = &parse_planted_bug(argv[++index]);
    } else {
      usage(concat("unknown flag '", flag, "'"));
    }
  }
  const std::optional<std::string> read = read_text_file(path);
  if (!read) usage(concat("cannot read ", path));
  const std::string& text = *read;
  std::string name = path.substr(path.find_last_of('/') + 1);
  name = name.substr(0, name.find('.'));
  auto scenario = harness::parse_scenario(text, name);
  if (!scenario.ok()) {
    std::fprintf(stderr, "quire-sim: %s\n", scenario.error().message().c_str());
    return 2;
  }
  std::printf("quire-sim replay %s: commit %s\n  %s\n", path.c_str(), QUIRE_GIT_COMMIT,
              scenario->description.c_str());
  std::printf("%s", scenario->spec.describe().c_str());
  if (planted != nullptr) plant(*planted);
  std::fflush(stdout);
  set_assertion_exit([] { std::_Exit(exit_assertion); });
  harness::SimulationOptions options;
  std::FILE* trace_file = nullptr;
  if (!trace_path.empty()) {
    trace_file = std::fopen(trace_path.c_str(), "w");
    if (trace_file == nullptr) usage(concat("cannot write the trace to ", trace_path));
    options.trace.sink = trace_file;
  }
  const harness::SimulationReport report = harness::run_simulation(scenario->spec, options);
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
  const std::vector<std::string> differences = harness::judge_scenario(*scenario, report);
  for (const std::string& difference : differences)
    std::printf("  UNEXPECTED %s\n", difference.c_str());
  std::printf("%s: %s\n", differences.empty() ? "AS EXPECTED" : "NOT AS EXPECTED", path.c_str());
  return differences.empty() ? 0 : (report.exit_code() != 0 ? report.exit_code() : 1);
}

// ---- fuzz: many seeds, each in a child process (an assertion ends only its child) ----

struct FuzzFlags {
  uint64_t first_seed = 1;
  uint64_t seed_count = 100;
  unsigned jobs = 2;
  std::optional<int64_t> seconds;
  bool check_determinism = false;
  bool require_coverage = false;
  const PlantedBugInfo* planted = nullptr;
  bool until_caught = false;
};

struct SeedOutcome {
  uint64_t seed = 0;
  int exit_code = 0;
  std::string signature;
  std::string output_path;  // Kept while the seed failed.
};

FuzzFlags parse_fuzz_flags(int argc, char** argv) {
  FuzzFlags flags;
  for (int index = 2; index < argc; index++) {
    const std::string_view flag = argv[index];
    auto value = [&]() -> std::string_view {
      if (index + 1 >= argc) usage(concat("missing value for ", flag));
      return argv[++index];
    };
    if (flag == "--seeds") {
      flags.seed_count = parse_number(flag, value());
    } else if (flag == "--start") {
      flags.first_seed = parse_number(flag, value());
    } else if (flag == "--jobs") {
      flags.jobs = static_cast<unsigned>(std::max<uint64_t>(1, parse_number(flag, value())));
    } else if (flag == "--seconds") {
      flags.seconds = static_cast<int64_t>(parse_number(flag, value()));
    } else if (flag == "--check-determinism") {
      flags.check_determinism = true;
    } else if (flag == "--require-coverage") {
      flags.require_coverage = true;
    } else if (flag == "--plant") {
      flags.planted = &parse_planted_bug(value());
    } else if (flag == "--until-caught") {
      flags.until_caught = true;
    } else {
      usage(concat("unknown flag '", flag, "'"));
    }
  }
  if (flags.until_caught && flags.planted == nullptr) usage("--until-caught needs --plant");
  return flags;
}

// How often each coverage mark was reached across a batch: seeds that reached it, and times.
struct MarkTally {
  uint64_t seeds = 0;
  uint64_t times = 0;
};

// Adds the "  marks: a=1 b=2" line of one seed's report.
void tally_marks(const std::string& output, std::map<std::string, MarkTally>& tallies) {
  const std::string prefix = "\n  marks:";
  const size_t begin = output.find(prefix);
  if (begin == std::string::npos) return;
  const size_t end = output.find('\n', begin + 1);
  std::string_view line = std::string_view(output).substr(
      begin + prefix.size(),
      end == std::string::npos ? std::string::npos : end - begin - prefix.size());
  while (!line.empty()) {
    const size_t space = line.find_first_not_of(' ');
    if (space == std::string_view::npos) break;
    line.remove_prefix(space);
    const size_t word_end = std::min(line.find(' '), line.size());
    const std::string_view word = line.substr(0, word_end);
    line.remove_prefix(word_end);
    const size_t equals = word.find('=');
    if (equals == std::string_view::npos) continue;
    MarkTally& tally = tallies[std::string(word.substr(0, equals))];
    tally.seeds++;
    tally.times += std::strtoull(std::string(word.substr(equals + 1)).c_str(), nullptr, 10);
  }
}

// Prints the coverage of a batch; returns the non-rare marks never reached.
size_t report_coverage(const std::map<std::string, MarkTally>& tallies) {
  std::printf("\ncoverage marks (seeds reached, times):\n");
  size_t missing = 0;
  for (const engine::CoverageMark& mark : engine::coverage_marks) {
    const auto found = tallies.find(std::string(mark.name));
    const MarkTally tally = found == tallies.end() ? MarkTally{} : found->second;
    const bool missed = tally.seeds == 0 && !mark.rare;
    if (missed) missing++;
    std::printf("  %-40s %6llu %9llu%s%s\n", std::string(mark.name).c_str(),
                static_cast<unsigned long long>(tally.seeds),
                static_cast<unsigned long long>(tally.times), mark.rare ? "  (rare)" : "",
                missed ? "  NEVER REACHED" : "");
  }
  return missing;
}

// The line that names what failed: the first FAIL line (checker and message, numbers kept), or
// the assertion and its place.
std::string signature_of(const std::string& output, int exit_code) {
  if (exit_code == 0) return {};
  std::string first_fail;
  std::string assertion;
  size_t begin = 0;
  while (begin < output.size()) {
    size_t end = output.find('\n', begin);
    if (end == std::string::npos) end = output.size();
    const std::string line = output.substr(begin, end - begin);
    if (first_fail.empty() && line.rfind("  FAIL ", 0) == 0) first_fail = line.substr(7);
    if (assertion.empty() && line.rfind("quire: assertion failed", 0) == 0) assertion = line;
    if (!assertion.empty() && line.rfind("  at ", 0) == 0 &&
        assertion.find(" at ") == std::string::npos) {
      assertion += line;
    }
    begin = end + 1;
  }
  if (!assertion.empty()) return assertion;
  if (!first_fail.empty()) {
    // Group by checker and the message's words, not its numbers: a word that holds a digit (a
    // counter, a member like n2, a hash like 3c4b5b1e) is '#'.
    const std::string text = first_fail.substr(0, 120);
    const auto is_word = [](char each) { return std::isalnum(static_cast<unsigned char>(each)); };
    std::string shape;
    for (size_t at = 0; at < text.size();) {
      if (!is_word(text[at])) {
        shape.push_back(text[at++]);
        continue;
      }
      size_t word_end = at;
      bool has_digit = false;
      for (; word_end < text.size() && is_word(text[word_end]); word_end++)
        has_digit = has_digit || std::isdigit(static_cast<unsigned char>(text[word_end]));
      shape += has_digit ? std::string("#") : text.substr(at, word_end - at);
      at = word_end;
    }
    return shape;
  }
  return concat("exit code ", exit_code);
}

int fuzz(int argc, char** argv) {
  const FuzzFlags flags = parse_fuzz_flags(argc, argv);
  std::printf("quire-sim fuzz: seeds %llu..%llu, %u jobs, commit %s\n",
              static_cast<unsigned long long>(flags.first_seed),
              static_cast<unsigned long long>(flags.first_seed + flags.seed_count - 1), flags.jobs,
              QUIRE_GIT_COMMIT);
  std::fflush(stdout);
  struct Child {
    pid_t pid;
    uint64_t seed;
    std::string output_path;
  };
  std::vector<Child> running;
  std::vector<SeedOutcome> outcomes;
  std::map<std::string, MarkTally> tallies;
  // --until-caught: the first seed where the planted bug's checker reports a finding (its FAIL
  // line), whichever checker reported first: a lost write is often a stale read too, and the
  // linearizability checker's line then comes before the durability checker's.
  std::optional<SeedOutcome> caught;
  const std::string caught_line =
      flags.planted != nullptr ? concat("\n  FAIL ", flags.planted->checker, ": ") : std::string();
  uint64_t next_seed = flags.first_seed;
  const uint64_t end_seed = flags.first_seed + flags.seed_count;
  auto spawn_seed = [&](uint64_t seed) {
    const std::string output_path = concat("/tmp/quire-sim-fuzz-", getpid(), "-", seed, ".log");
    std::vector<std::string> arguments = {"run", "--seed", std::to_string(seed)};
    if (flags.seconds) {
      arguments.push_back("--seconds");
      arguments.push_back(std::to_string(*flags.seconds));
    }
    if (flags.check_determinism) arguments.push_back("--check-determinism");
    if (flags.planted != nullptr) {
      arguments.push_back("--plant");
      arguments.push_back(std::string(flags.planted->name));
    }
    const pid_t pid = spawn_self(std::move(arguments), output_path);
    running.push_back(Child{pid, seed, output_path});
  };
  while (next_seed < end_seed || !running.empty()) {
    if (caught) {
      // Caught: the seeds still running are not needed. Only this process's own children.
      for (const Child& child : running) {
        kill(child.pid, SIGKILL);
        waitpid(child.pid, nullptr, 0);
        std::remove(child.output_path.c_str());
      }
      running.clear();
      break;
    }
    while (next_seed < end_seed && running.size() < flags.jobs)
      spawn_seed(next_seed++);
    int status = 0;
    const pid_t done = waitpid(-1, &status, 0);
    auto found = std::find_if(running.begin(), running.end(),
                              [done](const Child& each) { return each.pid == done; });
    if (found == running.end()) continue;
    const int exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 127;
    const std::string output = read_text_file(found->output_path).value_or("");
    tally_marks(output, tallies);
    if (exit_code == 0) std::remove(found->output_path.c_str());
    outcomes.push_back(
        SeedOutcome{found->seed, exit_code, signature_of(output, exit_code), found->output_path});
    std::printf("seed %llu: %s%s\n", static_cast<unsigned long long>(found->seed),
                exit_code == 0 ? "passed" : concat("FAILED (", exit_code, ") ").c_str(),
                exit_code == 0
                    ? ""
                    : concat(outcomes.back().signature, " [", found->output_path, "]").c_str());
    std::fflush(stdout);
    running.erase(found);
    if (flags.until_caught && exit_code != 0 &&
        concat("\n", output).find(caught_line) != std::string::npos) {
      caught = outcomes.back();
    }
  }
  if (flags.until_caught) {
    if (caught) {
      std::printf("\nplanted bug %s caught by %s at seed %llu: %s\n",
                  std::string(flags.planted->name).c_str(),
                  std::string(flags.planted->checker).c_str(),
                  static_cast<unsigned long long>(caught->seed), caught->signature.c_str());
      const std::string seconds =
          flags.seconds ? concat(" --seconds ", *flags.seconds) : std::string();
      std::printf("rerun: quire-sim-planted run --seed %llu%s --plant %s\n",
                  static_cast<unsigned long long>(caught->seed), seconds.c_str(),
                  std::string(flags.planted->name).c_str());
      // Failures were the point: their logs would only pile up in /tmp (kept when not caught).
      for (const SeedOutcome& outcome : outcomes)
        std::remove(outcome.output_path.c_str());
      return 0;
    }
    std::printf("\nplanted bug %s NOT caught by %s in %zu seeds\n",
                std::string(flags.planted->name).c_str(),
                std::string(flags.planted->checker).c_str(), outcomes.size());
    for (const SeedOutcome& outcome : outcomes) {
      if (outcome.exit_code != 0) {
        std::printf("  seed %llu: %s\n", static_cast<unsigned long long>(outcome.seed),
                    outcome.signature.c_str());
      }
    }
    return 1;
  }
  std::map<std::string, std::vector<uint64_t>> groups;
  size_t failed = 0;
  for (const SeedOutcome& outcome : outcomes) {
    if (outcome.exit_code == 0) continue;
    failed++;
    groups[outcome.signature].push_back(outcome.seed);
  }
  std::printf("\n%zu of %zu seeds failed, in %zu groups\n", failed, outcomes.size(), groups.size());
  for (auto& [signature, seeds] : groups) {
    std::sort(seeds.begin(), seeds.end());
    std::string list;
    for (size_t index = 0; index < seeds.size() && index < 10; index++)
      list += concat(" ", seeds[index]);
    if (seeds.size() > 10) list += " ...";
    std::printf("  %zu x %s\n     seeds:%s\n", seeds.size(), signature.c_str(), list.c_str());
  }
  const size_t missing = report_coverage(tallies);
  if (flags.require_coverage && missing > 0) {
    std::printf("%zu coverage marks that are not rare were never reached\n", missing);
    return 1;
  }
  return failed == 0 ? 0 : 1;
}

// ---- shrink: a failing seed reduced to a small scenario file with the same signature ----

// Runs `quire-sim replay` on `text` in a child process; returns its exit code and output.
// With `planted`, the child replays with that bug planted (quire-sim-planted).
std::pair<int, std::string> replay_in_child(const std::string& text,
                                            const PlantedBugInfo* planted) {
  const std::string scenario_path = concat("/tmp/quire-sim-shrink-", getpid(), ".scenario");
  const std::string output_path = concat("/tmp/quire-sim-shrink-", getpid(), ".log");
  if (std::FILE* file = std::fopen(scenario_path.c_str(), "w")) {
    std::fputs(text.c_str(), file);
    std::fclose(file);
  } else {
    usage(concat("cannot write ", scenario_path));
  }
  int status = 0;
  std::vector<std::string> arguments = {"replay", scenario_path};
  if (planted != nullptr) {
    arguments.push_back("--plant");
    arguments.push_back(std::string(planted->name));
  }
  waitpid(spawn_self(std::move(arguments), output_path), &status, 0);
  const std::string output = read_text_file(output_path).value_or("");
  std::remove(scenario_path.c_str());
  std::remove(output_path.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 127, output};
}

// What shrink may reduce: the run's length, its random fault kinds, its clients and members, the
// operations its clients issue (kinds, keys, large values, rate) and the scheduler's choices.
struct ShrinkCandidate {
  uint64_t seed = 0;
  int64_t duration_ms = 0;
  uint32_t members = 0;
  uint32_t clients = 0;
  std::vector<std::string> fault_kinds;
  bool over_budget = false;
  harness::WorkloadMix workload;
  bool fifo_scheduler = false;

  std::string scenario_text(const std::string& description) const {
    std::string kinds;
    for (const std::string& kind : fault_kinds)
      kinds += concat(" kinds: \"", kind, "\"");
    const harness::WorkloadMix& mix = workload;
    return concat(
        "description: \"", description, "\"\nseed: ", seed, "\nswarm: true\n",
        "cluster { members: ", members, " clients: ", clients, " duration_ms: ", duration_ms,
        fifo_scheduler ? " fifo_scheduler: true" : "", " }\n", "workload { reads: ", mix.reads,
        " writes: ", mix.writes, " compare_and_sets: ", mix.compare_and_sets,
        " removes: ", mix.removes, " transactions: ", mix.transactions,
        " local_reads: ", mix.local_reads, " historical_reads: ", mix.historical_reads,
        " key_count: ", mix.key_count, " large_value_percent: ", mix.large_value_percent,
        " think_time_max_ms: ", mix.think_time_max.ms(),
        mix.fresh_client_per_operation ? " fresh_client_per_operation: true" : "",
        mix.read_attempt_timeout != harness::WorkloadMix{}.read_attempt_timeout
            ? concat(" read_attempt_timeout_ms: ", mix.read_attempt_timeout.ms())
            : std::string(),
        " }\n", "random_faults {", kinds, " over_budget: ", over_budget ? "true" : "false", " }\n",
        "expect { outcome: PASS }\n");
  }
};

// The workload's operation kinds, by name, for shrink's steps.
std::vector<std::pair<const char*, uint32_t harness::WorkloadMix::*>> operation_kinds() {
  using Mix = harness::WorkloadMix;
  return {{"reads", &Mix::reads},
          {"writes", &Mix::writes},
          {"compare_and_sets", &Mix::compare_and_sets},
          {"removes", &Mix::removes},
          {"transactions", &Mix::transactions},
          {"local_reads", &Mix::local_reads},
          {"historical_reads", &Mix::historical_reads}};
}

// Fewer kinds of operation, fewer keys, no large values, then fewer operations (longer think
// times between them).
template <class KeepIfSame>
void shrink_operations(ShrinkCandidate& best, KeepIfSame& keep_if_same) {
  for (const auto& [name, weight] : operation_kinds()) {
    uint32_t kinds_left = 0;
    for (const auto& [other, other_weight] : operation_kinds())
      kinds_left += best.workload.*other_weight > 0 ? 1 : 0;
    if (best.workload.*weight == 0 || kinds_left <= 1) continue;
    ShrinkCandidate fewer = best;
    fewer.workload.*weight = 0;
    keep_if_same(fewer, concat("without operation ", name));
  }
  if (best.workload.large_value_percent > 0) {
    ShrinkCandidate small = best;
    small.workload.large_value_percent = 0;
    keep_if_same(small, "without large values");
  }
  while (best.workload.key_count > 1) {
    ShrinkCandidate fewer = best;
    fewer.workload.key_count = best.workload.key_count / 2;
    if (!keep_if_same(fewer, concat("keys ", fewer.workload.key_count))) break;
  }
  while (best.workload.think_time_max < Duration::seconds(2)) {
    ShrinkCandidate slower = best;
    slower.workload.think_time_max =
        std::max(best.workload.think_time_max * 2, Duration::milliseconds(10));
    if (!keep_if_same(slower, concat("think time <= ", slower.workload.think_time_max.ms(),
                                     " ms (fewer operations)"))) {
      break;
    }
  }
}

int shrink(int argc, char** argv) {
  uint64_t seed = 1;
  int64_t seconds = 60;
  std::string out_path;
  const PlantedBugInfo* planted = nullptr;
  for (int index = 2; index < argc; index++) {
    const std::string_view flag = argv[index];
    if (index + 1 >= argc) usage(concat("missing value for ", flag));
    const std::string_view value = argv[++index];
    if (flag == "--seed") {
      seed = parse_number(flag, value);
    } else if (flag == "--plant") {
      planted = &parse_planted_bug(value);
    } else if (flag == "--seconds") {
      seconds = static_cast<int64_t>(parse_number(flag, value));
    } else if (flag == "--out") {
      out_path = std::string(value);
    } else {
      usage(concat("unknown flag '", flag, "'"));
    }
  }
  if (out_path.empty()) out_path = concat("shrunk-seed-", seed, ".scenario");
  const harness::ClusterSpec drawn = harness::ClusterSpec::draw(seed);
  ShrinkCandidate best{seed, seconds * 1000,    drawn.member_count, drawn.client_count,
                       {},   drawn.over_budget, drawn.workload,     false};
  for (size_t kind = 0; kind < sim::fault_kind_count; kind++) {
    if (drawn.faults.enabled[kind]) {
      best.fault_kinds.push_back(sim::fault_kind_name(static_cast<sim::FaultKind>(kind)));
    }
  }
  const auto [first_code, first_output] = replay_in_child(best.scenario_text("shrinking"), planted);
  const std::string target = signature_of(first_output, first_code);
  if (target.empty()) {
    std::printf("quire-sim shrink: seed %llu passes; nothing to shrink\n",
                static_cast<unsigned long long>(seed));
    return 1;
  }
  std::printf("quire-sim shrink: seed %llu fails: %s\n", static_cast<unsigned long long>(seed),
              target.c_str());
  uint64_t tries = 0;
  // Keeps `candidate` if it fails the same way.
  auto keep_if_same = [&](const ShrinkCandidate& candidate, const std::string& step) {
    tries++;
    const auto [code, output] = replay_in_child(candidate.scenario_text("shrinking"), planted);
    const bool same = signature_of(output, code) == target;
    std::printf("  %-44s %s\n", step.c_str(), same ? "same failure: kept" : "differs");
    std::fflush(stdout);
    if (same) best = candidate;
    return same;
  };
  for (size_t index = best.fault_kinds.size(); index-- > 0;) {
    ShrinkCandidate fewer = best;
    const std::string kind = fewer.fault_kinds[index];
    fewer.fault_kinds.erase(fewer.fault_kinds.begin() + static_cast<std::ptrdiff_t>(index));
    keep_if_same(fewer, concat("without fault kind ", kind));
  }
  while (best.duration_ms > 2000) {
    ShrinkCandidate shorter = best;
    shorter.duration_ms = best.duration_ms / 2;
    if (!keep_if_same(shorter, concat("duration ", shorter.duration_ms, " ms"))) break;
  }
  while (best.clients > 1) {
    ShrinkCandidate fewer = best;
    fewer.clients--;
    if (!keep_if_same(fewer, concat("clients ", fewer.clients))) break;
  }
  if (best.members == 5) {
    ShrinkCandidate smaller = best;
    smaller.members = 3;
    keep_if_same(smaller, "members 3");
  }
  shrink_operations(best, keep_if_same);
  ShrinkCandidate fifo = best;
  fifo.fifo_scheduler = true;
  keep_if_same(fifo, "scheduler FIFO (no shuffled interleavings)");
  const std::string text = concat(
      "# Shrunk by quire-sim shrink from seed ", seed, " (", tries, " tries).\n",
      planted == nullptr ? std::string()
                         : concat("# With a planted bug: quire-sim-planted replay FILE --plant ",
                                  planted->name, "\n"),
      best.scenario_text(concat("shrunk from seed ", seed, ": ", target)));
  std::FILE* file = std::fopen(out_path.c_str(), "w");
  if (file == nullptr) usage(concat("cannot write ", out_path));
  std::fputs(text.c_str(), file);
  std::fclose(file);
  std::printf("wrote %s:\n%s", out_path.c_str(), text.c_str());
  return 0;
}

}  // namespace
}  // namespace quire

int main(int argc, char** argv) {
  if (argc < 2) quire::usage("missing command");
  if (std::strcmp(argv[1], "run") == 0) return quire::run(argc, argv);
  if (std::strcmp(argv[1], "fuzz") == 0) return quire::fuzz(argc, argv);
  if (std::strcmp(argv[1], "replay") == 0) return quire::replay(argc, argv);
  if (std::strcmp(argv[1], "shrink") == 0) return quire::shrink(argc, argv);
  quire::usage(quire::concat("unknown command '", argv[1], "'"));
}
