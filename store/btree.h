// BTreeReader: lookups and ordered scans of one copy-on-write B+tree, as it was at one root
// address. Every committed root stays readable forever (the journal never reclaims space), which
// is what makes historical reads and read-only views possible. The tree's layout and update rules
// are in node.h and btree_update.h; docs/format.md, "B+tree".
//
// Keys compare as unsigned byte strings (memcmp order, shorter first on a common prefix).
// Suspends (node misses read the journal).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "io/base/bytes.h"
#include "io/base/ids.h"
#include "io/base/result.h"
#include "store/address.h"
#include "store/record_reader.h"

namespace quire::store {

// A value as the engine sees it: its bytes and the commit counter that last wrote its key.
struct Value {
  Bytes bytes;
  CommitCounter version;
  bool operator==(const Value&) const = default;
};

struct Entry {
  Bytes key;
  Value value;
  bool operator==(const Entry&) const = default;
};

// <0, 0, >0 as memcmp, for keys.
int compare_keys(ByteView left, ByteView right);
// The index of the child of a branch whose subtree may hold `key`.
size_t child_index_for(const Node& branch, ByteView key);

class BTreeReader {
 public:
  // REQUIRES: `reader` outlives this object. `root` may be null (the empty tree).
  BTreeReader(RecordReader& reader, Address root) : reader_(reader), root_(root) {}

  Result<std::optional<Value>> get(ByteView key);
  // The leaf entry of `key` without gathering an out-of-line value.
  Result<std::optional<LeafValue>> find(ByteView key);
  // Entries with begin <= key < end in key order, at most `limit` of them. An empty `end` means
  // no upper bound (no key sorts below the empty key).
  Result<std::vector<Entry>> scan(ByteView begin, ByteView end, size_t limit);

 private:
  Status scan_node(Address address, ByteView begin, ByteView end, size_t limit,
                   std::vector<Entry>& out);

  RecordReader& reader_;
  Address root_;
};

}  // namespace quire::store
