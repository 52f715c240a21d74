// quire-tidy: fails the build on what the house rules ban (STYLE.md, "Tests"; DESIGN.md, "Layout"):
// - OS access outside io/real/: threads, clocks, rand, random_device, getenv; raw sockets and file
//   calls in engine/ and store/;
// - includes across the layering: engine/core/ is pure (io/base/, store/format.h and value types,
//   never protobuf); store/ and engine/ see io/ interfaces but never io/real/ or sim/;
// - `catch (...)` whose block does not rethrow (it would swallow the fiber unwinding);
// - FIXME.
// Usage: quire-tidy <source root>. Prints "path:line: rule: text" per finding; exits 1 if any.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct Finding {
  std::string path;
  size_t line;
  std::string rule;
  std::string text;
};

// Blanks comments and the insides of string and character literals, keeping line breaks, so
// that rules match code only. Include paths are kept (they are the subject of include rules).
std::string strip(const std::string& source) {
  std::string out = source;
  enum class State { code, line_comment, block_comment, string, character } state = State::code;
  bool in_include = false;
  for (size_t index = 0; index < out.size(); index++) {
    const char current = out[index];
    const char next = index + 1 < out.size() ? out[index + 1] : '\0';
    if (current == '\n') {
      in_include = false;
      if (state == State::line_comment) state = State::code;
      continue;
    }
    switch (state) {
      case State::code:
        if (current == '#' && out.compare(index, 8, "#include") == 0) in_include = true;
        if (current == '/' && next == '/') {
          state = State::line_comment;
          out[index] = ' ';
        } else if (current == '/' && next == '*') {
          state = State::block_comment;
          out[index] = ' ';
        } else if (current == '"' && !in_include) {
          state = State::string;
        } else if (current == '\'' &&
                   !(index > 0 && std::isxdigit(static_cast<unsigned char>(out[index - 1])))) {
          state = State::character;
        }
        break;
      case State::line_comment:
        out[index] = ' ';
        break;
      case State::block_comment:
        if (current == '*' && next == '/') {
          out[index] = ' ';
          out[index + 1] = ' ';
          index++;
          state = State::code;
        } else {
          out[index] = ' ';
        }
        break;
      case State::string:
      case State::character: {
        const char quote = state == State::string ? '"' : '\'';
        if (current == '\\') {
          out[index] = ' ';
          if (index + 1 < out.size() && out[index + 1] != '\n') out[++index] = ' ';
        } else if (current == quote) {
          state = State::code;
        } else {
          out[index] = ' ';
        }
        break;
      }
    }
  }
  return out;
}

struct Rule {
  std::string name;
  std::regex pattern;
  std::vector<std::string> folders;     // Applies to files under these folders...
  std::vector<std::string> exceptions;  // ...except these.
};

bool under(const std::string& path, const std::string& folder) {
  return path.compare(0, folder.size(), folder) == 0;
}

bool applies(const Rule& rule, const std::string& path) {
  const bool in_scope = std::any_of(rule.folders.begin(), rule.folders.end(),
                                    [&](const std::string& folder) { return under(path, folder); });
  const bool excepted = std::any_of(rule.exceptions.begin(), rule.exceptions.end(),
                                    [&](const std::string& folder) { return under(path, folder); });
  return in_scope && !excepted;
}

std::vector<Rule> rules() {
  const std::vector<std::string> deterministic = {"engine/", "store/", "sim/", "harness/", "io/"};
  const std::vector<std::string> real = {"io/real/"};
  const std::vector<std::string> engine_and_store = {"engine/", "store/"};
  auto rule = [](std::string name, const char* pattern, std::vector<std::string> folders,
                 std::vector<std::string> exceptions = {}) {
    return Rule{std::move(name), std::regex(pattern), std::move(folders), std::move(exceptions)};
  };
  return {
      rule(
          "thread",
          R"(#include\s*<(thread|mutex|shared_mutex|condition_variable|future|semaphore|stop_token)>|std::(j?thread|async)\b)",
          deterministic, real),
      rule(
          "clock",
          R"(\b(system_clock|steady_clock|high_resolution_clock|gettimeofday|clock_gettime)\b|\btime\s*\(\s*(nullptr|NULL|0)\s*\))",
          deterministic, real),
      rule("random", R"(\b(s?rand|random_device|drand48|arc4random)\s*[\(\{]|\brandom_device\b)",
           deterministic, real),
      rule("getenv", R"(\b(secure_)?getenv\s*\()", deterministic, real),
      rule(
          "os-include",
          R"(#include\s*<(sys/[a-z_]+\.h|netinet/[a-z_]+\.h|arpa/inet\.h|unistd\.h|fcntl\.h|liburing\.h|fstream|cstdio|stdio\.h|filesystem|dirent\.h)>)",
          engine_and_store),
      // Member functions may be called open(); the OS's are reached as ::open() or need the
      // headers banned above.
      rule(
          "file-call",
          R"(\b(fopen|fread|fwrite|pread64|pread|pwrite64|pwrite|fsync|fdatasync|sync_file_range)\s*\(|(^|[^\w])::(open|socket|connect|accept|close|read|write)\s*\()",
          engine_and_store),
      rule("layer:io-real", R"(#include\s*"io/real/)",
           {"engine/", "store/", "sim/", "harness/", "io/"}, real),
      rule("layer:sim", R"(#include\s*"sim/)", {"engine/", "store/", "io/"}),
      rule("layer:io-base", R"(#include\s*"(?!io/base/)[a-z_]+/)", {"io/base/"}),
      rule("layer:core-pure",
           R"(#include\s*"(?!io/base/|engine/core/|store/(format|root_block)\.h)[^"]+")",
           {"engine/core/"}),
      rule("layer:core-protobuf", R"(#include\s*[<"](google/protobuf/|[^">]*\.pb\.h))",
           {"engine/core/"}),
      rule("layer:store", R"(#include\s*"(engine|harness|tools)/)", {"store/"}),
      rule("layer:engine", R"(#include\s*"(harness|tools)/)", {"engine/"}),
      rule("fixme", R"(\bFIXME\b)", {""}),
  };
}

// Finds `catch (...)` blocks that do not contain a bare `throw;`.
void check_catch_all(const std::string& path, const std::string& code, std::vector<Finding>& out) {
  static const std::regex catch_all(R"(catch\s*\(\s*\.\.\.\s*\)\s*\{)");
  for (auto it = std::sregex_iterator(code.begin(), code.end(), catch_all);
       it != std::sregex_iterator(); ++it) {
    size_t position = static_cast<size_t>(it->position() + it->length());
    int depth = 1;
    const size_t body_begin = position;
    while (position < code.size() && depth > 0) {
      if (code[position] == '{') depth++;
      if (code[position] == '}') depth--;
      position++;
    }
    const std::string body = code.substr(body_begin, position - body_begin);
    if (!std::regex_search(body, std::regex(R"(\bthrow\s*;)"))) {
      const size_t line =
          1 + static_cast<size_t>(std::count(code.begin(), code.begin() + it->position(), '\n'));
      out.push_back({path, line, "catch-all", "catch (...) without rethrow"});
    }
  }
}

void check_file(const fs::path& root, const fs::path& file, const std::vector<Rule>& all_rules,
                std::vector<Finding>& out) {
  std::ifstream stream(file);
  std::stringstream buffer;
  buffer << stream.rdbuf();
  const std::string original = buffer.str();
  const std::string code = strip(original);
  const std::string path = fs::relative(file, root).generic_string();
  std::vector<std::string> lines;
  std::string line;
  std::istringstream line_stream(code);
  while (std::getline(line_stream, line))
    lines.push_back(line);
  std::vector<std::string> original_lines;
  std::istringstream original_stream(original);
  while (std::getline(original_stream, line))
    original_lines.push_back(line);
  for (const Rule& rule : all_rules) {
    if (!applies(rule, path)) continue;
    // FIXME lives in comments: match the original text for it, the stripped code otherwise.
    const std::vector<std::string>& subject = rule.name == "fixme" ? original_lines : lines;
    for (size_t index = 0; index < subject.size(); index++) {
      if (std::regex_search(subject[index], rule.pattern)) {
        out.push_back({path, index + 1, rule.name, original_lines.at(index)});
      }
    }
  }
  check_catch_all(path, code, out);
}

bool is_source(const fs::path& file) {
  const std::string extension = file.extension().string();
  return extension == ".h" || extension == ".cc" || extension == ".cpp" || extension == ".c";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: quire-tidy <source root>\n");
    return 2;
  }
  const fs::path root = fs::canonical(argv[1]);
  const std::vector<std::string> folders = {"io",      "sim",   "store", "engine",
                                            "harness", "tools", "tests", "bench"};
  const std::vector<Rule> all_rules = rules();
  std::vector<fs::path> files;
  for (const std::string& folder : folders) {
    if (!fs::exists(root / folder)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root / folder)) {
      if (entry.is_regular_file() && is_source(entry.path())) files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<Finding> findings;
  for (const fs::path& file : files) {
    // The tidy tool names what it bans; its own sources and its test's fixtures are exempt.
    const std::string path = fs::relative(file, root).generic_string();
    if (under(path, "tools/tidy/") || under(path, "tests/tidy/")) continue;
    check_file(root, file, all_rules, findings);
  }
  for (const Finding& finding : findings) {
    std::printf("%s:%zu: %s: %s\n", finding.path.c_str(), finding.line, finding.rule.c_str(),
                finding.text.c_str());
  }
  std::printf("quire-tidy: %zu files, %zu findings\n", files.size(), findings.size());
  return findings.empty() ? 0 : 1;
}
