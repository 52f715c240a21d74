// Goal: the tidy check passes on the tree and fails on every kind of violation it bans.
// Method: run quire-tidy on the source root; then on a scratch tree with one planted violation
// per rule, and check each is reported (a planted-bug test of the checker itself).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

namespace fs = std::filesystem;

struct Outcome {
  int exit_code;
  std::string output;
};

Outcome run_tidy(const fs::path& root) {
  const std::string command = std::string(QUIRE_TIDY_BINARY) + " " + root.string() + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  EXPECT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  while (size_t count = fread(buffer, 1, sizeof buffer, pipe))
    output.append(buffer, count);
  const int status = pclose(pipe);
  return {WEXITSTATUS(status), output};
}

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

TEST(Tidy, SourceTreeIsClean) {
  const Outcome outcome = run_tidy(QUIRE_SOURCE_ROOT);
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

TEST(Tidy, EveryPlantedViolationIsReported) {
  const fs::path root = fs::temp_directory_path() / "quire-tidy-test";
  fs::remove_all(root);
  write(root / "engine/a.cc", "#include <thread>\nvoid f() { std::thread t; }\n");
  write(root / "store/b.cc", "#include <chrono>\nauto t = std::chrono::steady_clock::now();\n");
  write(root / "sim/c.cc", "int x = rand();\n");
  write(root / "harness/d.cc", "const char* home = getenv(\"HOME\");\n");
  write(root / "store/e.cc",
        "#include <unistd.h>\nint g(int fd) { return fsync(fd); }\nint h() { return ::open(\"x\", "
        "0); }\n"
        "auto d = disk.open(path);\n");
  write(root / "engine/core/f.h", "#include \"engine/codec.pb.h\"\n#include \"store/journal.h\"\n");
  write(root / "engine/g.cc", "void h() { try { } catch (...) { } }\n");
  write(root / "engine/h.cc", "void h() { try { } catch (...) { cleanup(); throw; } }\n");
  write(root / "store/i.cc", "// FIXME: later\n");
  write(root / "sim/j.cc", "#include \"io/real/real_disk.h\"\n");
  write(root / "io/real/k.cc", "#include <thread>\nauto t = std::chrono::steady_clock::now();\n");
  write(root / "engine/l.cc", "const char* s = \"std::thread rand() getenv(\";  // std::thread\n");
  const Outcome outcome = run_tidy(root);
  EXPECT_EQ(outcome.exit_code, 1);
  for (const char* expected :
       {"engine/a.cc:1: thread", "engine/a.cc:2: thread", "store/b.cc:2: clock",
        "sim/c.cc:1: random", "harness/d.cc:1: getenv", "store/e.cc:1: os-include",
        "store/e.cc:2: file-call", "engine/core/f.h:1: layer:core-pure",
        "engine/core/f.h:1: layer:core-protobuf", "engine/core/f.h:2: layer:core-pure",
        "engine/g.cc:1: catch-all", "store/i.cc:1: fixme", "sim/j.cc:1: layer:io-real"}) {
    EXPECT_NE(outcome.output.find(expected), std::string::npos) << expected << "\n"
                                                                << outcome.output;
  }
  // A rethrowing catch-all, io/real/ itself, and strings and comments are allowed.
  EXPECT_EQ(outcome.output.find("engine/h.cc"), std::string::npos) << outcome.output;
  EXPECT_EQ(outcome.output.find("store/e.cc:4"), std::string::npos) << outcome.output;
  EXPECT_EQ(outcome.output.find("io/real/k.cc"), std::string::npos) << outcome.output;
  EXPECT_EQ(outcome.output.find("engine/l.cc"), std::string::npos) << outcome.output;
  fs::remove_all(root);
}

}  // namespace
