#include "io/fiber_stack_pool.h"

#include <sys/mman.h>
#include <unistd.h>

#include <vector>

#include "io/base/assert.h"
#include "io/base/text.h"

namespace quire::io {
namespace {

size_t page_size() {
  static const auto size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

// A mapping of a guard page and the usable stack above it; `base` is the guard page.
void* map_stack(size_t stack_size_bytes) {
  const size_t length = stack_size_bytes + page_size();
  void* base = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  QUIRE_ASSERT_MSG(base != MAP_FAILED, concat("cannot map a fiber stack of ", length, " bytes"));
  QUIRE_ASSERT(mprotect(base, page_size(), PROT_NONE) == 0);
  return base;
}

void unmap_stack(void* base, size_t stack_size_bytes) {
  QUIRE_ASSERT(munmap(base, stack_size_bytes + page_size()) == 0);
}

// Set when the thread's pool is destroyed (trivially destructible, so readable until the thread
// ends): a fiber that outlives the pool returns its stack to the kernel.
thread_local bool pool_closed = false;

struct KeptStacks {
  size_t stack_size_bytes = 0;  // Of every stack kept; set by the first one.
  std::vector<void*> bases;
  ~KeptStacks() {
    for (void* base : bases)
      unmap_stack(base, stack_size_bytes);
    pool_closed = true;
  }
};

thread_local KeptStacks kept_stacks;

}  // namespace

boost::context::stack_context FiberStackPool::allocate() {
  QUIRE_ASSERT(stack_size_bytes_ % page_size() == 0);
  void* base = nullptr;
  if (!pool_closed && kept_stacks.stack_size_bytes == stack_size_bytes_ &&
      !kept_stacks.bases.empty()) {
    base = kept_stacks.bases.back();
    kept_stacks.bases.pop_back();
  } else {
    base = map_stack(stack_size_bytes_);
  }
  boost::context::stack_context stack;
  stack.size = stack_size_bytes_;
  stack.sp = static_cast<char*>(base) + page_size() + stack_size_bytes_;  // Stacks grow down.
  return stack;
}

void FiberStackPool::deallocate(boost::context::stack_context& stack) noexcept {
  QUIRE_ASSERT(stack.size == stack_size_bytes_);
  void* base = static_cast<char*>(stack.sp) - stack_size_bytes_ - page_size();
  if (pool_closed) {
    unmap_stack(base, stack_size_bytes_);
    return;
  }
  if (kept_stacks.bases.empty()) kept_stacks.stack_size_bytes = stack_size_bytes_;
  if (kept_stacks.stack_size_bytes == stack_size_bytes_ &&
      kept_stacks.bases.size() < stacks_kept_max) {
    kept_stacks.bases.push_back(base);
    return;
  }
  unmap_stack(base, stack_size_bytes_);
}

size_t FiberStackPool::kept() {
  return kept_stacks.bases.size();
}

}  // namespace quire::io
