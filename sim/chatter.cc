#include "sim/chatter.h"

#include <memory>
#include <vector>

#include "io/base/text.h"

namespace quire::sim {
namespace {

void serve(io::Runtime& runtime, ChatterCounts& counts) {
  auto listener = runtime.network().listen({runtime.name(), chatter_port});
  QUIRE_ASSERT(listener.ok());
  for (uint64_t index = 0;; index++) {
    auto accepted = (*listener)->accept();
    if (!accepted.ok()) return;
    std::shared_ptr<io::Connection> connection = std::move(*accepted);
    runtime.spawn(concat("echo-", index), [connection, &counts] {
      for (;;) {
        auto frame = connection->receive();
        if (!frame.ok()) return;
        if (!connection->send(*frame).ok()) return;
        counts.frames_echoed++;
      }
    });
  }
}

void talk(io::Runtime& runtime, ChatterCounts& counts, const std::vector<std::string>& peers) {
  for (;;) {
    runtime.sleep_for(Duration::milliseconds(static_cast<int64_t>(runtime.rng().between(1, 50))));
    const std::string& peer = peers[runtime.rng().uniform(peers.size())];
    auto connection =
        runtime.network().connect({peer, chatter_port}, runtime.now() + Duration::seconds(1));
    if (!connection.ok()) {
      counts.network_errors++;
      continue;
    }
    const uint64_t rounds = runtime.rng().between(1, 20);
    for (uint64_t round = 0; round < rounds; round++) {
      Bytes frame(runtime.rng().between(1, 2000));
      for (uint8_t& byte : frame)
        byte = static_cast<uint8_t>(runtime.rng().next_u64());
      if (!(*connection)->send(frame).ok()) {
        counts.network_errors++;
        break;
      }
      auto echoed = (*connection)->receive(runtime.now() + Duration::seconds(3));
      if (!echoed.ok()) {
        counts.network_errors++;
        break;
      }
      counts.round_trips++;
    }
  }
}

void write_log(io::Runtime& runtime, ChatterCounts& counts) {
  io::Disk& disk = runtime.disk();
  for (;;) {
    runtime.sleep_for(Duration::milliseconds(static_cast<int64_t>(runtime.rng().between(1, 100))));
    auto file = disk.open("log", io::OpenMode::create_or_open);
    if (!file.ok()) {
      counts.disk_errors++;
      continue;
    }
    auto size = (*file)->size();
    if (!size.ok()) continue;
    if (*size > 256 * 1024 && !(*file)->truncate(0).ok()) counts.disk_errors++;
    Bytes record(runtime.rng().between(1, 9000), static_cast<uint8_t>(*size));
    if (!(*file)->write(*size, record).ok() || !(*file)->sync().ok()) {
      counts.disk_errors++;
      continue;
    }
    counts.disk_writes++;
    Bytes back(record.size());
    if (!(*file)->read(*size, back).ok()) counts.disk_errors++;
  }
}

}  // namespace

World::NodeMain chatter_main(ChatterCounts& counts, std::vector<std::string> peers) {
  return [&counts, peers](io::Runtime& runtime) {
    counts.starts++;
    runtime.spawn("serve", [&runtime, &counts] { serve(runtime, counts); });
    runtime.spawn("writer", [&runtime, &counts] { write_log(runtime, counts); });
    talk(runtime, counts, peers);
  };
}

}  // namespace quire::sim
