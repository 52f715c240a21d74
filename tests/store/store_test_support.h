// Helpers shared by the store tests: a simulated disk that completes at once (no runtime), crash
// and reopen, small journal options so trees grow deep with few keys, and a committed-prefix hash.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>

#include "io/base/checksum.h"
#include "io/base/rng.h"
#include "sim/disk_image.h"
#include "sim/sim_disk.h"
#include "store/journal.h"

namespace quire::store::testing {

// Small blocks and nodes: a few hundred keys make a three-level tree spread over many blocks.
inline JournalOptions small_options() {
  JournalOptions options;
  options.write_cache_block_size_bytes = 16 * 1024;
  options.node_size_bytes_max = 1024;
  options.value_inline_bytes_max = 64;
  options.key_size_bytes_max = 64;
  options.value_size_bytes_max = 256 * 1024;
  options.node_cache_bytes_max = 64 * 1024;
  // A few write sets per step: tests cross many growths of the file.
  options.allocation_step_bytes = 64 * 1024;
  return options;
}

// One simulated node's disk: the image survives crashes, the SimDisk is the process's view.
class SimNodeDisk {
 public:
  explicit SimNodeDisk(uint64_t seed) : rng_(seed) { reopen_disk(); }

  io::Disk& disk() { return *disk_; }
  sim::DiskImage& image() { return image_; }
  sim::DiskModel& model() { return model_; }
  Rng& rng() { return rng_; }

  // The process dies: unsynced writes are kept, lost or torn; the disk object is replaced.
  void crash(const sim::CrashFates& fates = sim::CrashFates{}) {
    image_.crash(rng_, fates);
    reopen_disk();
  }

  Result<std::unique_ptr<Journal>> open(const JournalOptions& options = small_options()) {
    return Journal::open(*disk_, options);
  }

  // XXH3 of the durable bytes of one file (empty when absent).
  uint64_t durable_hash(const std::string& path) const {
    const auto found = image_.files().find(path);
    if (found == image_.files().end()) return 0;
    return checksum64(found->second->durable.to_bytes());
  }
  Bytes current_bytes(const std::string& path) const {
    return image_.files().at(path)->current.to_bytes();
  }

 private:
  void reopen_disk() {
    disk_.reset();
    disk_ = std::make_unique<sim::SimDisk>(image_, model_, rng_, nullptr);
  }

  sim::DiskImage image_;
  sim::DiskModel model_;
  Rng rng_;
  std::unique_ptr<sim::SimDisk> disk_;
};

// XXH3 of the journal's committed prefix: the data region up to root.end_offset and the root.
inline uint64_t committed_prefix_hash(Journal& journal) {
  const RootBlock& root = journal.root();
  Checksummer checksummer;
  const auto data = journal.read_raw(format::data_region_begin_offset,
                                     root.end_offset - format::data_region_begin_offset);
  QUIRE_ASSERT(data.ok());
  checksummer.update(*data);
  const EncodedRootBlock encoded = encode_root_block(root);
  checksummer.update(encoded);
  return checksummer.digest();
}

// Nothing but the room preallocation leaves lies in `file` past `end`: zeros, less than 1.5
// allocation steps of them past `end`, or past `furthest_end` when data was written further
// before a crash or rollback took it (the room grown for it stays) (docs/format.md, "Journal
// file"). What "cut" leaves, and what a commit leaves past its end.
inline ::testing::AssertionResult only_zeros_past(const Bytes& file, uint64_t end,
                                                  const JournalOptions& options = small_options(),
                                                  uint64_t furthest_end = 0) {
  if (file.size() < end) {
    return ::testing::AssertionFailure()
           << "the file's " << file.size() << " bytes end before " << end;
  }
  const uint64_t base = std::max(end, furthest_end);
  const uint64_t room = file.size() > base ? file.size() - base : 0;
  if (room * 2 >= options.allocation_step_bytes * 3 && room > 0) {
    return ::testing::AssertionFailure() << room << " bytes past " << base << ", more than 1.5 "
                                         << "steps of " << options.allocation_step_bytes;
  }
  const auto nonzero = std::find_if(file.begin() + static_cast<std::ptrdiff_t>(end), file.end(),
                                    [](uint8_t byte) { return byte != 0; });
  if (nonzero != file.end()) {
    return ::testing::AssertionFailure()
           << "a byte past " << end << " is not zero, at " << (nonzero - file.begin());
  }
  return ::testing::AssertionSuccess();
}

// Seals, prepares and commits the pending layer, then syncs the root: a commit point a crash
// keeps (what the driver does within two ticks). The window before that sync has its own tests.
inline WriteSet commit_pending(Journal& journal, Term term = Term(1), int64_t time_ns = 1000) {
  auto sealed = journal.seal(term, time_ns);
  QUIRE_ASSERT_MSG(sealed.ok(), sealed.error().to_string());
  const Status prepared = journal.prepare(sealed->root);
  QUIRE_ASSERT_MSG(prepared.ok(), prepared.error().to_string());
  Status committed = journal.commit(sealed->root);
  if (committed.ok()) committed = journal.sync_committed();
  QUIRE_ASSERT_MSG(committed.ok(), committed.error().to_string());
  return std::move(sealed).value();
}

inline std::string key_of(uint64_t index) {
  char buffer[32];
  snprintf(buffer, sizeof buffer, "key-%08llu", static_cast<unsigned long long>(index));
  return buffer;
}

// A value of `size` bytes that differs for every index (it starts with the index).
inline std::string value_of(uint64_t index, size_t size) {
  std::string value = std::to_string(index) + ":";
  value.resize(std::max(size, value.size()), 'a');
  for (size_t at = value.find(':') + 1; at < value.size(); at++) {
    value[at] = static_cast<char>('a' + (index * 31 + at * 7) % 26);
  }
  value.resize(size);
  return value;
}

#define ASSERT_OK(expression)                                                     \
  do {                                                                            \
    const auto& quire_test_result = (expression);                                 \
    ASSERT_TRUE(quire_test_result.ok()) << quire_test_result.error().to_string(); \
  } while (false)

#define EXPECT_OK(expression)                                                     \
  do {                                                                            \
    const auto& quire_test_result = (expression);                                 \
    EXPECT_TRUE(quire_test_result.ok()) << quire_test_result.error().to_string(); \
  } while (false)

}  // namespace quire::store::testing
