// BTreeUpdate: applies one sorted batch of puts and removes to a copy-on-write B+tree and writes
// every node it changes, as records, into a WriteCache. The nodes of the old tree are never
// touched: the new root shares every unchanged subtree with the old one.
//
// How (docs/format.md, "B+tree"): the batch is partitioned down the tree; each changed subtree
// comes back as zero or more in-memory "pieces" of its level (a node split by size, or emptied).
// A parent merges an underfull changed child (under a quarter of the node size) with a neighbour
// and splits the result again, writes its children (post-order: a child is always at a lower
// offset than its parent), and is itself split into pieces by size. At the top, pieces grow a new
// root level, and a root branch with a single child gives way to that child. All leaves stay at
// one depth. The output depends only on the old tree and the batch, so it is deterministic.
//
// Values longer than the inline limit go out of line: cut into chunks of at most one block's
// record payload, written before the leaf that points at them (through a value index when there
// is more than one chunk). Suspends (reads nodes of the old tree).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "io/base/bytes.h"
#include "io/base/ids.h"
#include "io/base/result.h"
#include "store/address.h"
#include "store/node.h"
#include "store/record_reader.h"
#include "store/write_cache.h"

namespace quire::store {

struct Mutation {
  ByteView key;
  bool remove = false;
  ByteView value;  // When !remove.
};

// How the leader shapes trees. Not part of the format: followers only read what it wrote.
struct TreeShape {
  uint32_t node_size_bytes_max = 4096;
  uint32_t value_inline_bytes_max = 512;
  uint32_t block_size_bytes = format::write_cache_block_size_bytes_default;
};

class BTreeUpdate {
 public:
  // Puts stamp `version` on their entries. REQUIRES: reader and cache outlive this object.
  BTreeUpdate(RecordReader& reader, WriteCache& cache, const TreeShape& shape,
              CommitCounter version);

  // Applies `mutations` to the tree at `root` (null: empty) and returns the new root (null when
  // the tree ends empty). REQUIRES: mutations sorted by key, keys unique.
  Result<Address> apply(Address root, std::span<const Mutation> mutations);

  // Keys added minus keys removed, over every apply().
  int64_t key_count_delta() const { return key_count_delta_; }
  // The nodes written so far, by offset: the journal puts them in its cache.
  const std::map<uint64_t, std::shared_ptr<const Node>>& written_nodes() const {
    return written_nodes_;
  }

 private:
  struct Piece {
    Bytes low;  // The least key of the piece's range; unused for a parent's first piece.
    Node node;
  };
  struct Slot {
    Address address;             // When written (or untouched).
    std::unique_ptr<Node> node;  // When in memory, not yet written.
  };

  Result<std::vector<Piece>> apply_node(Address address, std::span<const Mutation> mutations,
                                        int expected_level);
  Result<std::vector<Piece>> apply_leaf(const Node& leaf, std::span<const Mutation> mutations);
  Result<std::vector<Piece>> apply_branch(const Node& branch, std::span<const Mutation> mutations);
  Status merge_underfull(std::vector<Slot>& slots, std::vector<Bytes>& separators);
  Result<Node> take(Slot& slot);
  Result<LeafValue> make_value(ByteView value);
  Result<Address> collapse(Address address);
  Result<std::shared_ptr<const Node>> load(Address address);
  Address write(Node node);
  std::vector<Piece> split_leaf(Node leaf) const;
  std::vector<Piece> split_branch(Node branch) const;
  std::vector<size_t> piece_starts(const std::vector<size_t>& sizes, size_t header) const;

  RecordReader& reader_;
  WriteCache& cache_;
  TreeShape shape_;
  CommitCounter version_;
  int64_t key_count_delta_ = 0;
  std::map<uint64_t, std::shared_ptr<const Node>> written_nodes_;
};

}  // namespace quire::store
