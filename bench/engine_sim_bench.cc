// The engine's CPU cost per commit (issue 4's benchmark, first half): a 3-member group in the
// simulator with zero-latency links and disks, so that virtual time hardly moves and everything
// the wall clock sees is the engine's work (core, driver, codec, transport, journal) plus the
// simulator's scheduling. One client node runs 1 or 64 client fibers, each with its own
// engine::Client doing puts back to back.
//
// Reported per configuration, as wall-clock rates: transactions acknowledged per second, write
// sets (commit points) per second, and bytes replicated per second (the growth of the committed
// data region, i.e. the write-cache blocks streamed leader -> F1 -> F2, once per write set; every
// byte of it lands on all three members).
//
// Run: build/bench/bench_engine_sim [--transactions=N] [--seed=S] [--heartbeat-ticks=N]
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "engine/client.h"
#include "engine/node.h"
#include "io/base/text.h"
#include "sim/world.h"

namespace quire {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint16_t port = 7000;
const engine::GroupIdentity group{"bench", 0xbe4c};

struct Settings {
  uint64_t transactions = 20'000;
  uint64_t seed = 1;
  uint64_t heartbeat_interval_ticks = 0;  // 0: the default.
};

struct Configuration {
  size_t clients;
  size_t value_size_bytes;
};

struct Measurement {
  double seconds = 0;
  // With zero-latency links and disks, virtual time moves only for timers: time the protocol
  // spends waiting for a tick instead of for work.
  double virtual_seconds = 0;
  uint64_t transactions = 0;
  uint64_t write_sets = 0;
  uint64_t replicated_bytes = 0;
  bool converged = false;
};

engine::NodeConfig member_config(const Settings& settings, uint32_t self) {
  engine::NodeConfig config;
  if (settings.heartbeat_interval_ticks > 0) {
    config.protocol.heartbeat_interval_ticks = settings.heartbeat_interval_ticks;
  }
  config.self = NodeId(self);
  config.group = group;
  for (uint32_t id = 1; id <= 3; id++) {
    config.members.push_back(engine::MemberAddress{NodeId(id), io::Address{concat("n", id), port}});
  }
  return config;
}

std::vector<io::Address> addresses() {
  std::vector<io::Address> out;
  for (uint32_t id = 1; id <= 3; id++)
    out.push_back(io::Address{concat("n", id), port});
  return out;
}

wire::ClientRequest put(std::string key, std::string value) {
  wire::ClientRequest request;
  wire::Operation* operation = request.mutable_transaction()->add_operations();
  operation->set_key(std::move(key));
  operation->set_put(std::move(value));
  return request;
}

Measurement measure(const Settings& settings, const Configuration& configuration) {
  sim::WorldOptions options{.seed = settings.seed};
  options.network.latency_min = Duration();
  options.network.latency_max = Duration();
  // Everything the nodes' fibers touch is declared before the world: destroying the world
  // unwinds those fibers.
  std::map<uint32_t, engine::Node*> nodes;
  const uint64_t per_client = settings.transactions / configuration.clients;
  const std::string value(configuration.value_size_bytes, 'v');
  size_t warmed = 0;
  size_t finished = 0;
  uint64_t failures = 0;
  bool go = false;
  sim::World world(options);
  sim::DiskModel disk;
  disk.latency = sim::DiskLatency::zero();
  for (uint32_t id = 1; id <= 3; id++) {
    world.add_node(
        concat("n", id),
        [&nodes, &settings, id](io::Runtime& runtime) {
          engine::Node node(runtime, member_config(settings, id));
          nodes[id] = &node;
          const Status outcome = node.run();
          nodes.erase(id);
          if (!outcome.ok())
            std::fprintf(stderr, "n%u: %s\n", id, outcome.error().to_string().c_str());
        },
        disk);
    world.start(id - 1);
  }
  world.run_for(Duration::seconds(2));  // An election.

  // Each client fiber puts its share; the first put of each is a warm-up, outside the clock.
  const size_t client_node = world.add_node("client", [&](io::Runtime& runtime) {
    io::Event start(runtime);
    io::Event all_done(runtime);
    for (size_t index = 0; index < configuration.clients; index++) {
      runtime.spawn(concat("client-", index), [&, index] {
        engine::Client client(runtime, group, addresses());
        auto transaction = [&](uint64_t sequence) {
          auto response = client.call(put(concat("c", index, "-", sequence), value),
                                      runtime.now() + Duration::seconds(30));
          if (!response.ok() || response->outcome() != wire::OK) failures++;
        };
        transaction(0);
        warmed++;
        start.wait();
        for (uint64_t sequence = 1; sequence <= per_client; sequence++)
          transaction(sequence);
        if (++finished == configuration.clients) all_done.set();
      });
    }
    while (!go)
      runtime.sleep_for(Duration::microseconds(100));
    start.set();
    all_done.wait();
  });
  world.start(client_node);
  world.run_until([&] { return warmed == configuration.clients; },
                  world.now() + Duration::seconds(60));
  const auto leader = [&]() -> engine::Node* {
    for (auto& [id, node] : nodes) {
      if (node->driver() != nullptr &&
          node->driver()->replica().status().role == engine::core::Role::leader) {
        return node;
      }
    }
    return nullptr;
  };
  Measurement measurement;
  engine::Node* leading = leader();
  if (leading == nullptr) return measurement;
  const store::RootBlock before = leading->journal()->root();
  go = true;
  const Instant virtual_start = world.now();
  const Clock::time_point start = Clock::now();
  world.run_until([&] { return finished == configuration.clients; },
                  world.now() + Duration::seconds(3600));
  measurement.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  measurement.virtual_seconds = (world.now() - virtual_start).seconds_double();
  leading = leader();
  if (leading == nullptr) return measurement;
  const store::RootBlock after = leading->journal()->root();
  measurement.transactions = per_client * configuration.clients - failures;
  measurement.write_sets = after.commit_counter.value() - before.commit_counter.value();
  measurement.replicated_bytes = after.end_offset - before.end_offset;
  world.run_for(Duration::milliseconds(200));
  measurement.converged = nodes.size() == 3;
  for (auto& [id, node] : nodes) {
    measurement.converged =
        measurement.converged && node->journal()->commit_counter() == after.commit_counter;
  }
  if (failures > 0) std::fprintf(stderr, "%" PRIu64 " transactions failed\n", failures);
  return measurement;
}

Settings parse(int argc, char** argv) {
  Settings settings;
  for (int index = 1; index < argc; index++) {
    const char* argument = argv[index];
    if (std::strncmp(argument, "--transactions=", 15) == 0) {
      settings.transactions = std::strtoull(argument + 15, nullptr, 10);
    } else if (std::strncmp(argument, "--heartbeat-ticks=", 18) == 0) {
      settings.heartbeat_interval_ticks = std::strtoull(argument + 18, nullptr, 10);
    } else if (std::strncmp(argument, "--seed=", 7) == 0) {
      settings.seed = std::strtoull(argument + 7, nullptr, 10);
    } else {
      std::fprintf(stderr,
                   "usage: bench_engine_sim [--transactions=N] [--seed=S] [--heartbeat-ticks=N]\n");
      std::exit(2);
    }
  }
  return settings;
}

}  // namespace
}  // namespace quire

int main(int argc, char** argv) {
  using namespace quire;
  const Settings settings = parse(argc, argv);
  std::printf("bench_engine_sim: 3 members in the simulator, zero-latency links and disks, %" PRIu64
              " puts per row; wall-clock rates\n\n",
              settings.transactions);
  std::printf(
      "| clients | value | transactions/s | write sets/s | txn per write set | "
      "replicated MiB/s | wall µs per txn | virtual ms per write set | converged |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|:---:|\n");
  for (const size_t clients : {1, 64}) {
    for (const size_t value_size_bytes : {256, 4096}) {
      const Measurement result = measure(settings, Configuration{clients, value_size_bytes});
      const double seconds = result.seconds > 0 ? result.seconds : 1e-9;
      std::printf(
          "| %zu | %zu B | %.0f | %.0f | %.1f | %.1f | %.1f | %.2f | %s |\n", clients,
          value_size_bytes, static_cast<double>(result.transactions) / seconds,
          static_cast<double>(result.write_sets) / seconds,
          result.write_sets > 0
              ? static_cast<double>(result.transactions) / static_cast<double>(result.write_sets)
              : 0.0,
          static_cast<double>(result.replicated_bytes) / seconds / (1 << 20),
          result.transactions > 0 ? seconds * 1e6 / static_cast<double>(result.transactions) : 0.0,
          result.write_sets > 0
              ? result.virtual_seconds * 1e3 / static_cast<double>(result.write_sets)
              : 0.0,
          result.converged ? "yes" : "NO");
      std::fflush(stdout);
    }
  }
  return 0;
}
