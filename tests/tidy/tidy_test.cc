// Goal: the tidy check passes on the tree and fails on every kind of violation it bans.
// Method: run quire-tidy on the source root; then on a scratch tree with one planted violation
// per rule, and check each is reported (a planted-bug test of the checker itself); the doc-link
// rule gets a scratch tree of its own, with every form of reference the tree uses, good and bad.
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

TEST(Tidy, EveryBrokenDocLinkIsReported) {
  const fs::path root = fs::temp_directory_path() / "quire-tidy-doc-test";
  fs::remove_all(root);
  write(root / "docs/guide.md",
        "# Guide\n\n## Disk\n\n### Root blocks (128 bytes)\n\n```sh\n# Not a heading\n```\n"
        "## Commit order, crashes and recovery\n");
  // Good: every form, a list, a name wrapped onto the next comment line, a heading's name
  // without its "(...)", a path inside backticks.
  write(root / "engine/good.h",
        "// See docs/guide.md. docs/guide.md, \"Disk\"; docs/guide.md \"Disk\".\n"
        "// docs/guide.md(\"Disk\") and docs/guide.md (\"Root blocks\").\n"
        "// docs/guide.md, \"Disk\", \"Guide\" and \"Root blocks (128 bytes)\".\n"
        "// (docs/guide.md, \"Commit\n// order, crashes and recovery\").\n");
  write(root / "README.md", "See `docs/guide.md`, \"Disk\", and `docs/guide.md`.\n");
  write(root / "scripts/run", "#!/bin/sh\n# docs/guide.md, \"Guide\"\n");
  // Bad: a missing file, a missing section, a fenced "heading", a late name in a list, a wrapped
  // name that does not match, in code, CMake, a script without an extension and markdown.
  write(root / "engine/bad.h",
        "// docs/wire.md describes it.\n// See docs/guide.md, \"Faults\".\n");
  write(root / "sim/CMakeLists.txt", "# docs/guide.md, \"Not a heading\"\n");
  write(root / "sim/bad.cc", "// docs/guide.md, \"Disk\", \"Guide\" and \"Trace\".\n");
  write(root / "tools/bad.sh", "# (docs/guide.md, \"Commit\n# order and recovery\")\n");
  write(root / ".ci/run", "#!/bin/sh\n# docs/simulation.md\n");
  write(root / "docs/other.md", "# Other\n\nSee docs/guide.md, \"Root\".\n");
  // Not references: a longer path, a name glued to the quote of a C string.
  write(root / "harness/h.cc",
        "const char* a = \"build/docs/none.md\"; const char* b = \"docs/guide.md\", \"x\";\n");
  // A build tree is not searched.
  write(root / "build/CMakeCache.txt", "");
  write(root / "build/x.cc", "// docs/absent.md\n");
  const Outcome outcome = run_tidy(root);
  EXPECT_EQ(outcome.exit_code, 1);
  for (const char* expected : {
           "engine/bad.h:1: doc-link: docs/wire.md does not exist",
           "engine/bad.h:2: doc-link: docs/guide.md has no heading \"Faults\"",
           "sim/CMakeLists.txt:1: doc-link: docs/guide.md has no heading \"Not a heading\"",
           "sim/bad.cc:1: doc-link: docs/guide.md has no heading \"Trace\"",
           "tools/bad.sh:1: doc-link: docs/guide.md has no heading \"Commit order and recovery\"",
           ".ci/run:2: doc-link: docs/simulation.md does not exist",
           "docs/other.md:3: doc-link: docs/guide.md has no heading \"Root\"",
       }) {
    EXPECT_NE(outcome.output.find(expected), std::string::npos) << expected << "\n"
                                                                << outcome.output;
  }
  for (const char* absent :
       {"engine/good.h", "README.md", "scripts/run", "harness/h.cc", "build/x.cc",
        "sim/bad.cc:1: doc-link: docs/guide.md has no heading \"Disk\"", "\"Guide\""}) {
    EXPECT_EQ(outcome.output.find(absent), std::string::npos) << absent << "\n" << outcome.output;
  }
  EXPECT_NE(outcome.output.find(" 7 findings"), std::string::npos) << outcome.output;
  fs::remove_all(root);
}

}  // namespace
