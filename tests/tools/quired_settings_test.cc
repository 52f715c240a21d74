// Goal: quired's settings (tools/quired_settings.h) come the same from a TOML file and from flags,
// a flag overrides its key, and every bad value is refused with the key or flag, the value and
// why. Addresses take IPv6 in brackets and DNS names, and the real network resolves them.
// Method: write TOML files into a temporary directory, parse argv vectors, check the settings or
// the error text.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "io/network.h"
#include "io/real/real_network.h"
#include "tools/quired_settings.h"

namespace quire::tools {
namespace {

class SettingsFile : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("quired_settings_test." + std::to_string(::getpid()));
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::string write(const std::string& contents, const std::string& name = "quired.toml") {
    const std::string path = (directory_ / name).string();
    std::ofstream(path) << contents;
    return path;
  }

  static Result<DaemonInvocation> parse(std::vector<std::string> arguments) {
    std::vector<const char*> argv = {"quired"};
    for (const std::string& argument : arguments)
      argv.push_back(argument.c_str());
    return parse_invocation(static_cast<int>(argv.size()), argv.data());
  }

  // The error of parsing `arguments`; fails the test if they parse.
  static std::string error_of(std::vector<std::string> arguments) {
    auto parsed = parse(std::move(arguments));
    EXPECT_FALSE(parsed.ok());
    return parsed.ok() ? std::string() : parsed.error().message();
  }

  std::filesystem::path directory_;
};

constexpr const char* complete_toml =
    "member.id = 2\n"
    "group.name = \"demo\"\n"
    "group.token = \"5eed\"\n"
    "data_dir = \"/tmp/quire-2\"\n"
    "http.listen = \"[::1]:7202\"\n"
    "protocol.tick_ms = 20\n"
    "protocol.election_timeout_ticks_min = 40\n"
    "protocol.election_timeout_ticks_max = 90\n"
    "protocol.prepare_timeout_ticks = 25\n"
    "journal.block_size = \"64K\"\n"
    "journal.halog_retention_count_max = 100\n"
    "scrub.pass_seconds = 60\n"
    "scrub.mib_per_second = 0\n"
    "log.level = \"debug\"\n"
    "log.format = \"json\"\n"
    "[members]\n"
    "1 = \"localhost:7101\"\n"
    "2 = \"[::1]:7102\"\n"
    "3 = \"db-3.example.com:7103\"\n";

TEST_F(SettingsFile, EveryKeyOfTheFileReachesTheSettingsAndTheNodeConfig) {
  auto parsed = parse({"--config", write(complete_toml)});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(parsed->action, DaemonAction::run);
  const DaemonSettings& settings = parsed->settings;
  EXPECT_EQ(settings.member_id, 2u);
  EXPECT_EQ(settings.group_token, 0x5eedu);
  ASSERT_TRUE(settings.http_listen.has_value());
  EXPECT_EQ(settings.http_listen->host, "::1");
  EXPECT_EQ(settings.log_level, "debug");
  EXPECT_EQ(settings.log_format, "json");
  ASSERT_EQ(settings.members.size(), 3u);
  EXPECT_EQ(settings.members[1].address, (io::Address{"::1", 7102}));
  EXPECT_EQ(settings.members[2].address, (io::Address{"db-3.example.com", 7103}));
  auto config = settings.node_config();
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->tick_interval, Duration::milliseconds(20));
  EXPECT_EQ(config->protocol.election_timeout_ticks_min, 40u);
  EXPECT_EQ(config->protocol.election_timeout_ticks_max, 90u);
  EXPECT_EQ(config->protocol.prepare_timeout_ticks, 25u);
  EXPECT_EQ(config->protocol.halog_retention_count_max, 100u);
  EXPECT_EQ(config->journal.write_cache_block_size_bytes, 64u * 1024);
  EXPECT_EQ(config->scrub_pass_target, Duration::seconds(60));
  EXPECT_EQ(config->scrub_bytes_per_second, 0u);
}

TEST_F(SettingsFile, AFlagOverridesItsKeyWhereverItStands) {
  auto parsed = parse({"--tick-ms", "5", "--config", write(complete_toml), "--log-level=warn",
                       "--members", "1=127.0.0.1:7101,2=127.0.0.1:7102", "--trace"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(parsed->settings.tick_ms, 5u);
  EXPECT_EQ(parsed->settings.log_level, "warn");
  EXPECT_EQ(parsed->settings.members.size(), 2u);
  EXPECT_TRUE(parsed->settings.trace);
  EXPECT_EQ(parsed->settings.group_name, "demo");  // From the file, not overridden.
}

TEST_F(SettingsFile, FlagsAloneStillRunAMember) {
  auto parsed = parse({"--id", "1", "--members", "1=127.0.0.1:7101", "--group", "g", "--token",
                       "0x1f", "--data-dir", "/tmp/q1"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(parsed->settings.group_token, 0x1fu);
  EXPECT_FALSE(parsed->settings.http_listen.has_value());
  EXPECT_EQ(parsed->settings.log_level, "info");
  EXPECT_EQ(parsed->settings.log_format, "text");
}

TEST_F(SettingsFile, ThePrintedSettingsReadBackToTheSameSettings) {
  auto parsed = parse({"--config", write(complete_toml), "--check-config"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(parsed->action, DaemonAction::check_config);
  const std::string printed = settings_toml(parsed->settings);
  EXPECT_NE(printed.find("log.format = \"json\""), std::string::npos) << printed;
  EXPECT_NE(printed.find("2 = \"[::1]:7102\""), std::string::npos) << printed;
  auto again = parse({"--config", write(printed, "printed.toml")});
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(settings_toml(again->settings), printed);
}

// Each error names where the value came from (the key or the flag), the value and why.
TEST_F(SettingsFile, EveryErrorNamesTheKeyTheValueAndWhy) {
  const auto with = [&](const std::string& line) {
    return write(std::string(complete_toml).insert(0, line + "\n"), "bad.toml");
  };
  const std::string bad_token = error_of(
      {"--config",
       write(
           std::string(complete_toml).replace(std::string(complete_toml).find("5eed"), 4, "xyz"))});
  EXPECT_NE(bad_token.find("key group.token 'xyz': not 1 to 16 hex digits"), std::string::npos)
      << bad_token;
  EXPECT_NE(error_of({"--config", with("colour = 3")}).find("unknown key 'colour'"),
            std::string::npos);
  EXPECT_NE(error_of({"--config", with("scrub.speed = 3")}).find("unknown key 'scrub.speed'"),
            std::string::npos);
  const std::string wrong_type =
      error_of({"--config", write("protocol.tick_ms = \"ten\"\n", "type.toml")});
  EXPECT_NE(wrong_type.find("protocol.tick_ms: a string, expected an integer"), std::string::npos)
      << wrong_type;
  const std::string not_toml = error_of({"--config", write("member.id = = 1\n", "broken.toml")});
  EXPECT_NE(not_toml.find("line 1"), std::string::npos) << not_toml;
  EXPECT_NE(not_toml.find("not TOML"), std::string::npos) << not_toml;
  const std::string missing_file = error_of({"--config", (directory_ / "absent.toml").string()});
  EXPECT_NE(missing_file.find("absent.toml"), std::string::npos) << missing_file;

  const std::string config = write(complete_toml);
  const std::string tick = error_of({"--config", config, "--tick-ms", "0"});
  EXPECT_NE(tick.find("--tick-ms (key protocol.tick_ms) '0': not between 1 and 10000"),
            std::string::npos)
      << tick;
  const std::string level = error_of({"--config", config, "--log-level", "loud"});
  EXPECT_NE(level.find("--log-level (key log.level) 'loud': not one of trace, debug, info, warn, "
                       "error"),
            std::string::npos)
      << level;
  const std::string format = error_of({"--config", write("log.format = \"xml\"\n", "format.toml")});
  EXPECT_NE(format.find("key log.format 'xml': not one of text, json"), std::string::npos)
      << format;
  const std::string outside = error_of({"--config", config, "--id", "9"});
  EXPECT_NE(outside.find("member.id (--id) 9: not among the members"), std::string::npos)
      << outside;
  const std::string election = error_of({"--config", config, "--election-timeout-ticks-max", "40"});
  EXPECT_NE(election.find("protocol.election_timeout_ticks_max"), std::string::npos) << election;
  EXPECT_NE(election.find("must exceed the min, 40"), std::string::npos) << election;
  const std::string members = error_of({"--config", config, "--members", "1=127.0.0.1:7101,1=h:2"});
  EXPECT_NE(members.find("--members (key members) '1=127.0.0.1:7101,1=h:2': id 1 appears twice"),
            std::string::npos)
      << members;
  const std::string block = error_of({"--config", config, "--block-size", "9000M"});
  EXPECT_NE(block.find("'9000M': too large"), std::string::npos) << block;
  const std::string unbracketed = error_of({"--config", config, "--http-listen", "::1:7201"});
  EXPECT_NE(unbracketed.find("in brackets"), std::string::npos) << unbracketed;
  EXPECT_NE(error_of({"--config", config, "--colour"}).find("unknown argument '--colour'"),
            std::string::npos);
  EXPECT_NE(error_of({"--config"}).find("--config needs a value"), std::string::npos);
  const std::string required = error_of({"--id", "1", "--members", "1=127.0.0.1:7101"});
  EXPECT_NE(required.find("--group (key group.name) is required"), std::string::npos) << required;
}

TEST(AddressParse, IPv6InBracketsAndNames) {
  auto ipv6 = io::Address::parse("[::1]:7101");
  ASSERT_TRUE(ipv6.ok());
  EXPECT_EQ(ipv6->host, "::1");
  EXPECT_EQ(ipv6->port, 7101);
  EXPECT_EQ(ipv6->to_string(), "[::1]:7101");
  auto full = io::Address::parse("[2001:db8::7]:80");
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->host, "2001:db8::7");
  auto name = io::Address::parse("db-1.example.com:7101");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->host, "db-1.example.com");
  EXPECT_EQ(name->to_string(), "db-1.example.com:7101");
  EXPECT_FALSE(io::Address::parse("::1:7101").ok());
  EXPECT_FALSE(io::Address::parse("[::1:7101").ok());
  EXPECT_FALSE(io::Address::parse("[]:7101").ok());
  EXPECT_FALSE(io::Address::parse("[::1]:0").ok());
}

TEST(AddressResolve, LocalhostIsIPv4AndBracketedLoopbackIsIPv6) {
  auto localhost = io::real::resolve(io::Address{"localhost", 7101});
  ASSERT_TRUE(localhost.ok()) << localhost.error().message();
  ASSERT_EQ(localhost->storage.ss_family, AF_INET);
  const auto& ipv4 = reinterpret_cast<const sockaddr_in&>(localhost->storage);
  EXPECT_EQ(ntohl(ipv4.sin_addr.s_addr), INADDR_LOOPBACK);
  EXPECT_EQ(ntohs(ipv4.sin_port), 7101);
  auto loopback = io::real::resolve(io::Address{"::1", 7102});
  ASSERT_TRUE(loopback.ok()) << loopback.error().message();
  ASSERT_EQ(loopback->storage.ss_family, AF_INET6);
  EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in6&>(loopback->storage).sin6_port), 7102);
  auto nowhere = io::real::resolve(io::Address{"no-such-host.invalid", 1});
  ASSERT_FALSE(nowhere.ok());
  EXPECT_NE(nowhere.error().message().find("host 'no-such-host.invalid' does not resolve"),
            std::string::npos)
      << nowhere.error().message();
}

}  // namespace
}  // namespace quire::tools
