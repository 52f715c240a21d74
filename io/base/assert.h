// QUIRE_ASSERT: invariants that hold in every build. A failed assertion is a programmer error;
// it stops the process after printing the condition, the place and the context a simulation
// installs (its seed and the command that replays it). See STYLE.md, "Errors".
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace quire {

// Prints a report and ends the process through the installed exit hook. Never returns.
[[noreturn]] void assertion_failed(const char* condition, const char* file, int line,
                                   std::string_view message);

// The simulator installs a provider that describes where the world is (seed, virtual time, node,
// fiber) so that a failure report can be replayed. Process-wide: it describes the process, not a
// node. Passing an empty function removes it.
void set_assertion_context(std::function<std::string()> provider);

// How a failed assertion ends the process: abort() by default (a core dump, and what
// EXPECT_DEATH expects); quire-sim exits with its documented code instead.
void set_assertion_exit(void (*exit_function)());

}  // namespace quire

#define QUIRE_ASSERT(condition)       \
  ((condition) ? static_cast<void>(0) \
               : ::quire::assertion_failed(#condition, __FILE__, __LINE__, ""))

#define QUIRE_ASSERT_MSG(condition, message) \
  ((condition) ? static_cast<void>(0)        \
               : ::quire::assertion_failed(#condition, __FILE__, __LINE__, (message)))

#define QUIRE_UNREACHABLE() ::quire::assertion_failed("unreachable", __FILE__, __LINE__, "")
