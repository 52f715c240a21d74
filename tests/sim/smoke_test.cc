#include <gtest/gtest.h>

#include "io/sync.h"
#include "sim/world.h"

namespace quire::sim {
namespace {

TEST(WorldSmoke, PingPong) {
  World world(WorldOptions{.seed = 7});
  int pongs = 0;
  world.add_node("a", [](io::Runtime& runtime) {
    auto listener = runtime.network().listen({"a", 9000});
    ASSERT_TRUE(listener.ok());
    auto connection = (*listener)->accept();
    ASSERT_TRUE(connection.ok());
    for (;;) {
      auto frame = (*connection)->receive();
      if (!frame.ok()) return;
      ASSERT_TRUE((*connection)->send(*frame).ok());
    }
  });
  world.add_node("b", [&pongs](io::Runtime& runtime) {
    runtime.sleep_for(Duration::milliseconds(1));
    auto connection = runtime.network().connect({"a", 9000}, runtime.now() + Duration::seconds(1));
    ASSERT_TRUE(connection.ok()) << connection.error().to_string();
    for (int index = 0; index < 10; index++) {
      ASSERT_TRUE((*connection)->send(to_bytes("ping")).ok());
      auto frame = (*connection)->receive();
      ASSERT_TRUE(frame.ok());
      EXPECT_EQ(as_text(*frame), "ping");
      pongs++;
    }
  });
  world.start(0);
  world.start(1);
  world.run_for(Duration::seconds(1));
  EXPECT_EQ(pongs, 10);
}

}  // namespace
}  // namespace quire::sim
