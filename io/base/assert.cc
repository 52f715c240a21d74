#include "io/base/assert.h"

#include <cstdio>
#include <cstdlib>

namespace quire {
namespace {

// Process-wide by design: an assertion report describes the whole process.
std::function<std::string()>& context_provider() {
  static std::function<std::string()> provider;
  return provider;
}

void (*exit_function_installed)() = nullptr;

}  // namespace

void set_assertion_context(std::function<std::string()> provider) {
  context_provider() = std::move(provider);
}

void set_assertion_exit(void (*exit_function)()) {
  exit_function_installed = exit_function;
}

void assertion_failed(const char* condition, const char* file, int line, std::string_view message) {
  std::fprintf(stderr, "quire: assertion failed: %s\n  at %s:%d\n", condition, file, line);
  if (!message.empty()) {
    std::fprintf(stderr, "  %.*s\n", static_cast<int>(message.size()), message.data());
  }
  // The provider may itself be broken; take it out first so a nested failure cannot recurse.
  auto provider = std::move(context_provider());
  context_provider() = nullptr;
  if (provider) {
    const std::string context = provider();
    std::fprintf(stderr, "  %s\n", context.c_str());
  }
  std::fflush(stderr);
  if (exit_function_installed != nullptr) exit_function_installed();
  std::abort();
}

}  // namespace quire
