#include "store/committed_digest.h"

#include <algorithm>

#include "io/base/checksum.h"

namespace quire::store {

Result<CommittedDigest> digest_committed_bytes(Journal& journal) {
  constexpr uint64_t chunk_bytes = 4u << 20;
  CommittedDigest digest;
  digest.commit_counter = journal.commit_counter();
  digest.end_offset = journal.root().end_offset;
  Checksummer checksummer;
  for (uint64_t offset = format::data_region_begin_offset; offset < digest.end_offset;) {
    const uint64_t length = std::min(chunk_bytes, digest.end_offset - offset);
    QUIRE_TRY_ASSIGN(Bytes bytes, journal.read_raw(offset, length));
    checksummer.update(bytes);
    offset += length;
  }
  digest.bytes_hash = checksummer.digest();
  return digest;
}

}  // namespace quire::store
