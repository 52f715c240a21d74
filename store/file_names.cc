#include "store/file_names.h"

#include <charconv>

#include "io/base/assert.h"
#include "store/format.h"

namespace quire::store {

std::string join_path(std::string_view directory, std::string_view name) {
  QUIRE_ASSERT(!name.empty());
  if (directory.empty()) return std::string(name);
  std::string path(directory);
  path.push_back('/');
  path.append(name);
  return path;
}

std::string counter_file_name(CommitCounter counter, std::string_view suffix) {
  std::string digits = std::to_string(counter.value());
  QUIRE_ASSERT(digits.size() <= format::file_name_counter_digits);
  std::string name(format::file_name_counter_digits - digits.size(), '0');
  name.append(digits);
  name.append(suffix);
  return name;
}

std::optional<CommitCounter> parse_counter_file_name(std::string_view name,
                                                     std::string_view suffix) {
  if (name.size() != format::file_name_counter_digits + suffix.size() || !name.ends_with(suffix)) {
    return std::nullopt;
  }
  uint64_t value = 0;
  const char* begin = name.data();
  const char* end = begin + format::file_name_counter_digits;
  const auto [stop, error] = std::from_chars(begin, end, value);
  if (error != std::errc() || stop != end) return std::nullopt;
  return CommitCounter(value);
}

}  // namespace quire::store
