// RecordReader: reads records of the journal by address, verifies them, and decodes nodes and
// values, keeping decoded nodes in a NodeCache. A record that fails its checksum comes back as
// checksum_mismatch carrying its address (failed_address()), never as data.
//
// Suspends (every miss reads the file through io::File). Safe to use from several fibers at once:
// it keeps no state across a suspension but the cache, whose entries below the committed end are
// never stale.
#pragma once

#include <cstdint>
#include <memory>

#include "io/base/bytes.h"
#include "io/base/result.h"
#include "io/disk.h"
#include "store/address.h"
#include "store/node.h"
#include "store/node_cache.h"

namespace quire::store {

class RecordReader {
 public:
  // REQUIRES: `cache` outlives the reader.
  RecordReader(std::shared_ptr<io::File> file, NodeCache& cache);

  // Reads and verifies the record at `address`. Errors: checksum_mismatch (with the address),
  // io_error, corruption (short file, a record of another kind than `expected`).
  Result<Bytes> read_record_payload(Address address, format::RecordKind expected);
  Result<std::shared_ptr<const Node>> load_node(Address address);
  // The whole value, inline or gathered from its chunks.
  Result<Bytes> load_value(const LeafValue& value);

  // Nodes read from below this offset are kept in the cache; nodes above it (a sealed write set
  // that may still roll back) only when the journal inserts them itself.
  void set_cacheable_end(uint64_t offset) { cacheable_end_ = offset; }
  void replace_file(std::shared_ptr<io::File> file) { file_ = std::move(file); }
  NodeCache& cache() { return cache_; }

 private:
  Result<Bytes> read_verified(Address address, format::RecordKind expected);

  std::shared_ptr<io::File> file_;
  NodeCache& cache_;
  uint64_t cacheable_end_ = 0;
};

}  // namespace quire::store
