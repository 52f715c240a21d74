// JournalCopy: a member's journal opened on a deep copy of its simulated disk, outside the
// simulation. The copy's disk completes every call at once (no fibers, no latency), so checkers
// read it from the test thread after the run, and nothing they do can touch the member's disk.
#pragma once

#include <memory>

#include "io/base/result.h"
#include "sim/disk_image.h"
#include "sim/sim_disk.h"
#include "store/journal.h"

namespace quire::harness {

class JournalCopy {
 public:
  // Copies what `image` shows to reads (the member's page cache, `current`).
  static Result<std::unique_ptr<JournalCopy>> open(const sim::DiskImage& image,
                                                   const store::JournalOptions& options);
  store::Journal& journal() { return *journal_; }
  sim::SimDisk& disk() { return disk_; }

 private:
  explicit JournalCopy(const sim::DiskImage& image);

  sim::DiskImage image_;
  sim::DiskModel model_;
  Rng rng_{0};
  sim::SimDisk disk_;
  std::unique_ptr<store::Journal> journal_;
};

}  // namespace quire::harness
