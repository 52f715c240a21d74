#include "io/runtime.h"

namespace quire::io {

void Runtime::sleep_until(Instant deadline) {
  Fiber* fiber = Scheduler::current();
  QUIRE_ASSERT_MSG(fiber != nullptr, "sleep outside a fiber");
  bool fired = false;
  Scheduler& fibers = scheduler();
  TimerGuard guard(*this, add_timer(deadline, [&fibers, fiber, &fired] {
    fired = true;
    fibers.ready(fiber);
  }));
  fibers.suspend();
  QUIRE_ASSERT(fired);
}

void Runtime::yield() {
  Fiber* fiber = Scheduler::current();
  QUIRE_ASSERT_MSG(fiber != nullptr, "yield outside a fiber");
  scheduler().ready(fiber);
  scheduler().suspend();
}

}  // namespace quire::io
