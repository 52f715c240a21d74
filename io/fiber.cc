#include "io/fiber.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "io/base/assert.h"
#include "io/base/text.h"
#include "io/fiber_context.h"

#if defined(BOOST_USE_VALGRIND) || defined(BOOST_USE_UCONTEXT)
#include <boost/context/fixedsize_stack.hpp>
#else
#include "io/fiber_stack_pool.h"
#endif

#if defined(BOOST_USE_UCONTEXT)
// Debian's libboost_context is built for fcontext and does not export the ucontext backend's
// activation record; define it here (TOOLCHAIN.md, section 4).
namespace boost::context::detail {
namespace {
struct MainRecord {
  fiber_activation_record* record = new fiber_activation_record();
  ~MainRecord() { delete record; }
};
}  // namespace
fiber_activation_record*& fiber_activation_record::current() noexcept {
  thread_local MainRecord main_record;
  thread_local fiber_activation_record* current_record = main_record.record;
  return current_record;
}
}  // namespace boost::context::detail
#endif

namespace quire::io {

namespace context = boost::context;

class Fiber {
 public:
  Fiber(Scheduler& owner, uint64_t id, std::string name)
      : owner_(owner), id(id), name(std::move(name)) {}

  Scheduler& owner_;
  const uint64_t id;
  const std::string name;
  context::fiber self;    // Where the fiber continues; empty while it runs and once it ends.
  context::fiber caller;  // Where the fiber returns to when it parks.
  bool queued = false;
  bool finished = false;
};

namespace {
thread_local Fiber* running_fiber = nullptr;
const std::string loop_name = "loop";

#if defined(BOOST_USE_VALGRIND) || defined(BOOST_USE_UCONTEXT)
using StackAllocator = context::fixedsize_stack;
#else
// Guard-paged stacks, reused (fiber_stack_pool.h). Sanitize and valgrind builds keep fresh
// stacks: a reused stack would carry the last fiber's poisoning and uninitialized-memory marks.
using StackAllocator = FiberStackPool;
#endif
}  // namespace

Scheduler::Scheduler(size_t stack_size_bytes) : stack_size_bytes_(stack_size_bytes) {}

Scheduler::~Scheduler() {
  kill_all();
}

Fiber* Scheduler::current() {
  return running_fiber;
}

const std::string& Scheduler::current_name() {
  return running_fiber == nullptr ? loop_name : running_fiber->name;
}

void Scheduler::spawn(std::string name, std::function<void()> body) {
  QUIRE_ASSERT(!killing_);
  auto fiber = std::make_unique<Fiber>(*this, next_fiber_id_++, std::move(name));
  Fiber* raw = fiber.get();
  raw->self = context::fiber(std::allocator_arg, StackAllocator(stack_size_bytes_),
                             [raw, body = std::move(body)](context::fiber&& caller) mutable {
                               raw->caller = std::move(caller);
                               // Boost 1.74's ucontext backend (Sanitize builds) unwinds a
                               // fiber that never ran by starting it; fcontext does not. Either
                               // way the body must not run while its node dies.
                               if (raw->owner_.killing()) return std::move(raw->caller);
                               try {
                                 body();
                               } catch (const context::detail::forced_unwind&) {
                                 throw;
                               } catch (const std::exception& error) {
                                 assertion_failed("fiber body threw", __FILE__, __LINE__,
                                                  concat(raw->name, ": ", error.what()));
                               }
                               raw->finished = true;
                               return std::move(raw->caller);
                             });
  fibers_.push_back(std::move(fiber));
  raw->queued = true;
  ready_.push_back(raw);
}

void Scheduler::suspend() {
  Fiber* fiber = running_fiber;
  QUIRE_ASSERT_MSG(fiber != nullptr, "suspend() outside a fiber");
  QUIRE_ASSERT(&fiber->owner_ == this);
  QUIRE_ASSERT_MSG(!killing_, concat("fiber ", fiber->name, " suspends while its node dies"));
  fiber->caller = std::move(fiber->caller).resume();
  // Resumed by run_one(): running_fiber was set there.
  QUIRE_ASSERT(running_fiber == fiber);
}

void Scheduler::ready(Fiber* fiber) {
  QUIRE_ASSERT(fiber != nullptr);
  QUIRE_ASSERT(&fiber->owner_ == this);
  if (killing_) return;
  QUIRE_ASSERT_MSG(!fiber->queued, concat("fiber ", fiber->name, " readied twice"));
  QUIRE_ASSERT(!fiber->finished);
  fiber->queued = true;
  ready_.push_back(fiber);
}

uint64_t Scheduler::ready_id(size_t ready_index) const {
  QUIRE_ASSERT(ready_index < ready_.size());
  return ready_[ready_index]->id;
}

const std::string& Scheduler::ready_name(size_t ready_index) const {
  QUIRE_ASSERT(ready_index < ready_.size());
  return ready_[ready_index]->name;
}

void Scheduler::run_one(size_t ready_index) {
  QUIRE_ASSERT(running_fiber == nullptr);
  QUIRE_ASSERT(ready_index < ready_.size());
  Fiber* fiber = ready_[ready_index];
  ready_.erase(ready_.begin() + static_cast<std::ptrdiff_t>(ready_index));
  fiber->queued = false;
  running_fiber = fiber;
  switch_count_++;
  fiber->self = std::move(fiber->self).resume();
  running_fiber = nullptr;
  if (fiber->finished) finish(fiber);
}

void Scheduler::run_until_idle() {
  while (!ready_.empty())
    run_one(0);
}

void Scheduler::finish(Fiber* fiber) {
  QUIRE_ASSERT(!fiber->self);
  QUIRE_ASSERT(!fiber->queued);
  auto found =
      std::find_if(fibers_.begin(), fibers_.end(),
                   [fiber](const std::unique_ptr<Fiber>& each) { return each.get() == fiber; });
  QUIRE_ASSERT(found != fibers_.end());
  fibers_.erase(found);
}

void Scheduler::kill_all() {
  QUIRE_ASSERT(running_fiber == nullptr);
  killing_ = true;
  ready_.clear();
  while (!fibers_.empty()) {
    std::unique_ptr<Fiber> fiber = std::move(fibers_.back());
    fibers_.pop_back();
    // Destroying a suspended boost fiber unwinds its stack with forced_unwind: destructors of
    // the fiber's objects run, as they would not in a real crash, so that memory is returned.
    running_fiber = fiber.get();
    fiber->self = context::fiber();
    running_fiber = nullptr;
  }
}

}  // namespace quire::io
