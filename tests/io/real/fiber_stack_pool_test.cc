// Goal: fiber stacks are reused, bounded, guarded and the right size.
// Method: FiberStackPool directly (the Sanitize build's scheduler does not use it, so the
// scheduler cannot be the way in); each test starts from this thread's pool as it finds it.
#include "io/fiber_stack_pool.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace quire::io {
namespace {

constexpr size_t stack_size = 64 * 1024;

TEST(FiberStackPool, AFinishedStackIsReusedWhole) {
  FiberStackPool pool(stack_size);
  boost::context::stack_context first = pool.allocate();
  EXPECT_EQ(first.size, stack_size);
  // Every byte of the usable range is writable.
  std::memset(static_cast<char*>(first.sp) - stack_size, 0x5a, stack_size);
  void* const top = first.sp;
  const size_t kept_before = FiberStackPool::kept();
  pool.deallocate(first);
  EXPECT_EQ(FiberStackPool::kept(), kept_before + 1);
  boost::context::stack_context second = pool.allocate();
  EXPECT_EQ(second.sp, top);
  EXPECT_EQ(FiberStackPool::kept(), kept_before);
  pool.deallocate(second);
}

TEST(FiberStackPool, KeepsAtMostItsBound) {
  FiberStackPool pool(stack_size);
  std::vector<boost::context::stack_context> stacks;
  for (size_t index = 0; index < FiberStackPool::stacks_kept_max + 10; index++)
    stacks.push_back(pool.allocate());
  for (boost::context::stack_context& stack : stacks)
    pool.deallocate(stack);
  EXPECT_EQ(FiberStackPool::kept(), FiberStackPool::stacks_kept_max);
}

TEST(FiberStackPool, AnotherSizeBypassesThePool) {
  FiberStackPool pool(stack_size);
  FiberStackPool larger(2 * stack_size);
  boost::context::stack_context kept_one = pool.allocate();
  pool.deallocate(kept_one);
  const size_t kept = FiberStackPool::kept();
  ASSERT_GT(kept, 0u);
  boost::context::stack_context other = larger.allocate();
  EXPECT_EQ(other.size, 2 * stack_size);
  std::memset(static_cast<char*>(other.sp) - other.size, 0, other.size);
  EXPECT_EQ(FiberStackPool::kept(), kept);  // Not taken from the pool of the other size.
  larger.deallocate(other);
  EXPECT_EQ(FiberStackPool::kept(), kept);  // Nor kept in it.
}

TEST(FiberStackPoolDeathTest, AnOverflowHitsTheGuardPage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  FiberStackPool pool(stack_size);
  boost::context::stack_context stack = pool.allocate();
  volatile char* below = static_cast<char*>(stack.sp) - stack_size - 1;
  EXPECT_DEATH(*below = 1, "");
  pool.deallocate(stack);
}

}  // namespace
}  // namespace quire::io
