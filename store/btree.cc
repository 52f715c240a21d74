#include "store/btree.h"

#include <algorithm>
#include <cstring>

#include "io/base/text.h"

namespace quire::store {
namespace {

bool below_end(ByteView key, ByteView end) {
  return end.empty() || compare_keys(key, end) < 0;
}

}  // namespace

int compare_keys(ByteView left, ByteView right) {
  const size_t common = std::min(left.size(), right.size());
  const int prefix = common == 0 ? 0 : std::memcmp(left.data(), right.data(), common);
  if (prefix != 0) return prefix;
  if (left.size() == right.size()) return 0;
  return left.size() < right.size() ? -1 : 1;
}

size_t child_index_for(const Node& branch, ByteView key) {
  QUIRE_ASSERT(!branch.is_leaf());
  // Separator i is the least key of child i + 1: the child is the number of separators <= key.
  const auto after = std::upper_bound(
      branch.keys.begin(), branch.keys.end(), key,
      [](ByteView probe, const Bytes& separator) { return compare_keys(probe, separator) < 0; });
  return static_cast<size_t>(after - branch.keys.begin());
}

Result<std::optional<LeafValue>> BTreeReader::find(ByteView key) {
  Address address = root_;
  uint8_t expected_level = 0;
  bool first = true;
  while (!address.is_null()) {
    QUIRE_TRY_ASSIGN(const std::shared_ptr<const Node> node, reader_.load_node(address));
    if (!first && node->level != expected_level) {
      return Error(ErrorCode::corruption,
                   concat("node at ", address_text(address), " has level ", node->level,
                          ", its parent expects ", expected_level));
    }
    first = false;
    if (node->is_leaf()) {
      const auto found = std::lower_bound(
          node->keys.begin(), node->keys.end(), key,
          [](const Bytes& probe, ByteView wanted) { return compare_keys(probe, wanted) < 0; });
      if (found == node->keys.end() || compare_keys(*found, key) != 0)
        return std::optional<LeafValue>();
      return std::optional<LeafValue>(
          node->values[static_cast<size_t>(found - node->keys.begin())]);
    }
    expected_level = static_cast<uint8_t>(node->level - 1);
    address = node->children[child_index_for(*node, key)];
  }
  return std::optional<LeafValue>();
}

Result<std::optional<Value>> BTreeReader::get(ByteView key) {
  QUIRE_TRY_ASSIGN(const std::optional<LeafValue> found, find(key));
  if (!found.has_value()) return std::optional<Value>();
  QUIRE_TRY_ASSIGN(Bytes bytes, reader_.load_value(*found));
  return std::optional<Value>(Value{std::move(bytes), found->version});
}

Result<std::vector<Entry>> BTreeReader::scan(ByteView begin, ByteView end, size_t limit) {
  std::vector<Entry> out;
  if (root_.is_null() || limit == 0) return out;
  if (!end.empty() && compare_keys(begin, end) >= 0) return out;
  QUIRE_TRY(scan_node(root_, begin, end, limit, out));
  QUIRE_ASSERT(out.size() <= limit);
  return out;
}

Status BTreeReader::scan_node(Address address, ByteView begin, ByteView end, size_t limit,
                              std::vector<Entry>& out) {
  QUIRE_TRY_ASSIGN(const std::shared_ptr<const Node> node, reader_.load_node(address));
  if (node->is_leaf()) {
    auto key = std::lower_bound(
        node->keys.begin(), node->keys.end(), begin,
        [](const Bytes& probe, ByteView wanted) { return compare_keys(probe, wanted) < 0; });
    for (; key != node->keys.end() && out.size() < limit; ++key) {
      if (!below_end(*key, end)) break;
      const LeafValue& value = node->values[static_cast<size_t>(key - node->keys.begin())];
      QUIRE_TRY_ASSIGN(Bytes bytes, reader_.load_value(value));
      out.push_back(Entry{*key, Value{std::move(bytes), value.version}});
    }
    return ok_status();
  }
  for (size_t child = child_index_for(*node, begin); child < node->children.size(); child++) {
    // Child `child` starts at separator child - 1: past the end, nothing more can match.
    if (child > 0 && !below_end(node->keys[child - 1], end)) break;
    if (out.size() >= limit) break;
    QUIRE_TRY(scan_node(node->children[child], begin, end, limit, out));
  }
  return ok_status();
}

}  // namespace quire::store
