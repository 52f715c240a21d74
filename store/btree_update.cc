#include "store/btree_update.h"

#include <algorithm>

#include "io/base/text.h"
#include "store/btree.h"

namespace quire::store {
namespace {

Bytes to_owned(ByteView bytes) {
  return Bytes(bytes.begin(), bytes.end());
}

// Concatenates two neighbouring nodes of one level; `separator` is the least key of `right`'s
// range, which a branch keeps between the two children lists.
Node concatenate(Node left, Node right, const Bytes& separator) {
  QUIRE_ASSERT(left.level == right.level);
  if (left.is_leaf()) {
    QUIRE_ASSERT(left.keys.empty() || right.keys.empty() ||
                 compare_keys(left.keys.back(), right.keys.front()) < 0);
    std::move(right.keys.begin(), right.keys.end(), std::back_inserter(left.keys));
    std::move(right.values.begin(), right.values.end(), std::back_inserter(left.values));
    return left;
  }
  left.keys.push_back(separator);
  std::move(right.keys.begin(), right.keys.end(), std::back_inserter(left.keys));
  std::move(right.children.begin(), right.children.end(), std::back_inserter(left.children));
  return left;
}

}  // namespace

BTreeUpdate::BTreeUpdate(RecordReader& reader, WriteCache& cache, const TreeShape& shape,
                         CommitCounter version)
    : reader_(reader), cache_(cache), shape_(shape), version_(version) {
  QUIRE_ASSERT(shape.node_size_bytes_max + format::record_header_size_bytes <=
               WriteCache::payload_capacity_bytes(shape.block_size_bytes) +
                   format::record_header_size_bytes);
}

Result<Address> BTreeUpdate::apply(Address root, std::span<const Mutation> mutations) {
  for (size_t index = 1; index < mutations.size(); index++) {
    QUIRE_ASSERT(compare_keys(mutations[index - 1].key, mutations[index].key) < 0);
  }
  if (mutations.empty()) return root;
  std::vector<Piece> pieces;
  if (root.is_null()) {
    QUIRE_TRY_ASSIGN(pieces, apply_leaf(Node{}, mutations));
  } else {
    QUIRE_TRY_ASSIGN(pieces, apply_node(root, mutations, -1));
  }
  for (;;) {
    if (pieces.empty()) return Address{};
    if (pieces.size() == 1) {
      Node& top = pieces.front().node;
      if (!top.is_leaf() && top.children.size() == 1) return collapse(top.children.front());
      return write(std::move(top));
    }
    // More than one piece at the top: they become the children of a new root level.
    QUIRE_ASSERT(pieces.front().node.level < format::tree_level_max);
    Node parent;
    parent.level = static_cast<uint8_t>(pieces.front().node.level + 1);
    for (size_t index = 0; index < pieces.size(); index++) {
      if (index > 0) parent.keys.push_back(std::move(pieces[index].low));
      parent.children.push_back(write(std::move(pieces[index].node)));
    }
    pieces = split_branch(std::move(parent));
  }
}

Result<std::vector<BTreeUpdate::Piece>> BTreeUpdate::apply_node(Address address,
                                                                std::span<const Mutation> mutations,
                                                                int expected_level) {
  QUIRE_ASSERT(!mutations.empty());
  QUIRE_TRY_ASSIGN(const std::shared_ptr<const Node> node, load(address));
  if (expected_level >= 0 && node->level != expected_level) {
    return Error(ErrorCode::corruption,
                 concat("node at ", address_text(address), " has level ", node->level,
                        ", its parent expects ", expected_level));
  }
  if (node->is_leaf()) return apply_leaf(*node, mutations);
  return apply_branch(*node, mutations);
}

Result<std::vector<BTreeUpdate::Piece>> BTreeUpdate::apply_leaf(
    const Node& leaf, std::span<const Mutation> mutations) {
  QUIRE_ASSERT(leaf.is_leaf());
  Node merged;
  merged.keys.reserve(leaf.keys.size() + mutations.size());
  merged.values.reserve(leaf.keys.size() + mutations.size());
  size_t existing = 0;
  for (const Mutation& mutation : mutations) {
    while (existing < leaf.keys.size() && compare_keys(leaf.keys[existing], mutation.key) < 0) {
      merged.keys.push_back(leaf.keys[existing]);
      merged.values.push_back(leaf.values[existing]);
      existing++;
    }
    const bool present =
        existing < leaf.keys.size() && compare_keys(leaf.keys[existing], mutation.key) == 0;
    if (present) existing++;
    if (mutation.remove) {
      if (present) key_count_delta_--;
      continue;
    }
    if (!present) key_count_delta_++;
    QUIRE_TRY_ASSIGN(LeafValue value, make_value(mutation.value));
    merged.keys.push_back(to_owned(mutation.key));
    merged.values.push_back(std::move(value));
  }
  for (; existing < leaf.keys.size(); existing++) {
    merged.keys.push_back(leaf.keys[existing]);
    merged.values.push_back(leaf.values[existing]);
  }
  return split_leaf(std::move(merged));
}

Result<std::vector<BTreeUpdate::Piece>> BTreeUpdate::apply_branch(
    const Node& branch, std::span<const Mutation> mutations) {
  QUIRE_ASSERT(!branch.is_leaf());
  std::vector<Slot> slots;
  std::vector<Bytes> separators;  // separators[i] precedes slots[i + 1].
  size_t next = 0;
  for (size_t child = 0; child < branch.children.size(); child++) {
    size_t end = next;
    const bool last = child + 1 == branch.children.size();
    while (end < mutations.size() &&
           (last || compare_keys(mutations[end].key, branch.keys[child]) < 0)) {
      end++;
    }
    // A child keeps its own lower bound as separator, unless it becomes the first child.
    auto add_slot = [&](Slot slot, const Bytes& low) {
      if (!slots.empty()) separators.push_back(low);
      slots.push_back(std::move(slot));
    };
    const Bytes no_low;
    const Bytes& child_low = child == 0 ? no_low : branch.keys[child - 1];
    if (end == next) {
      add_slot(Slot{branch.children[child], nullptr}, child_low);
      continue;
    }
    QUIRE_TRY_ASSIGN(
        std::vector<Piece> pieces,
        apply_node(branch.children[child], mutations.subspan(next, end - next), branch.level - 1));
    for (size_t index = 0; index < pieces.size(); index++) {
      const Bytes& low = index == 0 ? child_low : pieces[index].low;
      add_slot(Slot{Address{}, std::make_unique<Node>(std::move(pieces[index].node))}, low);
    }
    next = end;
  }
  QUIRE_ASSERT(next == mutations.size());
  if (slots.empty()) return std::vector<Piece>{};
  QUIRE_TRY(merge_underfull(slots, separators));
  Node rebuilt;
  rebuilt.level = branch.level;
  rebuilt.keys = std::move(separators);
  for (Slot& slot : slots) {
    rebuilt.children.push_back(slot.node ? write(std::move(*slot.node)) : slot.address);
  }
  return split_branch(std::move(rebuilt));
}

Status BTreeUpdate::merge_underfull(std::vector<Slot>& slots, std::vector<Bytes>& separators) {
  const size_t fill_min = shape_.node_size_bytes_max / 4;
  size_t index = 0;
  while (index < slots.size() && slots.size() > 1) {
    const Slot& slot = slots[index];
    if (!slot.node || slot.node->payload_size_bytes() >= fill_min) {
      index++;
      continue;
    }
    const size_t left = index + 1 < slots.size() ? index : index - 1;
    const size_t right = left + 1;
    QUIRE_TRY_ASSIGN(Node left_node, take(slots[left]));
    QUIRE_TRY_ASSIGN(Node right_node, take(slots[right]));
    Node merged = concatenate(std::move(left_node), std::move(right_node), separators[left]);
    std::vector<Piece> pieces =
        merged.is_leaf() ? split_leaf(std::move(merged)) : split_branch(std::move(merged));
    QUIRE_ASSERT(!pieces.empty());
    // Slots left and right become the pieces; the separator between them gives way to theirs.
    separators.erase(separators.begin() + static_cast<std::ptrdiff_t>(left));
    slots.erase(slots.begin() + static_cast<std::ptrdiff_t>(left),
                slots.begin() + static_cast<std::ptrdiff_t>(right) + 1);
    for (size_t piece = 0; piece < pieces.size(); piece++) {
      const auto at = static_cast<std::ptrdiff_t>(left + piece);
      slots.insert(slots.begin() + at,
                   Slot{Address{}, std::make_unique<Node>(std::move(pieces[piece].node))});
      if (piece > 0) separators.insert(separators.begin() + at - 1, std::move(pieces[piece].low));
    }
    QUIRE_ASSERT(separators.size() + 1 == slots.size());
    index = left + pieces.size();
  }
  return ok_status();
}

Result<Node> BTreeUpdate::take(Slot& slot) {
  if (slot.node) {
    Node node = std::move(*slot.node);
    slot.node.reset();
    return node;
  }
  QUIRE_TRY_ASSIGN(const std::shared_ptr<const Node> node, load(slot.address));
  return Node(*node);
}

Result<LeafValue> BTreeUpdate::make_value(ByteView bytes) {
  LeafValue value;
  value.version = version_;
  if (bytes.size() <= shape_.value_inline_bytes_max) {
    value.inline_bytes = to_owned(bytes);
    return value;
  }
  const size_t chunk_size = WriteCache::payload_capacity_bytes(shape_.block_size_bytes);
  std::vector<Address> chunks;
  for (size_t at = 0; at < bytes.size(); at += chunk_size) {
    const size_t length = std::min(chunk_size, bytes.size() - at);
    chunks.push_back(cache_.append(format::RecordKind::value_chunk, bytes.subspan(at, length)));
  }
  value.out_of_line = true;
  value.length = bytes.size();
  value.chunk_count = static_cast<uint32_t>(chunks.size());
  if (chunks.size() == 1) {
    value.address = chunks.front();
  } else {
    const Bytes index = encode_value_index(chunks);
    if (index.size() > chunk_size) {
      return Error(ErrorCode::invalid_argument, concat("a value of ", bytes.size(),
                                                       " bytes needs more chunks than one index "
                                                       "record can list at this block size"));
    }
    value.address = cache_.append(format::RecordKind::value_index, index);
  }
  return value;
}

Result<Address> BTreeUpdate::collapse(Address address) {
  for (;;) {
    QUIRE_TRY_ASSIGN(const std::shared_ptr<const Node> node, load(address));
    if (node->is_leaf() || node->children.size() > 1) return address;
    address = node->children.front();
  }
}

Result<std::shared_ptr<const Node>> BTreeUpdate::load(Address address) {
  // Nodes written by this update are still in the write cache, not in the file.
  const auto written = written_nodes_.find(address.offset);
  if (written != written_nodes_.end()) return written->second;
  return reader_.load_node(address);
}

Address BTreeUpdate::write(Node node) {
  QUIRE_ASSERT(node.payload_size_bytes() <= shape_.node_size_bytes_max || node.entry_count() == 1);
  QUIRE_ASSERT(node.is_leaf() ? !node.keys.empty() : !node.children.empty());
  const Bytes payload = encode_node(node);
  const Address address = cache_.append(node_record_kind(node), payload);
  written_nodes_.emplace(address.offset, std::make_shared<const Node>(std::move(node)));
  return address;
}

std::vector<size_t> BTreeUpdate::piece_starts(const std::vector<size_t>& sizes,
                                              size_t header) const {
  QUIRE_ASSERT(shape_.node_size_bytes_max > header);
  const size_t room = shape_.node_size_bytes_max - header;
  size_t total = 0;
  for (const size_t size : sizes)
    total += size;
  const size_t piece_count = std::max<size_t>(1, (total + room - 1) / room);
  const size_t target = total / piece_count;
  std::vector<size_t> starts;
  size_t filled = room + 1;  // Forces a first piece at item 0.
  for (size_t index = 0; index < sizes.size(); index++) {
    if (filled > 0 && (filled + sizes[index] > room || filled >= target)) {
      starts.push_back(index);
      filled = 0;
    }
    filled += sizes[index];
  }
  return starts;
}

std::vector<BTreeUpdate::Piece> BTreeUpdate::split_leaf(Node leaf) const {
  QUIRE_ASSERT(leaf.is_leaf());
  std::vector<Piece> pieces;
  if (leaf.keys.empty()) return pieces;
  std::vector<size_t> sizes;
  sizes.reserve(leaf.keys.size());
  for (size_t index = 0; index < leaf.keys.size(); index++) {
    sizes.push_back(leaf_entry_size_bytes(leaf.keys[index].size(), leaf.values[index]));
  }
  const std::vector<size_t> starts = piece_starts(sizes, format::leaf_header_size_bytes);
  for (size_t piece = 0; piece < starts.size(); piece++) {
    const size_t begin = starts[piece];
    const size_t end = piece + 1 < starts.size() ? starts[piece + 1] : leaf.keys.size();
    Piece out;
    for (size_t index = begin; index < end; index++) {
      out.node.keys.push_back(std::move(leaf.keys[index]));
      out.node.values.push_back(std::move(leaf.values[index]));
    }
    out.low = out.node.keys.front();
    pieces.push_back(std::move(out));
  }
  return pieces;
}

std::vector<BTreeUpdate::Piece> BTreeUpdate::split_branch(Node branch) const {
  QUIRE_ASSERT(!branch.is_leaf());
  QUIRE_ASSERT(branch.keys.size() + 1 == branch.children.size());
  std::vector<size_t> sizes;
  sizes.reserve(branch.children.size());
  for (size_t index = 0; index < branch.children.size(); index++) {
    sizes.push_back(index == 0 ? format::address_size_bytes
                               : branch_child_size_bytes(branch.keys[index - 1].size()));
  }
  const std::vector<size_t> starts = piece_starts(sizes, format::branch_header_size_bytes);
  std::vector<Piece> pieces;
  for (size_t piece = 0; piece < starts.size(); piece++) {
    const size_t begin = starts[piece];
    const size_t end = piece + 1 < starts.size() ? starts[piece + 1] : branch.children.size();
    Piece out;
    out.node.level = branch.level;
    // The separator in front of a piece's first child moves up: it is the piece's lower bound.
    if (begin > 0) out.low = std::move(branch.keys[begin - 1]);
    for (size_t index = begin; index < end; index++) {
      if (index > begin) out.node.keys.push_back(std::move(branch.keys[index - 1]));
      out.node.children.push_back(branch.children[index]);
    }
    pieces.push_back(std::move(out));
  }
  return pieces;
}

}  // namespace quire::store
