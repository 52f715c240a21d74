// Goal: every fault the simulator can inject has the effect the fault model promises
// (docs/io.md, "Faults"), so that engine tests under those faults test what they claim.
// Method: small worlds of one or two nodes that do one thing while one fault strikes.
#include <gtest/gtest.h>

#include <set>

#include "io/sync.h"
#include "sim/chatter.h"
#include "sim/fabric.h"
#include "sim/fault_injector.h"
#include "sim/world.h"

namespace quire::sim {
namespace {

constexpr uint16_t port = 9000;

Instant at_ms(int64_t ms) {
  return Instant() + Duration::milliseconds(ms);
}

// Two nodes: "a" accepts one connection and records every frame it receives (and when); "b"
// connects and sends whatever the test pushes into `outbox` at the times the test chooses.
struct TwoNodes {
  World world;
  std::vector<std::pair<Instant, Bytes>> received_by_a;
  bool a_saw_closed = false;
  bool b_saw_closed = false;
  io::Connection* b_connection = nullptr;

  explicit TwoNodes(uint64_t seed = 1) : world(WorldOptions{.seed = seed}) {
    world.add_node("a", [this](io::Runtime& runtime) {
      auto listener = runtime.network().listen({"a", port});
      QUIRE_ASSERT(listener.ok());
      auto connection = (*listener)->accept();
      QUIRE_ASSERT(connection.ok());
      for (;;) {
        auto frame = (*connection)->receive();
        if (!frame.ok()) {
          a_saw_closed = frame.code() == ErrorCode::closed;
          return;
        }
        received_by_a.emplace_back(runtime.now(), std::move(*frame));
        (void)(*connection)->send(to_bytes("ack"));
      }
    });
    world.add_node("b", [this](io::Runtime& runtime) {
      auto connection =
          runtime.network().connect({"a", port}, runtime.now() + Duration::seconds(1));
      QUIRE_ASSERT(connection.ok());
      b_connection = connection->get();
      for (;;) {
        auto frame = (*connection)->receive();
        if (!frame.ok()) {
          b_saw_closed = frame.code() == ErrorCode::closed;
          b_connection = nullptr;
          runtime.sleep_for(Duration::seconds(1000));
          return;
        }
      }
    });
    world.start(0);
    world.start(1);
    world.run_until(at_ms(10));
    QUIRE_ASSERT(b_connection != nullptr);
  }

  // Sends from b at the current time (from the loop: send() does not suspend while the
  // buffer has room).
  void send_from_b(std::string_view text) {
    QUIRE_ASSERT(b_connection != nullptr);
    QUIRE_ASSERT(b_connection->send(to_bytes(text)).ok());
  }
};

TEST(NetworkFault, SymmetricPartitionDeliversNothingUntilHealed) {
  TwoNodes nodes;
  nodes.world.partition({{0}, {1}});
  nodes.send_from_b("one");
  nodes.send_from_b("two");
  nodes.world.run_until(at_ms(1500));
  EXPECT_TRUE(nodes.received_by_a.empty());
  nodes.world.heal_network();
  nodes.world.run_until(at_ms(2000));
  ASSERT_EQ(nodes.received_by_a.size(), 2u);
  EXPECT_EQ(as_text(nodes.received_by_a[0].second), "one");
  EXPECT_EQ(as_text(nodes.received_by_a[1].second), "two");
  EXPECT_FALSE(nodes.a_saw_closed);
}

TEST(NetworkFault, PartitionLongerThanRetransmitTimeoutBreaksTheConnection) {
  TwoNodes nodes;
  nodes.world.partition({{0}, {1}});
  nodes.send_from_b("lost with its connection");
  nodes.world.run_until(at_ms(5000));
  EXPECT_TRUE(nodes.received_by_a.empty());
  EXPECT_TRUE(nodes.a_saw_closed);
  EXPECT_TRUE(nodes.b_saw_closed);
}

TEST(NetworkFault, AsymmetricPartitionBlocksOneDirectionOnly) {
  TwoNodes nodes;
  nodes.world.block_link(1, 0);  // b -> a blocked; a -> b open.
  nodes.send_from_b("held");
  nodes.world.run_until(at_ms(500));
  EXPECT_TRUE(nodes.received_by_a.empty());
  nodes.world.unblock_link(1, 0);
  nodes.world.block_link(0, 1);  // Now a's acks cannot reach b, but b's frames reach a.
  nodes.world.run_until(at_ms(900));
  ASSERT_EQ(nodes.received_by_a.size(), 1u);
  nodes.send_from_b("flows");
  nodes.world.run_until(at_ms(1200));
  EXPECT_EQ(nodes.received_by_a.size(), 2u);
}

TEST(NetworkFault, IsolatedNodeCannotConnect) {
  World world(WorldOptions{.seed = 3});
  std::optional<ErrorCode> outcome;
  world.add_node("a", [](io::Runtime& runtime) {
    auto listener = runtime.network().listen({"a", port});
    QUIRE_ASSERT(listener.ok());
    (void)(*listener)->accept();
  });
  world.add_node("b", [&outcome](io::Runtime& runtime) {
    auto connection = runtime.network().connect({"a", port}, runtime.now() + Duration::seconds(2));
    outcome = connection.ok() ? std::optional<ErrorCode>() : connection.code();
  });
  world.isolate(1);
  world.start(0);
  world.start(1);
  world.run_until(at_ms(3000));
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(*outcome, ErrorCode::timeout);
}

TEST(NetworkFault, SlowTailStretchesLatency) {
  auto mean_delay = [](double slow_probability) {
    TwoNodes nodes(11);
    nodes.world.network_model().slow_probability = slow_probability;
    const Instant sent = nodes.world.now();
    for (int index = 0; index < 50; index++)
      nodes.send_from_b("x");
    nodes.world.run_until(at_ms(2000));
    QUIRE_ASSERT(nodes.received_by_a.size() == 50);
    int64_t total = 0;
    for (const auto& [when, frame] : nodes.received_by_a)
      total += (when - sent).us();
    return total / 50;
  };
  const int64_t fast = mean_delay(0.0);
  const int64_t slow = mean_delay(1.0);
  EXPECT_LT(fast, 1'000);
  EXPECT_GT(slow, 5 * fast);
}

TEST(NetworkFault, ResetClosesBothEnds) {
  TwoNodes nodes;
  EXPECT_EQ(nodes.world.reset_connections(0), 1u);
  nodes.world.run_until(at_ms(100));
  EXPECT_TRUE(nodes.a_saw_closed);
  EXPECT_TRUE(nodes.b_saw_closed);
}

TEST(NetworkFault, ClogHoldsThenDeliversInOrder) {
  TwoNodes nodes;
  nodes.world.clog_link(1, 0, Duration::seconds(10));  // Far beyond the retransmit timeout.
  for (const char* text : {"1", "2", "3"})
    nodes.send_from_b(text);
  nodes.world.run_until(at_ms(9000));
  EXPECT_TRUE(nodes.received_by_a.empty());
  nodes.world.run_until(at_ms(10100));
  ASSERT_EQ(nodes.received_by_a.size(), 3u);
  EXPECT_EQ(as_text(nodes.received_by_a[2].second), "3");
  EXPECT_FALSE(nodes.a_saw_closed);
}

TEST(NetworkFault, BitFlipChangesExactlyOneBit) {
  TwoNodes nodes;
  nodes.world.network_model().bit_flip_probability = 1.0;
  const std::string sent(100, 'q');
  nodes.send_from_b(sent);
  nodes.world.run_until(at_ms(100));
  ASSERT_EQ(nodes.received_by_a.size(), 1u);
  const Bytes& got = nodes.received_by_a[0].second;
  ASSERT_EQ(got.size(), sent.size());
  int flipped_bits = 0;
  for (size_t index = 0; index < got.size(); index++) {
    flipped_bits += __builtin_popcount(got[index] ^ static_cast<uint8_t>(sent[index]));
  }
  EXPECT_EQ(flipped_bits, 1);
}

TEST(ProcessFault, CrashStopsEveryFiberAndRestartRunsMainAgain) {
  World world(WorldOptions{.seed = 4});
  int starts = 0;
  int ticks = 0;
  world.add_node("a", [&](io::Runtime& runtime) {
    starts++;
    runtime.spawn("ticker", [&] {
      for (;;) {
        runtime.sleep_for(Duration::milliseconds(10));
        ticks++;
      }
    });
  });
  world.start(0);
  world.run_until(at_ms(105));
  const int ticks_before = ticks;
  EXPECT_GE(ticks_before, 9);
  world.crash(0);
  world.run_until(at_ms(500));
  EXPECT_EQ(ticks, ticks_before);
  EXPECT_FALSE(world.is_up(0));
  world.start(0);
  world.run_until(at_ms(605));
  EXPECT_EQ(starts, 2);
  EXPECT_GT(ticks, ticks_before + 5);
}

TEST(ProcessFault, PauseFreezesFibersWhileTimeGoesOn) {
  World world(WorldOptions{.seed = 4});
  std::vector<Instant> tick_times;
  world.add_node("a", [&](io::Runtime& runtime) {
    for (;;) {
      runtime.sleep_for(Duration::milliseconds(10));
      tick_times.push_back(runtime.now());
    }
  });
  world.start(0);
  world.run_until(at_ms(100));
  world.pause(0, Duration::milliseconds(500));
  const size_t before = tick_times.size();
  world.run_until(at_ms(590));
  EXPECT_EQ(tick_times.size(), before);
  world.run_until(at_ms(700));
  ASSERT_GT(tick_times.size(), before);
  EXPECT_GE(tick_times[before], at_ms(600));  // The first tick after the pause, late.
}

TEST(ProcessFault, ClockDriftAndWallClockOffset) {
  World world(WorldOptions{.seed = 4});
  Instant local_at_one_second;
  int64_t wall_at_one_second = 0;
  world.add_node("a", [&](io::Runtime& runtime) {
    runtime.sleep_for(Duration::seconds(100));  // Keeps the node up.
  });
  world.add_node("b", [](io::Runtime& runtime) { runtime.sleep_for(Duration::seconds(100)); });
  world.start(0);
  world.start(1);
  world.set_clock_drift_ppm(0, 100'000);  // 10% fast.
  world.set_wall_clock_offset(0, Duration::seconds(-30));
  world.run_until(at_ms(1000));
  local_at_one_second = world.runtime(0)->now();
  wall_at_one_second = world.runtime(0)->wall_clock_ns();
  EXPECT_EQ(local_at_one_second.ns(), Duration::milliseconds(1100).ns());
  EXPECT_EQ(world.runtime(1)->now().ns(), Duration::milliseconds(1000).ns());
  EXPECT_EQ(world.runtime(1)->wall_clock_ns() - wall_at_one_second,
            Duration::seconds(30).ns() - Duration::milliseconds(100).ns());
}

TEST(ProcessFault, TimersFireOnTheNodesOwnClock) {
  World world(WorldOptions{.seed = 4});
  Instant fired_at_world;
  world.add_node("a", [&](io::Runtime& runtime) {
    runtime.sleep_for(Duration::seconds(1));  // One local second.
    fired_at_world = Instant() + (runtime.now() - Instant());
  });
  world.set_clock_drift_ppm(0, -500'000);  // Half speed: one local second is two world seconds.
  world.start(0);
  world.run_until(at_ms(1900));
  EXPECT_EQ(fired_at_world, Instant());
  world.run_until(at_ms(2100));
  EXPECT_EQ(fired_at_world.ns(), Duration::seconds(1).ns());
}

// Disk faults run on a standalone SimDisk (no world), which completes operations at once.
struct Disk {
  DiskImage image;
  DiskModel model;
  Rng rng{1};
  SimDisk disk{image, model, rng, nullptr};

  std::unique_ptr<io::File> file(const char* path = "data") {
    auto opened = disk.open(path, io::OpenMode::create_or_open);
    QUIRE_ASSERT(opened.ok());
    return std::move(*opened);
  }
};

Bytes pattern(size_t size, uint8_t seed) {
  Bytes bytes(size);
  for (size_t index = 0; index < size; index++)
    bytes[index] = static_cast<uint8_t>(seed + index * 7);
  return bytes;
}

TEST(DiskFault, UnsyncedWriteIsKeptLostOrTornAtACrashAcrossSeeds) {
  std::set<std::string> outcomes;
  for (uint64_t seed = 0; seed < 200; seed++) {
    Disk disk;
    const Bytes synced = pattern(4096, 1);
    const Bytes unsynced = pattern(3 * 4096, 2);
    {
      auto file = disk.file();
      ASSERT_TRUE(file->write(0, synced).ok());
      ASSERT_TRUE(file->sync().ok());
      ASSERT_TRUE(file->write(4096, unsynced).ok());
    }
    Rng crash_rng(seed);
    disk.image.crash(crash_rng, CrashFates{});
    const Bytes durable = disk.image.files().at("data")->durable.to_bytes();
    ASSERT_GE(durable.size(), 4096u);
    ASSERT_TRUE(std::equal(synced.begin(), synced.end(), durable.begin())) << "synced data lost";
    if (durable.size() == 4096) {
      outcomes.insert("lost");
    } else if (durable.size() == 4 * 4096 &&
               std::equal(unsynced.begin(), unsynced.end(), durable.begin() + 4096)) {
      outcomes.insert("kept");
    } else {
      outcomes.insert("torn");
    }
  }
  EXPECT_EQ(outcomes, (std::set<std::string>{"kept", "lost", "torn"}));
}

TEST(DiskFault, BitRotFlipsADurableBit) {
  Disk disk;
  auto file = disk.file();
  const Bytes data = pattern(8192, 3);
  ASSERT_TRUE(file->write(0, data).ok());
  ASSERT_TRUE(file->sync().ok());
  const std::optional<FaultSite> site = disk.image.rot(disk.rng);
  ASSERT_TRUE(site.has_value());
  Bytes back(data.size());
  ASSERT_TRUE(file->read_exact(0, back).ok());
  int flipped_bits = 0;
  for (size_t index = 0; index < data.size(); index++) {
    flipped_bits += __builtin_popcount(data[index] ^ back[index]);
  }
  EXPECT_EQ(flipped_bits, 1);
  EXPECT_NE(data[site->offset], back[site->offset]);
}

TEST(DiskFault, LatentSectorErrorFailsReadsUntilRewritten) {
  Disk disk;
  auto file = disk.file();
  ASSERT_TRUE(file->write(0, pattern(3 * 4096, 4)).ok());
  ASSERT_TRUE(file->sync().ok());
  ASSERT_TRUE(disk.image.add_latent_error_at("data", 4096 + 10));
  Bytes back(100);
  EXPECT_TRUE(file->read(0, back).ok());
  auto failed = file->read(4096 + 500, back);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.code(), ErrorCode::io_error);
  // A write of part of the sector does not mend it (the device would read the rest first).
  ASSERT_TRUE(file->write(4096 + 100, pattern(1000, 6)).ok());
  EXPECT_FALSE(file->read(4096 + 500, back).ok());
  ASSERT_TRUE(file->write(4096, pattern(4096, 5)).ok());
  EXPECT_TRUE(file->read(4096 + 500, back).ok());
}

// Truncation frees the blocks wholly past the new end, and their latent errors with them; the
// sector the new end falls in keeps its error.
TEST(DiskFault, TruncationDropsTheLatentErrorsPastTheNewEnd) {
  Disk disk;
  auto file = disk.file();
  ASSERT_TRUE(file->write(0, pattern(4 * 4096, 7)).ok());
  ASSERT_TRUE(file->sync().ok());
  ASSERT_TRUE(disk.image.add_latent_error_at("data", 1 * 4096));
  ASSERT_TRUE(disk.image.add_latent_error_at("data", 3 * 4096));
  ASSERT_TRUE(file->truncate(4096 + 100).ok());
  ASSERT_TRUE(file->write(4096 + 100, pattern(3 * 4096, 8)).ok());
  Bytes back(100);
  EXPECT_FALSE(file->read(4096, back).ok());
  EXPECT_TRUE(file->read(3 * 4096, back).ok());
}

TEST(DiskFault, MisdirectedWriteLandsElsewhere) {
  Disk disk;
  auto file = disk.file();
  const Bytes zeros(64 * 4096, 0);
  ASSERT_TRUE(file->write(0, zeros).ok());
  disk.model.faults.misdirected_write_probability = 1.0;
  const Bytes data = pattern(4096, 6);
  ASSERT_TRUE(file->write(16 * 4096, data).ok());
  Bytes aimed(4096);
  ASSERT_TRUE(file->read_exact(16 * 4096, aimed).ok());
  EXPECT_EQ(aimed, Bytes(4096, 0));  // The aimed place kept its old bytes.
  Bytes whole(64 * 4096);
  ASSERT_TRUE(file->read_exact(0, whole).ok());
  EXPECT_NE(std::search(whole.begin(), whole.end(), data.begin(), data.end()), whole.end());
}

TEST(DiskFault, FailedSyncReportsAnErrorAndMayDropDataReadsStillSee) {
  int dropped_runs = 0;
  for (uint64_t seed = 0; seed < 20; seed++) {
    Disk disk;
    disk.rng = Rng(seed);
    auto file = disk.file();
    for (int index = 0; index < 4; index++) {
      ASSERT_TRUE(file->write(static_cast<uint64_t>(index) * 4096, pattern(4096, 7)).ok());
    }
    disk.model.faults.fail_sync_countdown = 1;
    auto synced = file->sync();
    ASSERT_FALSE(synced.ok());
    EXPECT_EQ(synced.code(), ErrorCode::io_error);
    Bytes back(4 * 4096);
    ASSERT_TRUE(file->read_exact(0, back).ok());  // The page cache still has it.
    EXPECT_TRUE(file->sync().ok());               // The kernel forgot the pages were dirty.
    Rng crash_rng(seed);
    disk.image.crash(crash_rng, CrashFates{});
    if (disk.image.files().at("data")->durable != back) dropped_runs++;
  }
  EXPECT_GT(dropped_runs, 0);
}

// A volatile creation skips the directory fsync: until a durable metadata call in the same
// directory, a crash keeps or loses the whole file, even a synced one; files elsewhere and
// durable creations are not affected.
TEST(DiskFault, VolatileFileMayBeLostWholeUntilItsDirectoryIsSynced) {
  std::set<std::string> outcomes;
  for (uint64_t seed = 0; seed < 100; seed++) {
    Disk disk;
    ASSERT_TRUE(disk.disk.make_directory("dir").ok());
    ASSERT_TRUE(disk.disk.make_directory("other").ok());
    auto opened = disk.disk.open("dir/volatile", io::OpenMode::create_or_open_volatile);
    ASSERT_TRUE(opened.ok());
    ASSERT_TRUE((*opened)->write(0, pattern(5000, 1)).ok());
    ASSERT_TRUE((*opened)->sync().ok());
    auto settled = disk.disk.open("dir/settled", io::OpenMode::create_or_open_volatile);
    ASSERT_TRUE(settled.ok());
    ASSERT_TRUE((*settled)->write(0, pattern(100, 2)).ok());
    ASSERT_TRUE((*settled)->sync().ok());
    // A durable creation in another directory does not sync "dir"; one in "dir" does.
    ASSERT_TRUE(disk.disk.open("other/durable", io::OpenMode::create_new).ok());
    EXPECT_FALSE(disk.image.files().at("dir/settled")->name_durable);
    if (seed % 4 == 0) {
      ASSERT_TRUE(disk.disk.open("dir/durable", io::OpenMode::create_new).ok());
    } else if (seed % 4 == 1) {
      ASSERT_TRUE(disk.disk.rename("other/durable", "dir/moved").ok());
    } else if (seed % 4 == 2) {
      ASSERT_TRUE(disk.disk.open("dir/doomed", io::OpenMode::create_or_open_volatile).ok());
      ASSERT_TRUE(disk.disk.unlink("dir/doomed").ok());
    } else {
      ASSERT_TRUE(disk.disk.make_directory("dir/sub").ok());
    }
    EXPECT_TRUE(disk.image.files().at("dir/settled")->name_durable);
    // Created after the directory sync: volatile again.
    auto late = disk.disk.open("dir/late", io::OpenMode::create_or_open_volatile);
    ASSERT_TRUE(late.ok());
    ASSERT_TRUE((*late)->write(0, pattern(100, 3)).ok());
    ASSERT_TRUE((*late)->sync().ok());
    // Reopening an existing file changes nothing about its name.
    ASSERT_TRUE(disk.disk.open("dir/late", io::OpenMode::create_or_open).ok());
    EXPECT_FALSE(disk.image.files().at("dir/late")->name_durable);
    Rng crash_rng(seed);
    disk.image.crash(crash_rng, CrashFates{});
    EXPECT_TRUE(disk.image.files().contains("dir/settled"));
    EXPECT_EQ(disk.image.files().at("dir/settled")->durable, pattern(100, 2));
    EXPECT_TRUE(disk.image.files().contains("other/durable") ||
                disk.image.files().contains("dir/moved"));
    if (disk.image.files().contains("dir/late")) {
      outcomes.insert("kept");
      EXPECT_EQ(disk.image.files().at("dir/late")->durable, pattern(100, 3));
      EXPECT_TRUE(disk.image.files().at("dir/late")->name_durable);
    } else {
      outcomes.insert("lost");
      EXPECT_FALSE(disk.disk.exists("dir/late").value());
    }
  }
  EXPECT_EQ(outcomes, (std::set<std::string>{"kept", "lost"}));
}

// A rename syncs both directories: a file created volatile and then renamed elsewhere is durable
// under its new name and survives every crash, while one still volatile next to it may not.
TEST(DiskFault, AVolatileFileRenamedIsDurableUnderItsNewName) {
  std::set<std::string> outcomes;
  for (uint64_t seed = 0; seed < 100; seed++) {
    Disk disk;
    ASSERT_TRUE(disk.disk.make_directory("a").ok());
    ASSERT_TRUE(disk.disk.make_directory("b").ok());
    ASSERT_TRUE(disk.disk.open("a/moving", io::OpenMode::create_or_open_volatile).ok());
    ASSERT_TRUE(disk.disk.open("b/staying", io::OpenMode::create_or_open_volatile).ok());
    ASSERT_TRUE(disk.disk.rename("a/moving", "b/moved").ok());
    EXPECT_TRUE(disk.image.files().at("b/moved")->name_durable);
    EXPECT_TRUE(disk.image.files().at("b/staying")->name_durable);  // Same directory: synced.
    ASSERT_TRUE(disk.disk.open("a/late", io::OpenMode::create_or_open_volatile).ok());
    Rng crash_rng(seed);
    disk.image.crash(crash_rng, CrashFates{});
    EXPECT_TRUE(disk.image.files().contains("b/moved"));
    EXPECT_TRUE(disk.image.files().contains("b/staying"));
    EXPECT_FALSE(disk.image.files().contains("a/moving"));
    outcomes.insert(disk.image.files().contains("a/late") ? "kept" : "lost");
  }
  EXPECT_EQ(outcomes, (std::set<std::string>{"kept", "lost"}));
}

TEST(DiskFault, FullDiskRefusesGrowthAndWritesNothing) {
  Disk disk;
  disk.image.set_capacity_bytes(10'000);
  auto file = disk.file();
  ASSERT_TRUE(file->write(0, pattern(8000, 8)).ok());
  auto refused = file->write(8000, pattern(4000, 9));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), ErrorCode::no_space);
  EXPECT_EQ(*file->size(), 8000u);
  EXPECT_TRUE(file->write(0, pattern(8000, 10)).ok());  // Overwrites need no space.
}

TEST(FaultInjector, EveryKindStrikesAndEverythingHealsAtTheEnd) {
  World world(WorldOptions{.seed = 21});
  ChatterCounts counts;
  for (const char* name : {"n0", "n1", "n2"}) {
    std::vector<std::string> peers = {"n0", "n1", "n2"};
    std::erase(peers, name);
    world.add_node(name, chatter_main(counts, peers));
  }
  for (size_t node = 0; node < 3; node++)
    world.start(node);
  FaultPlan plan;
  plan.enable_all();
  plan.mean_interval = Duration::milliseconds(50);
  plan.duration_max = Duration::milliseconds(500);
  FaultInjector injector(world, plan, 5);
  injector.schedule(at_ms(10), at_ms(30'000));
  world.run_until(at_ms(31'000));
  // The kinds past the first strike what only a quire cluster has (HALog files, YES votes,
  // client nodes); quire-sim's runs and scenarios exercise them.
  for (size_t kind = 0; kind < fault_kind_count_first; kind++) {
    EXPECT_GT(injector.injected(static_cast<FaultKind>(kind)), 0u)
        << fault_kind_name(static_cast<FaultKind>(kind));
  }
  for (size_t node = 0; node < 3; node++) {
    EXPECT_TRUE(world.is_up(node));
    EXPECT_FALSE(world.is_paused(node));
    EXPECT_FALSE(world.fabric().blocked(node, (node + 1) % 3));
  }
  EXPECT_EQ(injector.disk_fault_nodes().size(), 1u);
}

}  // namespace
}  // namespace quire::sim
