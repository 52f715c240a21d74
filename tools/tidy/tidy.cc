// quire-tidy: fails the build on what the house rules ban (STYLE.md, "Tests"; DESIGN.md, "Layout"):
// - OS access outside io/real/: threads, clocks, rand, random_device, getenv; raw sockets and file
//   calls in engine/ and store/;
// - includes across the layering: engine/core/ is pure (io/base/, store/format.h and value types,
//   never protobuf); store/ and engine/ see io/ interfaces but never io/real/ or sim/;
// - `catch (...)` whose block does not rethrow (it would swallow the fiber unwinding);
// - FIXME;
// - a reference to a doc that does not exist, or to a section it does not have (doc-link; STYLE.md,
//   "Where the house falls short"), anywhere in the tree: code, CMake, scripts, scenarios,
//   markdown.
// Usage: quire-tidy <source root>. Prints "path:line: rule: text" per finding; exits 1 if any.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
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

// ---- doc-link ----
// A doc reference is `docs/<name>.md` (in backticks or not), then optionally section names in
// double quotes, each after a separator: `docs/io.md, "Disk"`, `docs/io.md "Disk"`,
// `docs/io.md ("Disk")` or `docs/io.md("Disk")`, and lists such as `docs/protocol.md,
// "Election", "Reads" and "Catch-up"`. A name may wrap onto the next comment line. The file must
// exist, and each name must be one of its headings (`#` to `######`, outside code fences); a
// heading's trailing "(...)" may be left out: "Root blocks" names "## Root blocks (128 bytes)".

struct DocReference {
  size_t line;
  std::string doc;  // "docs/<name>.md"
  std::vector<std::string> sections;
};

std::string read_text(const fs::path& file) {
  std::ifstream stream(file, std::ios::binary);
  std::stringstream buffer;
  buffer << stream.rdbuf();
  return buffer.str();
}

// The names a reference may use for the headings of `markdown`.
std::set<std::string> heading_names(const std::string& markdown) {
  static const std::regex heading(R"(#{1,6}[ \t]+(.*?)[ \t#]*)");
  static const std::regex parenthetical(R"((.*?)[ \t]+\([^()]*\))");
  std::set<std::string> names;
  std::istringstream stream(markdown);
  std::string line;
  bool fenced = false;
  while (std::getline(stream, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t first = line.find_first_not_of(" \t");
    if (first != std::string::npos && line.compare(first, 3, "```") == 0) {
      fenced = !fenced;
      continue;
    }
    std::smatch match;
    if (fenced || !std::regex_match(line, match, heading)) continue;
    const std::string name = match[1];
    names.insert(name);
    std::smatch shorter;
    if (std::regex_match(name, shorter, parenthetical)) names.insert(shorter[1]);
  }
  return names;
}

// `text` with each line break, and the next line's indentation and comment leader (`//`, `#`,
// `*`), turned into one space, so that a reference which wraps reads as one line. `lines` gets
// the original line number of every character of the result.
std::string join_lines(const std::string& text, std::vector<size_t>& lines) {
  std::string joined;
  joined.reserve(text.size());
  lines.reserve(text.size());
  size_t line = 1;
  const auto blank = [&](size_t index) {
    return index < text.size() && (text[index] == ' ' || text[index] == '\t');
  };
  for (size_t index = 0; index < text.size(); index++) {
    if (text[index] != '\n') {
      joined.push_back(text[index]);
      lines.push_back(line);
      continue;
    }
    line++;
    size_t next = index + 1;
    while (blank(next))
      next++;
    if (text.compare(next, 2, "//") == 0) {
      while (next < text.size() && text[next] == '/')
        next++;
    } else if (next < text.size() &&
               (text[next] == '#' || (text[next] == '*' && text.compare(next, 2, "*/") != 0))) {
      next++;
    }
    while (blank(next))
      next++;
    joined.push_back(' ');
    lines.push_back(line);
    index = next - 1;
  }
  return joined;
}

// Where the quoted name after a separator begins (its opening quote), or npos if none follows.
// The first name after the path follows ", ", " ", "(" or " ("; a later one follows ", ",
// " and " or ", and ".
size_t next_section(const std::string& text, size_t at, bool first) {
  const size_t begin = at;
  if (at < text.size() && text[at] == ',') at++;
  while (at < text.size() && text[at] == ' ')
    at++;
  if (!first && text.compare(at, 4, "and ") == 0) at += 4;
  if (first && at < text.size() && text[at] == '(') at++;
  if (at == begin || at >= text.size() || text[at] != '"') return std::string::npos;
  return at;
}

std::vector<DocReference> doc_references(const std::string& text) {
  static const std::regex path(R"((^|[^A-Za-z0-9_./-])(docs/[A-Za-z0-9_-]+\.md))");
  constexpr size_t section_size_max = 120;
  std::vector<size_t> lines;
  const std::string joined = join_lines(text, lines);
  std::vector<DocReference> references;
  for (auto it = std::sregex_iterator(joined.begin(), joined.end(), path);
       it != std::sregex_iterator(); ++it) {
    const size_t begin = static_cast<size_t>(it->position(2));
    DocReference reference{lines.at(begin), it->str(2), {}};
    size_t at = begin + static_cast<size_t>(it->length(2));
    if (at < joined.size() && joined[at] == '`') at++;
    for (bool first = true;; first = false) {
      const size_t quote = next_section(joined, at, first);
      if (quote == std::string::npos) break;
      const size_t close = joined.find('"', quote + 1);
      if (close == std::string::npos || close == quote + 1 ||
          close - quote - 1 > section_size_max) {
        break;
      }
      reference.sections.push_back(joined.substr(quote + 1, close - quote - 1));
      at = close + 1;
    }
    references.push_back(std::move(reference));
  }
  return references;
}

// Files that may cite a doc: sources, CMake, scripts, scenarios, schemas, markdown, and scripts
// without an extension (`#!`). Skips .git and build trees (a folder that holds CMakeCache.txt).
bool may_cite_docs(const fs::path& file) {
  static const std::set<std::string> extensions = {".h",        ".cc",    ".cpp", ".c",     ".md",
                                                   ".txt",      ".cmake", ".sh",  ".proto", ".py",
                                                   ".scenario", ".yml",   ".yaml"};
  const std::string extension = file.extension().string();
  if (extensions.contains(extension)) return true;
  if (!extension.empty()) return false;
  std::ifstream stream(file, std::ios::binary);
  char start[2] = {};
  stream.read(start, 2);
  return stream.gcount() == 2 && start[0] == '#' && start[1] == '!';
}

std::vector<fs::path> files_citing_docs(const fs::path& root) {
  std::vector<fs::path> files;
  for (auto it =
           fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied);
       it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_directory()) {
      if (it->path().filename() == ".git" || fs::exists(it->path() / "CMakeCache.txt")) {
        it.disable_recursion_pending();
      }
      continue;
    }
    if (it->is_regular_file() && may_cite_docs(it->path())) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Returns how many references `file` holds.
size_t check_doc_links(const fs::path& root, const fs::path& file,
                       std::map<std::string, std::set<std::string>>& headings,
                       std::vector<Finding>& out) {
  const std::string path = fs::relative(file, root).generic_string();
  const std::vector<DocReference> references = doc_references(read_text(file));
  for (const DocReference& reference : references) {
    const fs::path doc = root / reference.doc;
    if (!fs::is_regular_file(doc)) {
      out.push_back({path, reference.line, "doc-link", reference.doc + " does not exist"});
      continue;
    }
    auto found = headings.find(reference.doc);
    if (found == headings.end()) {
      found = headings.emplace(reference.doc, heading_names(read_text(doc))).first;
    }
    for (const std::string& section : reference.sections) {
      if (found->second.contains(section)) continue;
      out.push_back({path, reference.line, "doc-link",
                     reference.doc + " has no heading \"" + section + "\""});
    }
  }
  return references.size();
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
  // Doc references are checked across the whole tree, markdown and scripts included.
  std::map<std::string, std::set<std::string>> headings;
  const std::vector<fs::path> citing = files_citing_docs(root);
  size_t reference_count = 0;
  for (const fs::path& file : citing) {
    const std::string path = fs::relative(file, root).generic_string();
    if (under(path, "tools/tidy/") || under(path, "tests/tidy/")) continue;
    reference_count += check_doc_links(root, file, headings, findings);
  }
  for (const Finding& finding : findings) {
    std::printf("%s:%zu: %s: %s\n", finding.path.c_str(), finding.line, finding.rule.c_str(),
                finding.text.c_str());
  }
  std::printf("quire-tidy: %zu source files; %zu doc references in %zu files; %zu findings\n",
              files.size(), reference_count, citing.size(), findings.size());
  return findings.empty() ? 0 : 1;
}
