// Goal: the TCP network handles what only a real socket can show: the port the kernel picked,
// a peer that violates the framing, a connect that nobody answers, a bounded send buffer, and a
// peer that resets the connection under a blocked sender.
// Method: RealRuntimes on loopback; raw blocking sockets play misbehaving peers.
#include "io/real/real_network.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "io/real/real_runtime.h"
#include "io/real/unique_fd.h"
#include "io/sync.h"

namespace quire::test {
namespace {

using io::real::RealRuntime;
using io::real::RealRuntimeOptions;
using io::real::TcpConnection;
using io::real::TcpListener;
using io::real::UniqueFd;

std::unique_ptr<RealRuntime> make_runtime(RealRuntimeOptions options = {}) {
  options.rng_seed = 11;
  auto runtime = RealRuntime::create(std::move(options));
  QUIRE_ASSERT_MSG(runtime.ok(), runtime.error().to_string());
  return std::move(runtime).value();
}

std::unique_ptr<TcpListener> listen_loopback(RealRuntime& runtime) {
  auto listener = runtime.network().listen(io::Address{"127.0.0.1", 0});
  QUIRE_ASSERT_MSG(listener.ok(), listener.error().to_string());
  return std::unique_ptr<TcpListener>(dynamic_cast<TcpListener*>(listener->release()));
}

// A blocking socket connected to 127.0.0.1:port (the kernel completes it from the backlog).
UniqueFd raw_connect(uint16_t port, bool blocking = true) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | (blocking ? 0 : SOCK_NONBLOCK), 0));
  QUIRE_ASSERT(fd.valid());
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int status = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
  QUIRE_ASSERT(status == 0 || (!blocking && errno == EINPROGRESS));
  return fd;
}

TEST(RealNetwork, ListenerReportsThePortItGot) {
  auto runtime = make_runtime();
  EXPECT_EQ(runtime->run_main([&] {
    auto listener = listen_loopback(*runtime);
    EXPECT_NE(listener->port(), 0);
    auto again = runtime->network().listen(io::Address{"127.0.0.1", listener->port()});
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.code(), ErrorCode::already_exists) << again.error().to_string();
    // "localhost" is 127.0.0.1.
    auto connection = runtime->network().connect(io::Address{"localhost", listener->port()},
                                                 runtime->now() + Duration::seconds(5));
    ASSERT_TRUE(connection.ok()) << connection.error().to_string();
    EXPECT_EQ((*connection)->peer(), "localhost:" + std::to_string(listener->port()));
    auto accepted = listener->accept();
    ASSERT_TRUE(accepted.ok());
    EXPECT_EQ((*accepted)->peer().rfind("127.0.0.1:", 0), 0u) << (*accepted)->peer();
  }),
            0);
}

TEST(RealNetwork, AHostThatDoesNotResolveIsAClearErrorAndIPv6Listens) {
  auto runtime = make_runtime();
  EXPECT_EQ(runtime->run_main([&] {
    // .invalid never resolves (RFC 6761), with or without a network.
    auto connection = runtime->network().connect(io::Address{"quire-test.invalid", 80},
                                                 runtime->now() + Duration::seconds(1));
    ASSERT_FALSE(connection.ok());
    EXPECT_EQ(connection.code(), ErrorCode::invalid_argument);
    EXPECT_NE(connection.error().message().find("quire-test.invalid"), std::string::npos)
        << connection.error().message();
    // A host without IPv6 (some containers) refuses ::1 with an error, never a crash.
    auto listener = runtime->network().listen(io::Address{"::1", 0});
    if (listener.ok()) {
      EXPECT_NE(dynamic_cast<TcpListener*>(listener->get())->port(), 0);
    } else {
      EXPECT_FALSE(listener.error().message().empty());
    }
  }),
            0);
}

TEST(RealNetwork, OversizedLengthBreaksTheConnection) {
  auto runtime = make_runtime();
  EXPECT_EQ(runtime->run_main([&] {
    auto listener = listen_loopback(*runtime);
    UniqueFd peer = raw_connect(listener->port());
    uint8_t header[4];
    store_le<uint32_t>(header, static_cast<uint32_t>(io::max_frame_size_bytes + 1));
    ASSERT_EQ(::write(peer.get(), header, sizeof header), 4);
    auto accepted = listener->accept();
    ASSERT_TRUE(accepted.ok());
    Result<Bytes> frame = (*accepted)->receive(runtime->now() + Duration::seconds(5));
    ASSERT_FALSE(frame.ok());
    EXPECT_EQ(frame.code(), ErrorCode::closed);
    EXPECT_NE(frame.error().message().find("above the limit"), std::string::npos)
        << frame.error().to_string();
    EXPECT_EQ((*accepted)->send(as_bytes("x")).code(), ErrorCode::closed);
    // The misbehaving peer sees the connection end.
    uint8_t byte = 0;
    EXPECT_LE(::read(peer.get(), &byte, 1), 0);
  }),
            0);
}

// Unframed use (the daemon's HTTP endpoint): bytes as they come, never more than asked for,
// even when the first four look like an enormous frame length; bytes sent without a header.
TEST(RealNetwork, UnframedBytesComeAsSentAndBounded) {
  auto runtime = make_runtime();
  EXPECT_EQ(runtime->run_main([&] {
    auto listener = runtime->real_network().listen_tcp(io::Address{"127.0.0.1", 0});
    ASSERT_TRUE(listener.ok()) << listener.error().to_string();
    UniqueFd peer = raw_connect((*listener)->port());
    const std::string request = "GET /status HTTP/1.1\r\n\r\n";
    ASSERT_EQ(::write(peer.get(), request.data(), request.size()),
              static_cast<ssize_t>(request.size()));
    auto accepted = (*listener)->accept_tcp();
    ASSERT_TRUE(accepted.ok());
    std::string received;
    while (received.size() < request.size()) {
      auto bytes = (*accepted)->receive_bytes(5, runtime->now() + Duration::seconds(5));
      ASSERT_TRUE(bytes.ok()) << bytes.error().to_string();
      ASSERT_GE(bytes->size(), 1u);
      ASSERT_LE(bytes->size(), 5u);
      received.append(as_text(*bytes));
    }
    EXPECT_EQ(received, request);
    auto late = (*accepted)->receive_bytes(5, runtime->now() + Duration::milliseconds(50));
    EXPECT_EQ(late.code(), ErrorCode::timeout);
    ASSERT_TRUE((*accepted)->send_bytes(as_bytes("HTTP/1.1 200 OK")).ok());
    char answer[15] = {};
    ASSERT_EQ(::read(peer.get(), answer, sizeof answer), 15);
    EXPECT_EQ(std::string(answer, sizeof answer), "HTTP/1.1 200 OK");
    peer.reset();
    auto ended = (*accepted)->receive_bytes(5, runtime->now() + Duration::seconds(5));
    EXPECT_EQ(ended.code(), ErrorCode::closed);
  }),
            0);
}

TEST(RealNetwork, TruncatedFrameAtEndOfStreamIsClosed) {
  auto runtime = make_runtime();
  EXPECT_EQ(runtime->run_main([&] {
    auto listener = listen_loopback(*runtime);
    UniqueFd peer = raw_connect(listener->port());
    uint8_t bytes[6];
    store_le<uint32_t>(bytes, 100);  // Announces 100 bytes, sends 2, then closes.
    ASSERT_EQ(::write(peer.get(), bytes, sizeof bytes), 6);
    peer.reset();
    auto accepted = listener->accept();
    ASSERT_TRUE(accepted.ok());
    EXPECT_EQ((*accepted)->receive(runtime->now() + Duration::seconds(5)).code(),
              ErrorCode::closed);
  }),
            0);
}

TEST(RealNetwork, FramesSentBeforeThePeerClosedAreDelivered) {
  auto runtime = make_runtime();
  EXPECT_EQ(runtime->run_main([&] {
    auto listener = listen_loopback(*runtime);
    UniqueFd peer = raw_connect(listener->port());
    uint8_t bytes[4 + 5];
    store_le<uint32_t>(bytes, 5);
    std::memcpy(bytes + 4, "hello", 5);
    ASSERT_EQ(::write(peer.get(), bytes, sizeof bytes), 9);
    peer.reset();
    auto accepted = listener->accept();
    ASSERT_TRUE(accepted.ok());
    runtime->sleep_for(Duration::milliseconds(5));  // The FIN is in.
    Result<Bytes> frame = (*accepted)->receive(runtime->now() + Duration::seconds(5));
    ASSERT_TRUE(frame.ok()) << frame.error().to_string();
    EXPECT_EQ(as_text(*frame), "hello");
    EXPECT_EQ((*accepted)->receive(runtime->now() + Duration::seconds(5)).code(),
              ErrorCode::closed);
  }),
            0);
}

TEST(RealNetwork, ConnectTimesOutWhenNobodyAnswers) {
  // A listener with backlog 0 that never accepts: once one connection fills its queue, the
  // kernel drops further SYNs, so a connect gets no answer until its SYN retry (1 s).
  UniqueFd silent(::socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_TRUE(silent.valid());
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(silent.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(silent.get(), 0), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(::getsockname(silent.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
  const uint16_t port = ntohs(address.sin_port);
  std::vector<UniqueFd> fillers;
  for (int index = 0; index < 3; index++)
    fillers.push_back(raw_connect(port, false));

  auto runtime = make_runtime();
  EXPECT_EQ(runtime->run_main([&] {
    runtime->sleep_for(Duration::milliseconds(20));  // The fillers' handshakes settle.
    const Instant start = runtime->now();
    auto connection = runtime->network().connect(io::Address{"127.0.0.1", port},
                                                 start + Duration::milliseconds(200));
    ASSERT_FALSE(connection.ok());
    EXPECT_EQ(connection.code(), ErrorCode::timeout) << connection.error().to_string();
    EXPECT_GE(runtime->now() - start, Duration::milliseconds(200));
    EXPECT_LT(runtime->now() - start, Duration::seconds(1));
  }),
            0);
}

TEST(RealNetwork, SendBufferStaysBounded) {
  RealRuntimeOptions options;
  options.connection_send_buffer_bytes_max = 64 * 1024;
  auto runtime = make_runtime(options);
  constexpr size_t frame_size_bytes = 16 * 1024;
  constexpr int frame_count = 2000;  // 32 MiB: far beyond the kernel's buffers.
  EXPECT_EQ(runtime->run_main([&] {
    auto listener = listen_loopback(*runtime);
    auto connected = runtime->network().connect(io::Address{"127.0.0.1", listener->port()},
                                                runtime->now() + Duration::seconds(5));
    ASSERT_TRUE(connected.ok());
    std::shared_ptr<io::Connection> client = std::move(connected).value();
    auto& tcp = dynamic_cast<TcpConnection&>(*client);
    auto accepted = listener->accept();
    ASSERT_TRUE(accepted.ok());
    size_t peak_bytes = 0;
    int sent_count = 0;
    io::Event sender_done(*runtime);
    runtime->spawn("sender", [&] {
      const Bytes frame(frame_size_bytes, 0xab);
      for (int index = 0; index < frame_count; index++) {
        ASSERT_TRUE(client->send(frame).ok());
        peak_bytes = std::max(peak_bytes, tcp.send_buffer_size_bytes());
        sent_count++;
      }
      sender_done.set();
    });
    runtime->sleep_for(Duration::milliseconds(50));
    EXPECT_LT(sent_count, frame_count);
    for (int index = 0; index < frame_count; index++) {
      Result<Bytes> frame = (*accepted)->receive(runtime->now() + Duration::seconds(10));
      ASSERT_TRUE(frame.ok()) << frame.error().to_string();
      ASSERT_EQ(frame->size(), frame_size_bytes);
    }
    EXPECT_TRUE(sender_done.wait(runtime->now() + Duration::seconds(10)));
    // Never more than the bound plus the one frame (and header) that crossed it.
    EXPECT_LE(peak_bytes, options.connection_send_buffer_bytes_max + frame_size_bytes + 4);
  }),
            0);
}

TEST(RealNetwork, PeerResetWakesABlockedSender) {
  auto runtime = make_runtime();
  EXPECT_EQ(runtime->run_main([&] {
    auto listener = listen_loopback(*runtime);
    auto connected = runtime->network().connect(io::Address{"127.0.0.1", listener->port()},
                                                runtime->now() + Duration::seconds(5));
    ASSERT_TRUE(connected.ok());
    std::shared_ptr<io::Connection> client = std::move(connected).value();
    auto accepted = listener->accept();
    ASSERT_TRUE(accepted.ok());
    Status last = ok_status();
    io::Event sender_done(*runtime);
    runtime->spawn("sender", [&] {
      const Bytes frame(1024 * 1024, 1);
      while (last.ok())
        last = client->send(frame);
      sender_done.set();
    });
    runtime->sleep_for(Duration::milliseconds(50));  // The sender is parked on a full buffer.
    (*accepted)->close();  // Unread data: the kernel answers with a reset.
    ASSERT_TRUE(sender_done.wait(runtime->now() + Duration::seconds(10)));
    EXPECT_EQ(last.code(), ErrorCode::closed) << last.error().to_string();
  }),
            0);
}

}  // namespace
}  // namespace quire::test
