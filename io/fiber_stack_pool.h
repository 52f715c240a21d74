// FiberStackPool: the stacks of a thread's finished fibers, kept for the next fibers instead of
// returned to the kernel. A simulated run spawns about 15,000 fibers a minute (a connection, a
// request, a fetch each); a fresh stack costs an mmap, an mprotect for its guard page, a munmap,
// and a page fault for every page it touches. A reused one costs none of these.
//
// Satisfies Boost.Context's StackAllocator: allocate() / deallocate(). Every stack has a guard
// page below it, as protected_fixedsize_stack's, so an overflow faults instead of corrupting a
// neighbour. The pool is per thread (a fiber lives and ends on its scheduler's thread) and keeps
// at most `stacks_kept_max` stacks of one size; other sizes bypass it.
#pragma once

#include <cstddef>

#include <boost/context/stack_context.hpp>

namespace quire::io {

class FiberStackPool {
 public:
  static constexpr size_t stacks_kept_max = 256;

  explicit FiberStackPool(size_t stack_size_bytes) : stack_size_bytes_(stack_size_bytes) {}

  boost::context::stack_context allocate();
  void deallocate(boost::context::stack_context& stack) noexcept;

  // Stacks kept by this thread's pool (tests).
  static size_t kept();

 private:
  size_t stack_size_bytes_;
};

}  // namespace quire::io
