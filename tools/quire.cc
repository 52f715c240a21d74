// quire: the command-line client. It runs a RealRuntime with one main fiber that speaks the client
// protocol (engine/wire/wire.proto) through engine::Client, which finds the leader and keeps
// outcomes honest. The exit code says what the group answered, so scripts can act on it:
//   0 ok, 1 condition failed / not found, 2 usage, 3 unknown outcome, 4 unavailable.
// `quire bench` (the load generator, tools/bench_load.h) exits 1 when some operations failed.
// The flags: tools/quire_flags.h; the commands: tools/quire_command.h; what they print (text or
// --json): tools/quire_output.h. See docs/operations.md.
#include <signal.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "io/real/real_runtime.h"
#include "tools/quire_command.h"
#include "tools/quire_flags.h"
#include "tools/quire_output.h"

namespace quire {
namespace {

int run(int argc, char** argv) {
  const std::vector<std::string> arguments(argv + 1, argv + argc);
  if (arguments.size() == 1 && (arguments[0] == "--help" || arguments[0] == "-h")) {
    tools::print_cli_usage(stdout);
    return tools::exit_ok;
  }
  auto flags = tools::parse_cli_flags(arguments, tools::process_environment);
  if (!flags.ok()) {
    tools::Reply reply(tools::wants_json(arguments), "quire");
    const int exit_code = reply.usage(flags.error());
    if (!reply.json_output()) tools::print_cli_usage(stderr);
    return exit_code;
  }
  ::signal(SIGPIPE, SIG_IGN);
  io::real::RealRuntimeOptions options;
  options.name = "quire";
  auto runtime = io::real::RealRuntime::create(options);
  if (!runtime.ok()) {
    std::fprintf(stderr, "quire: %s\n", runtime.error().to_string().c_str());
    return tools::exit_unavailable;
  }
  int exit_code = tools::exit_unavailable;
  const int main_result =
      (*runtime)->run_main([&] { exit_code = tools::run_command(**runtime, *flags, stdin); });
  if (main_result != 0) {
    std::fprintf(stderr, "quire: the client's event loop ended early\n");
    return tools::exit_unavailable;
  }
  std::fflush(stdout);
  return exit_code;
}

}  // namespace
}  // namespace quire

int main(int argc, char** argv) {
  return quire::run(argc, argv);
}
