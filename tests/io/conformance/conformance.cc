#include "tests/io/conformance/conformance.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "io/base/text.h"
#include "io/sync.h"

namespace quire::test {
namespace {

using quire::ErrorCode;

// Generous: a check that waits this long has failed, and says so instead of hanging.
constexpr Duration patience = Duration::seconds(20);

Instant after(io::Runtime& runtime, Duration duration) {
  return runtime.now() + duration;
}

// Spawns fibers and waits for them. State shared with a fiber lives in shared pointers that the
// fiber holds, so that a check that fails early and returns leaves no dangling reference behind.
class FiberGroup {
 public:
  explicit FiberGroup(io::Runtime& runtime)
      : runtime_(runtime), state_(std::make_shared<State>(runtime)) {}

  void spawn(std::string name, std::function<void()> body) {
    state_->running_count++;
    state_->all_done.reset();
    runtime_.spawn(std::move(name), [state = state_, body = std::move(body)] {
      body();
      if (--state->running_count == 0) state->all_done.set();
    });
  }

  // True once every fiber spawned so far has returned; false if `deadline` came first.
  bool wait(Instant deadline) {
    while (state_->running_count > 0) {
      if (!state_->all_done.wait(deadline)) return state_->running_count == 0;
    }
    return true;
  }
  bool wait() { return wait(after(runtime_, patience)); }

 private:
  struct State {
    explicit State(io::Runtime& runtime) : all_done(runtime) {}
    int running_count = 0;
    io::Event all_done;
  };
  io::Runtime& runtime_;
  std::shared_ptr<State> state_;
};

// Pseudo-random bytes, equal for equal arguments.
Bytes pattern_bytes(size_t size_bytes, uint64_t seed) {
  Rng rng(seed);
  Bytes bytes(size_bytes);
  size_t index = 0;
  for (; index + 8 <= size_bytes; index += 8)
    store_le<uint64_t>(&bytes[index], rng.next_u64());
  for (; index < size_bytes; index++)
    bytes[index] = static_cast<uint8_t>(rng.next_u64());
  return bytes;
}

Bytes read_all(io::File& file) {
  Result<uint64_t> size = file.size();
  EXPECT_TRUE(size.ok());
  if (!size.ok()) return {};
  Bytes bytes(*size);
  const Status read = file.read_exact(0, bytes);
  EXPECT_TRUE(read.ok()) << read.error().to_string();
  return bytes;
}

std::unique_ptr<io::File> create_file(io::Runtime& runtime, std::string_view path,
                                      std::string_view content) {
  auto file = runtime.disk().open(path, io::OpenMode::create_new);
  EXPECT_TRUE(file.ok()) << file.error().to_string();
  if (!file.ok()) return nullptr;
  const Status written = (*file)->write(0, as_bytes(content));
  EXPECT_TRUE(written.ok()) << written.error().to_string();
  const Status synced = (*file)->sync();
  EXPECT_TRUE(synced.ok()) << synced.error().to_string();
  return std::move(file).value();
}

std::string file_text(io::Runtime& runtime, std::string_view path) {
  auto file = runtime.disk().open(path, io::OpenMode::read_only);
  EXPECT_TRUE(file.ok()) << file.error().to_string();
  if (!file.ok()) return "<missing>";
  return std::string(as_text(read_all(**file)));
}

// A listener and both ends of one connection to it.
struct ConnectedPair {
  std::unique_ptr<io::Listener> listener;
  std::unique_ptr<io::Connection> client;
  std::unique_ptr<io::Connection> server;
};

// Accepts in its own fiber while this one connects, so that a runtime may complete connect()
// only once accept() is pending. Returns null (after reporting) on failure.
std::shared_ptr<ConnectedPair> connect_pair(io::Runtime& runtime, const NetworkSetup& setup) {
  auto pair = std::make_shared<ConnectedPair>();
  auto listener = runtime.network().listen(setup.listen_address);
  EXPECT_TRUE(listener.ok()) << listener.error().to_string();
  if (!listener.ok()) return nullptr;
  pair->listener = std::move(listener).value();
  const io::Address address = setup.dial_address(*pair->listener);
  FiberGroup acceptor(runtime);
  acceptor.spawn("acceptor", [pair] {
    auto server = pair->listener->accept();
    EXPECT_TRUE(server.ok()) << server.error().to_string();
    if (server.ok()) pair->server = std::move(server).value();
  });
  auto client = runtime.network().connect(address, after(runtime, patience));
  EXPECT_TRUE(client.ok()) << client.error().to_string();
  if (client.ok()) pair->client = std::move(client).value();
  if (!client.ok()) pair->listener->close();  // Wakes the acceptor.
  EXPECT_TRUE(acceptor.wait());
  if (pair->client == nullptr || pair->server == nullptr) return nullptr;
  return pair;
}

}  // namespace

// ---- Timers and fibers ----

void check_timers_fire_in_deadline_order(io::Runtime& runtime) {
  auto order = std::make_shared<std::vector<int>>();
  auto done = std::make_shared<io::Event>(runtime);
  const Instant base = after(runtime, Duration::milliseconds(20));
  auto record = [order, done](int value) {
    return [order, done, value] {
      order->push_back(value);
      if (order->size() == 5) done->set();
    };
  };
  // Added out of deadline order; equal deadlines fire in the order they were added.
  runtime.add_timer(base + Duration::milliseconds(10), record(5));
  runtime.add_timer(base, record(1));
  runtime.add_timer(base + Duration::milliseconds(5), record(4));
  runtime.add_timer(base, record(2));
  runtime.add_timer(base, record(3));
  EXPECT_TRUE(done->wait(after(runtime, patience)));
  EXPECT_EQ(*order, (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_GE(runtime.now(), base + Duration::milliseconds(10));
}

void check_cancelled_timer_does_not_fire(io::Runtime& runtime) {
  auto fired = std::make_shared<int>(0);
  const io::TimerId cancelled =
      runtime.add_timer(after(runtime, Duration::milliseconds(5)), [fired] { *fired += 1; });
  const io::TimerId kept =
      runtime.add_timer(after(runtime, Duration::milliseconds(5)), [fired] { *fired += 10; });
  runtime.cancel_timer(cancelled);
  runtime.cancel_timer(cancelled);  // Twice: no effect.
  runtime.sleep_for(Duration::milliseconds(20));
  EXPECT_EQ(*fired, 10);
  runtime.cancel_timer(kept);  // After it fired: no effect.
  EXPECT_EQ(*fired, 10);
}

void check_sleep_waits_at_least_its_duration(io::Runtime& runtime) {
  const Instant start = runtime.now();
  runtime.sleep_for(Duration::milliseconds(15));
  EXPECT_GE(runtime.now() - start, Duration::milliseconds(15));
  // A deadline in the past returns at once (well, on the next turn of the loop).
  const Instant before_past = runtime.now();
  runtime.sleep_until(before_past - Duration::seconds(1));
  EXPECT_LT(runtime.now() - before_past, Duration::seconds(1));
  EXPECT_GT(runtime.wall_clock_ns(), 0);
}

void check_spawned_fibers_all_run(io::Runtime& runtime) {
  constexpr int fiber_count = 100;
  auto steps = std::make_shared<std::vector<int>>(fiber_count, 0);
  FiberGroup fibers(runtime);
  for (int index = 0; index < fiber_count; index++) {
    fibers.spawn(concat("worker-", index), [&runtime, steps, index] {
      for (int step = 0; step < 3; step++) {
        (*steps)[static_cast<size_t>(index)]++;
        runtime.yield();
      }
    });
  }
  EXPECT_TRUE(fibers.wait());
  EXPECT_TRUE(std::all_of(steps->begin(), steps->end(), [](int count) { return count == 3; }));
}

// ---- sync.h ----

void check_event_wakes_every_waiter(io::Runtime& runtime) {
  constexpr int waiter_count = 5;
  struct State {
    explicit State(io::Runtime& runtime) : event(runtime) {}
    io::Event event;
    int waiting_count = 0;
    int woken_count = 0;
  };
  auto state = std::make_shared<State>(runtime);
  FiberGroup waiters(runtime);
  for (int index = 0; index < waiter_count; index++) {
    waiters.spawn(concat("waiter-", index), [&runtime, state] {
      state->waiting_count++;
      if (state->event.wait(after(runtime, patience))) state->woken_count++;
    });
  }
  runtime.sleep_for(Duration::milliseconds(2));
  EXPECT_EQ(state->waiting_count, waiter_count);
  EXPECT_EQ(state->woken_count, 0);
  state->event.set();
  EXPECT_TRUE(waiters.wait());
  EXPECT_EQ(state->woken_count, waiter_count);
  EXPECT_TRUE(state->event.wait(after(runtime, Duration::milliseconds(1))));  // Stays set.
}

void check_event_wait_times_out(io::Runtime& runtime) {
  io::Event event(runtime);
  const Instant start = runtime.now();
  EXPECT_FALSE(event.wait(start + Duration::milliseconds(10)));
  EXPECT_GE(runtime.now() - start, Duration::milliseconds(10));
  EXPECT_FALSE(event.is_set());
}

void check_mutex_hands_over_in_fifo_order(io::Runtime& runtime) {
  constexpr int waiter_count = 4;
  struct State {
    explicit State(io::Runtime& runtime) : mutex(runtime) {}
    io::Mutex mutex;
    std::vector<int> order;
    int waiting_count = 0;
  };
  auto state = std::make_shared<State>(runtime);
  state->mutex.lock();
  FiberGroup waiters(runtime);
  for (int index = 0; index < waiter_count; index++) {
    waiters.spawn(concat("locker-", index), [&runtime, state, index] {
      state->waiting_count++;
      io::MutexLock lock(state->mutex);
      state->order.push_back(index);
      runtime.yield();  // Holds the lock across a switch: nobody else may enter meanwhile.
      EXPECT_EQ(state->order.back(), index);
    });
    // Fiber `index` counts itself and parks in lock() without switching, so once it is counted
    // it is queued: the queue order is the spawn order whatever the scheduler picks.
    const Instant deadline = after(runtime, patience);
    while (state->waiting_count <= index && runtime.now() < deadline)
      runtime.yield();
  }
  EXPECT_FALSE(state->mutex.try_lock());
  state->mutex.unlock();
  EXPECT_TRUE(waiters.wait());
  EXPECT_EQ(state->order, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_FALSE(state->mutex.locked());
}

void check_channel_applies_backpressure(io::Runtime& runtime) {
  constexpr int item_count = 10;
  struct State {
    explicit State(io::Runtime& runtime) : channel(runtime, 2) {}
    io::Channel<int> channel;
    int sent_count = 0;
  };
  auto state = std::make_shared<State>(runtime);
  FiberGroup producer(runtime);
  producer.spawn("producer", [state] {
    for (int item = 0; item < item_count; item++) {
      const Status sent = state->channel.send(item);
      EXPECT_TRUE(sent.ok());
      state->sent_count++;
    }
  });
  runtime.sleep_for(Duration::milliseconds(2));
  EXPECT_EQ(state->sent_count, 2);  // Parked on the third send: the channel holds two.
  EXPECT_EQ(state->channel.size(), 2u);
  const Status try_sent = state->channel.try_send(99);
  ASSERT_FALSE(try_sent.ok());
  EXPECT_EQ(try_sent.code(), ErrorCode::busy);
  for (int item = 0; item < item_count; item++) {
    Result<int> received = state->channel.receive(after(runtime, patience));
    ASSERT_TRUE(received.ok()) << received.error().to_string();
    EXPECT_EQ(*received, item);
  }
  EXPECT_TRUE(producer.wait());
  Result<int> empty = state->channel.receive(after(runtime, Duration::milliseconds(1)));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.code(), ErrorCode::timeout);
}

void check_channel_close_drains_then_fails(io::Runtime& runtime) {
  auto channel = std::make_shared<io::Channel<int>>(runtime, 8);
  auto empty_channel = std::make_shared<io::Channel<int>>(runtime, 1);
  for (int item = 0; item < 3; item++)
    EXPECT_TRUE(channel->try_send(item).ok());
  FiberGroup receiver(runtime);
  receiver.spawn("receiver", [&runtime, empty_channel] {
    Result<int> received = empty_channel->receive(after(runtime, patience));
    ASSERT_FALSE(received.ok());
    EXPECT_EQ(received.code(), ErrorCode::closed);
  });
  runtime.sleep_for(Duration::milliseconds(1));
  channel->close();
  empty_channel->close();
  EXPECT_TRUE(receiver.wait());
  EXPECT_EQ(channel->send(7).code(), ErrorCode::closed);
  for (int item = 0; item < 3; item++) {
    Result<int> received = channel->receive();
    ASSERT_TRUE(received.ok());
    EXPECT_EQ(*received, item);
  }
  EXPECT_EQ(channel->receive().code(), ErrorCode::closed);
}

// ---- Disk ----

void check_disk_write_read_roundtrip(io::Runtime& runtime) {
  auto file = runtime.disk().open("journal", io::OpenMode::create_new);
  ASSERT_TRUE(file.ok()) << file.error().to_string();
  ASSERT_TRUE((*file)->write(0, as_bytes("hello")).ok());
  ASSERT_TRUE((*file)->write(5, as_bytes(", world")).ok());
  ASSERT_TRUE((*file)->write(0, as_bytes("J")).ok());  // Overwrites in place.
  Result<uint64_t> size = (*file)->size();
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 12u);
  Bytes target(12);
  Result<size_t> count = (*file)->read(0, target);
  ASSERT_TRUE(count.ok()) << count.error().to_string();
  EXPECT_EQ(*count, 12u);
  EXPECT_EQ(as_text(target), "Jello, world");
  Bytes middle(5);
  ASSERT_TRUE((*file)->read_exact(7, middle).ok());
  EXPECT_EQ(as_text(middle), "world");
  EXPECT_TRUE((*file)->sync().ok());
}

void check_disk_read_past_end_is_short(io::Runtime& runtime) {
  auto file = create_file(runtime, "short", "0123456789");
  ASSERT_NE(file, nullptr);
  Bytes target(100);
  Result<size_t> tail = file->read(5, target);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(*tail, 5u);
  EXPECT_EQ(as_text(ByteView(target).first(5)), "56789");
  Result<size_t> at_end = file->read(10, target);
  ASSERT_TRUE(at_end.ok());
  EXPECT_EQ(*at_end, 0u);
  Result<size_t> beyond = file->read(1000, target);
  ASSERT_TRUE(beyond.ok());
  EXPECT_EQ(*beyond, 0u);
  Bytes exact(10);
  const Status short_read = file->read_exact(5, exact);
  ASSERT_FALSE(short_read.ok());
  EXPECT_EQ(short_read.code(), ErrorCode::corruption);
}

void check_disk_hole_reads_as_zeros(io::Runtime& runtime) {
  auto file = runtime.disk().open("sparse", io::OpenMode::create_new);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->write(3 * io::disk_sector_size_bytes, as_bytes("x")).ok());
  Result<uint64_t> size = (*file)->size();
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 3 * io::disk_sector_size_bytes + 1);
  Bytes hole(3 * io::disk_sector_size_bytes, 0xff);
  ASSERT_TRUE((*file)->read_exact(0, hole).ok());
  EXPECT_TRUE(std::all_of(hole.begin(), hole.end(), [](uint8_t byte) { return byte == 0; }));
}

void check_disk_sync_and_reopen(io::Runtime& runtime) {
  {
    auto file = runtime.disk().open("durable", io::OpenMode::create_new);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->write(0, as_bytes("committed")).ok());
    const Status synced = (*file)->sync();
    ASSERT_TRUE(synced.ok()) << synced.error().to_string();
  }
  EXPECT_EQ(file_text(runtime, "durable"), "committed");
  auto again = runtime.disk().open("durable", io::OpenMode::read_write);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE((*again)->write(9, as_bytes("!")).ok());
  ASSERT_TRUE((*again)->sync().ok());
  EXPECT_EQ(file_text(runtime, "durable"), "committed!");
}

void check_disk_truncate(io::Runtime& runtime) {
  auto file = create_file(runtime, "log", std::string(100, 'a'));
  ASSERT_NE(file, nullptr);
  ASSERT_TRUE(file->truncate(10).ok());
  ASSERT_TRUE(file->sync().ok());
  EXPECT_EQ(file->size().value(), 10u);
  EXPECT_EQ(file_text(runtime, "log"), std::string(10, 'a'));
  ASSERT_TRUE(file->truncate(50).ok());  // Growing pads with zeros.
  ASSERT_TRUE(file->sync().ok());
  EXPECT_EQ(file_text(runtime, "log"), std::string(10, 'a') + std::string(40, '\0'));
  ASSERT_TRUE(file->truncate(0).ok());
  EXPECT_EQ(file->size().value(), 0u);
}

void check_disk_rename_replaces_target(io::Runtime& runtime) {
  ASSERT_NE(create_file(runtime, "a", "first"), nullptr);
  ASSERT_NE(create_file(runtime, "b", "second"), nullptr);
  const Status renamed = runtime.disk().rename("a", "b");
  ASSERT_TRUE(renamed.ok()) << renamed.error().to_string();
  EXPECT_FALSE(runtime.disk().exists("a").value());
  EXPECT_EQ(file_text(runtime, "b"), "first");
  ASSERT_TRUE(runtime.disk().make_directory("archive").ok());
  ASSERT_TRUE(runtime.disk().rename("b", "archive/b").ok());
  EXPECT_EQ(file_text(runtime, "archive/b"), "first");
  EXPECT_FALSE(runtime.disk().exists("b").value());
  const Status missing = runtime.disk().rename("nothing", "c");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.code(), ErrorCode::not_found);
}

void check_disk_unlink(io::Runtime& runtime) {
  ASSERT_NE(create_file(runtime, "doomed", "x"), nullptr);
  ASSERT_TRUE(runtime.disk().unlink("doomed").ok());
  EXPECT_FALSE(runtime.disk().exists("doomed").value());
  const Status again = runtime.disk().unlink("doomed");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.code(), ErrorCode::not_found);
  auto reopened = runtime.disk().open("doomed", io::OpenMode::read_only);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.code(), ErrorCode::not_found);
}

void check_disk_list_is_sorted(io::Runtime& runtime) {
  for (const char* name : {"c2", "a", "c10", "B", "b"}) {
    ASSERT_NE(create_file(runtime, name, name), nullptr);
  }
  ASSERT_TRUE(runtime.disk().make_directory("dir").ok());
  Result<std::vector<std::string>> names = runtime.disk().list("");
  ASSERT_TRUE(names.ok()) << names.error().to_string();
  EXPECT_EQ(*names, (std::vector<std::string>{"B", "a", "b", "c10", "c2", "dir"}));
  Result<std::vector<std::string>> empty = runtime.disk().list("dir");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  ASSERT_NE(create_file(runtime, "dir/inner", ""), nullptr);
  EXPECT_EQ(runtime.disk().list("dir").value(), (std::vector<std::string>{"inner"}));
  Result<std::vector<std::string>> missing = runtime.disk().list("nowhere");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.code(), ErrorCode::not_found);
}

void check_disk_exists_and_make_directory(io::Runtime& runtime) {
  EXPECT_FALSE(runtime.disk().exists("halogs").value());
  ASSERT_TRUE(runtime.disk().make_directory("halogs").ok());
  EXPECT_TRUE(runtime.disk().exists("halogs").value());
  EXPECT_TRUE(runtime.disk().make_directory("halogs").ok());  // Already there: fine.
  ASSERT_NE(create_file(runtime, "halogs/000001", "log"), nullptr);
  EXPECT_TRUE(runtime.disk().exists("halogs/000001").value());
  EXPECT_FALSE(runtime.disk().exists("halogs/000002").value());
  EXPECT_FALSE(runtime.disk().exists("nowhere/000001").value());
}

void check_disk_open_modes_and_errors(io::Runtime& runtime) {
  io::Disk& disk = runtime.disk();
  EXPECT_EQ(disk.open("f", io::OpenMode::read_only).code(), ErrorCode::not_found);
  EXPECT_EQ(disk.open("f", io::OpenMode::read_write).code(), ErrorCode::not_found);
  ASSERT_NE(create_file(runtime, "f", "kept"), nullptr);
  EXPECT_EQ(disk.open("f", io::OpenMode::create_new).code(), ErrorCode::already_exists);
  auto existing = disk.open("f", io::OpenMode::create_or_open);
  ASSERT_TRUE(existing.ok());
  EXPECT_EQ((*existing)->size().value(), 4u);  // Opened, not truncated.
  auto fresh = disk.open("g", io::OpenMode::create_or_open);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ((*fresh)->size().value(), 0u);
  EXPECT_TRUE(disk.exists("g").value());
  auto in_missing_directory = disk.open("nowhere/f", io::OpenMode::create_new);
  ASSERT_FALSE(in_missing_directory.ok());
  EXPECT_EQ(in_missing_directory.code(), ErrorCode::not_found);
  // A volatile creation behaves like create_or_open while the process lives (only its
  // durability differs, which a crash shows: tests/sim/fault_test.cc).
  auto volatile_existing = disk.open("f", io::OpenMode::create_or_open_volatile);
  ASSERT_TRUE(volatile_existing.ok());
  EXPECT_EQ((*volatile_existing)->size().value(), 4u);
  auto volatile_fresh = disk.open("h", io::OpenMode::create_or_open_volatile);
  ASSERT_TRUE(volatile_fresh.ok());
  EXPECT_EQ((*volatile_fresh)->size().value(), 0u);
  ASSERT_TRUE((*volatile_fresh)->write(0, as_bytes("volatile")).ok());
  ASSERT_TRUE((*volatile_fresh)->sync().ok());
  EXPECT_TRUE(disk.exists("h").value());
  EXPECT_EQ(file_text(runtime, "h"), "volatile");
  EXPECT_EQ(disk.open("nowhere/h", io::OpenMode::create_or_open_volatile).code(),
            ErrorCode::not_found);
}

void check_disk_rejects_bad_paths(io::Runtime& runtime) {
  io::Disk& disk = runtime.disk();
  for (const char* path : {"", "/etc/passwd", "../escape", "a/../b", "./a", "a//b", "a/", "."}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(disk.open(path, io::OpenMode::create_or_open).code(), ErrorCode::invalid_argument);
    EXPECT_EQ(disk.exists(path).code(), ErrorCode::invalid_argument);
  }
  EXPECT_EQ(disk.list("..").code(), ErrorCode::invalid_argument);
  EXPECT_EQ(disk.make_directory("/tmp").code(), ErrorCode::invalid_argument);
  EXPECT_EQ(disk.rename("a", "../a").code(), ErrorCode::invalid_argument);
  EXPECT_EQ(disk.unlink("..").code(), ErrorCode::invalid_argument);
}

void check_disk_large_transfer(io::Runtime& runtime) {
  constexpr size_t writer_count = 8;
  constexpr size_t part_size_bytes = 1024 * 1024;
  auto file = runtime.disk().open("big", io::OpenMode::create_new);
  ASSERT_TRUE(file.ok());
  std::shared_ptr<io::File> shared_file = std::move(file).value();
  // Several fibers with transfers in flight at once: on io_uring they overlap in the kernel.
  FiberGroup writers(runtime);
  for (size_t index = 0; index < writer_count; index++) {
    writers.spawn(concat("writer-", index), [shared_file, index] {
      const Bytes part = pattern_bytes(part_size_bytes, index);
      const Status written = shared_file->write(index * part_size_bytes, part);
      EXPECT_TRUE(written.ok()) << written.error().to_string();
    });
  }
  ASSERT_TRUE(writers.wait());
  ASSERT_TRUE(shared_file->sync().ok());
  Bytes all(writer_count * part_size_bytes);
  Result<size_t> count = shared_file->read(0, all);
  ASSERT_TRUE(count.ok());
  ASSERT_EQ(*count, all.size());
  for (size_t index = 0; index < writer_count; index++) {
    const Bytes expected = pattern_bytes(part_size_bytes, index);
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(),
                           all.begin() + static_cast<std::ptrdiff_t>(index * part_size_bytes)))
        << "part " << index;
  }
}

// ---- Network ----

void check_network_frames_arrive_in_order(io::Runtime& runtime, const NetworkSetup& setup) {
  auto pair = connect_pair(runtime, setup);
  ASSERT_NE(pair, nullptr);
  constexpr int frame_count = 200;
  FiberGroup receiver(runtime);
  receiver.spawn("receiver", [&runtime, pair] {
    for (int index = 0; index < frame_count; index++) {
      Result<Bytes> frame = pair->server->receive(after(runtime, patience));
      ASSERT_TRUE(frame.ok()) << frame.error().to_string();
      ASSERT_EQ(as_text(*frame), concat("frame ", index));
    }
    // And back the other way.
    ASSERT_TRUE(pair->server->send(as_bytes("done")).ok());
  });
  for (int index = 0; index < frame_count; index++) {
    const Status sent = pair->client->send(as_bytes(concat("frame ", index)));
    ASSERT_TRUE(sent.ok()) << sent.error().to_string();
  }
  Result<Bytes> reply = pair->client->receive(after(runtime, patience));
  ASSERT_TRUE(reply.ok()) << reply.error().to_string();
  EXPECT_EQ(as_text(*reply), "done");
  EXPECT_TRUE(receiver.wait());
  EXPECT_FALSE(pair->client->peer().empty());
}

void check_network_empty_and_large_frames(io::Runtime& runtime, const NetworkSetup& setup) {
  auto pair = connect_pair(runtime, setup);
  ASSERT_NE(pair, nullptr);
  const std::vector<size_t> sizes = {
      0, 1, 3, 4, 5, 65536, 16 * 1024 * 1024, io::max_frame_size_bytes, 0};
  FiberGroup sender(runtime);
  sender.spawn("sender", [pair, sizes] {
    for (size_t index = 0; index < sizes.size(); index++) {
      const Status sent = pair->client->send(pattern_bytes(sizes[index], index));
      ASSERT_TRUE(sent.ok()) << sent.error().to_string();
    }
  });
  for (size_t index = 0; index < sizes.size(); index++) {
    Result<Bytes> frame = pair->server->receive(after(runtime, patience));
    ASSERT_TRUE(frame.ok()) << frame.error().to_string();
    ASSERT_EQ(frame->size(), sizes[index]);
    EXPECT_TRUE(*frame == pattern_bytes(sizes[index], index)) << "frame " << index;
  }
  EXPECT_TRUE(sender.wait());
}

void check_network_rejects_oversized_send(io::Runtime& runtime, const NetworkSetup& setup) {
  auto pair = connect_pair(runtime, setup);
  ASSERT_NE(pair, nullptr);
  const Bytes too_large(io::max_frame_size_bytes + 1);
  const Status sent = pair->client->send(too_large);
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.code(), ErrorCode::invalid_argument);
  // The connection is still good.
  ASSERT_TRUE(pair->client->send(as_bytes("after")).ok());
  Result<Bytes> frame = pair->server->receive(after(runtime, patience));
  ASSERT_TRUE(frame.ok()) << frame.error().to_string();
  EXPECT_EQ(as_text(*frame), "after");
}

void check_network_backpressure(io::Runtime& runtime, const NetworkSetup& setup) {
  auto pair = connect_pair(runtime, setup);
  ASSERT_NE(pair, nullptr);
  // Far more than any send buffer (user space plus kernel) holds, so the sender must park.
  constexpr int frame_count = 48;
  constexpr size_t frame_size_bytes = 1024 * 1024;
  auto sent_count = std::make_shared<int>(0);
  FiberGroup sender(runtime);
  sender.spawn("sender", [pair, sent_count] {
    for (int index = 0; index < frame_count; index++) {
      const Status sent = pair->client->send(Bytes(frame_size_bytes, static_cast<uint8_t>(index)));
      ASSERT_TRUE(sent.ok()) << sent.error().to_string();
      (*sent_count)++;
    }
  });
  runtime.sleep_for(Duration::milliseconds(100));
  const int parked_at = *sent_count;
  EXPECT_GT(parked_at, 0);
  EXPECT_LT(parked_at, frame_count) << "send() never pushed back";
  for (int index = 0; index < frame_count; index++) {
    Result<Bytes> frame = pair->server->receive(after(runtime, patience));
    ASSERT_TRUE(frame.ok()) << frame.error().to_string();
    ASSERT_EQ(frame->size(), frame_size_bytes);
    ASSERT_EQ(frame->front(), static_cast<uint8_t>(index));
    ASSERT_EQ(frame->back(), static_cast<uint8_t>(index));
  }
  EXPECT_TRUE(sender.wait());
  EXPECT_EQ(*sent_count, frame_count);
}

void check_network_close_wakes_both_ends(io::Runtime& runtime, const NetworkSetup& setup) {
  auto pair = connect_pair(runtime, setup);
  ASSERT_NE(pair, nullptr);
  FiberGroup waiters(runtime);
  waiters.spawn("client-receiver", [&runtime, pair] {
    Result<Bytes> frame = pair->client->receive(after(runtime, patience));
    ASSERT_FALSE(frame.ok());
    EXPECT_EQ(frame.code(), ErrorCode::closed);
  });
  waiters.spawn("server-receiver", [&runtime, pair] {
    Result<Bytes> frame = pair->server->receive(after(runtime, patience));
    ASSERT_FALSE(frame.ok());
    EXPECT_EQ(frame.code(), ErrorCode::closed) << frame.error().to_string();
    // Once the peer is known gone, sending fails too.
    EXPECT_EQ(pair->server->send(as_bytes("late")).code(), ErrorCode::closed);
  });
  runtime.sleep_for(Duration::milliseconds(5));  // Both receivers park.
  pair->client->close();
  EXPECT_TRUE(waiters.wait());
  EXPECT_EQ(pair->client->send(as_bytes("x")).code(), ErrorCode::closed);
  EXPECT_EQ(pair->client->receive(after(runtime, patience)).code(), ErrorCode::closed);
  pair->client->close();  // Twice: no effect.
  EXPECT_EQ(pair->server->receive(after(runtime, patience)).code(), ErrorCode::closed);
}

void check_network_connect_refused(io::Runtime& runtime, const NetworkSetup& setup) {
  auto listener = runtime.network().listen(setup.listen_address);
  ASSERT_TRUE(listener.ok()) << listener.error().to_string();
  const io::Address address = setup.dial_address(**listener);
  (*listener)->close();
  listener->reset();
  auto connection = runtime.network().connect(address, after(runtime, patience));
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.code(), ErrorCode::unreachable) << connection.error().to_string();
}

void check_network_receive_timeout(io::Runtime& runtime, const NetworkSetup& setup) {
  auto pair = connect_pair(runtime, setup);
  ASSERT_NE(pair, nullptr);
  const Instant start = runtime.now();
  Result<Bytes> nothing = pair->client->receive(start + Duration::milliseconds(20));
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.code(), ErrorCode::timeout);
  EXPECT_GE(runtime.now() - start, Duration::milliseconds(20));
  // A timeout leaves the connection usable.
  ASSERT_TRUE(pair->server->send(as_bytes("late but fine")).ok());
  Result<Bytes> frame = pair->client->receive(after(runtime, patience));
  ASSERT_TRUE(frame.ok()) << frame.error().to_string();
  EXPECT_EQ(as_text(*frame), "late but fine");
}

void check_network_listener_close_wakes_accept(io::Runtime& runtime, const NetworkSetup& setup) {
  auto listener = runtime.network().listen(setup.listen_address);
  ASSERT_TRUE(listener.ok()) << listener.error().to_string();
  std::shared_ptr<io::Listener> shared_listener = std::move(listener).value();
  FiberGroup acceptor(runtime);
  acceptor.spawn("acceptor", [shared_listener] {
    auto connection = shared_listener->accept();
    ASSERT_FALSE(connection.ok());
    EXPECT_EQ(connection.code(), ErrorCode::closed);
  });
  runtime.sleep_for(Duration::milliseconds(2));
  shared_listener->close();
  EXPECT_TRUE(acceptor.wait());
  EXPECT_EQ(shared_listener->accept().code(), ErrorCode::closed);
}

void check_network_many_connections(io::Runtime& runtime, const NetworkSetup& setup) {
  constexpr int client_count = 16;
  constexpr int round_count = 20;
  auto listener = runtime.network().listen(setup.listen_address);
  ASSERT_TRUE(listener.ok()) << listener.error().to_string();
  std::shared_ptr<io::Listener> shared_listener = std::move(listener).value();
  const io::Address address = setup.dial_address(*shared_listener);
  FiberGroup servers(runtime);
  // The acceptor hands each connection to an echo fiber of its own.
  // A FiberGroup copy is a handle on the same group.
  servers.spawn("acceptor", [&runtime, shared_listener, servers]() mutable {
    for (int index = 0; index < client_count; index++) {
      auto accepted = shared_listener->accept();
      ASSERT_TRUE(accepted.ok()) << accepted.error().to_string();
      std::shared_ptr<io::Connection> connection = std::move(accepted).value();
      servers.spawn(concat("echo-", index), [&runtime, connection] {
        for (;;) {
          Result<Bytes> frame = connection->receive(after(runtime, patience));
          if (!frame.ok()) {
            EXPECT_EQ(frame.code(), ErrorCode::closed) << frame.error().to_string();
            return;
          }
          ASSERT_TRUE(connection->send(*frame).ok());
        }
      });
    }
  });
  FiberGroup clients(runtime);
  for (int index = 0; index < client_count; index++) {
    clients.spawn(concat("client-", index), [&runtime, address, index] {
      auto connection = runtime.network().connect(address, after(runtime, patience));
      ASSERT_TRUE(connection.ok()) << connection.error().to_string();
      for (int round = 0; round < round_count; round++) {
        const std::string text = concat("client ", index, " round ", round);
        ASSERT_TRUE((*connection)->send(as_bytes(text)).ok());
        Result<Bytes> echo = (*connection)->receive(after(runtime, patience));
        ASSERT_TRUE(echo.ok()) << echo.error().to_string();
        ASSERT_EQ(as_text(*echo), text);
      }
      (*connection)->close();
    });
  }
  EXPECT_TRUE(clients.wait());
  EXPECT_TRUE(servers.wait());
}

// ---- The list ----

const std::vector<ConformanceCheck>& conformance_checks() {
  using Body = std::function<void(io::Runtime&, const NetworkSetup&)>;
  auto plain = [](void (*check)(io::Runtime&)) -> Body {
    return [check](io::Runtime& runtime, const NetworkSetup&) { check(runtime); };
  };
  static const std::vector<ConformanceCheck> checks = {
      {"timers_fire_in_deadline_order", CheckArea::timers,
       plain(check_timers_fire_in_deadline_order)},
      {"cancelled_timer_does_not_fire", CheckArea::timers,
       plain(check_cancelled_timer_does_not_fire)},
      {"sleep_waits_at_least_its_duration", CheckArea::timers,
       plain(check_sleep_waits_at_least_its_duration)},
      {"spawned_fibers_all_run", CheckArea::timers, plain(check_spawned_fibers_all_run)},
      {"event_wakes_every_waiter", CheckArea::sync, plain(check_event_wakes_every_waiter)},
      {"event_wait_times_out", CheckArea::sync, plain(check_event_wait_times_out)},
      {"mutex_hands_over_in_fifo_order", CheckArea::sync,
       plain(check_mutex_hands_over_in_fifo_order)},
      {"channel_applies_backpressure", CheckArea::sync, plain(check_channel_applies_backpressure)},
      {"channel_close_drains_then_fails", CheckArea::sync,
       plain(check_channel_close_drains_then_fails)},
      {"disk_write_read_roundtrip", CheckArea::disk, plain(check_disk_write_read_roundtrip)},
      {"disk_read_past_end_is_short", CheckArea::disk, plain(check_disk_read_past_end_is_short)},
      {"disk_hole_reads_as_zeros", CheckArea::disk, plain(check_disk_hole_reads_as_zeros)},
      {"disk_sync_and_reopen", CheckArea::disk, plain(check_disk_sync_and_reopen)},
      {"disk_truncate", CheckArea::disk, plain(check_disk_truncate)},
      {"disk_rename_replaces_target", CheckArea::disk, plain(check_disk_rename_replaces_target)},
      {"disk_unlink", CheckArea::disk, plain(check_disk_unlink)},
      {"disk_list_is_sorted", CheckArea::disk, plain(check_disk_list_is_sorted)},
      {"disk_exists_and_make_directory", CheckArea::disk,
       plain(check_disk_exists_and_make_directory)},
      {"disk_open_modes_and_errors", CheckArea::disk, plain(check_disk_open_modes_and_errors)},
      {"disk_rejects_bad_paths", CheckArea::disk, plain(check_disk_rejects_bad_paths)},
      {"disk_large_transfer", CheckArea::disk, plain(check_disk_large_transfer)},
      {"network_frames_arrive_in_order", CheckArea::network, check_network_frames_arrive_in_order},
      {"network_empty_and_large_frames", CheckArea::network, check_network_empty_and_large_frames},
      {"network_rejects_oversized_send", CheckArea::network, check_network_rejects_oversized_send},
      {"network_backpressure", CheckArea::network, check_network_backpressure},
      {"network_close_wakes_both_ends", CheckArea::network, check_network_close_wakes_both_ends},
      {"network_connect_refused", CheckArea::network, check_network_connect_refused},
      {"network_receive_timeout", CheckArea::network, check_network_receive_timeout},
      {"network_listener_close_wakes_accept", CheckArea::network,
       check_network_listener_close_wakes_accept},
      {"network_many_connections", CheckArea::network, check_network_many_connections},
  };
  return checks;
}

std::vector<ConformanceCheck> conformance_checks(CheckArea area) {
  std::vector<ConformanceCheck> selected;
  for (const ConformanceCheck& check : conformance_checks()) {
    if (check.area == area) selected.push_back(check);
  }
  return selected;
}

}  // namespace quire::test
