// SimDisk: io::Disk over a DiskImage, with the simulator's latency and per-operation faults.
// One per node process; the image it serves outlives it. Without a runtime (store tests that
// need only crash semantics) operations complete at once and are not traced.
#pragma once

#include <memory>
#include <string>

#include "io/base/rng.h"
#include "io/disk.h"
#include "io/runtime.h"
#include "sim/disk_image.h"

namespace quire::sim {

struct DiskLatency {
  Duration read_min = Duration::microseconds(20);
  Duration read_max = Duration::microseconds(200);
  Duration write_min = Duration::microseconds(20);
  Duration write_max = Duration::microseconds(200);
  Duration sync_min = Duration::microseconds(100);
  Duration sync_max = Duration::milliseconds(2);
  // A slow tail: with this probability an operation takes up to `slow_max` instead.
  double slow_probability = 0.0;
  Duration slow_max = Duration::milliseconds(50);

  static DiskLatency zero() {
    return DiskLatency{Duration(), Duration(), Duration(), Duration(),
                       Duration(), Duration(), 0.0,        Duration()};
  }
};

// Faults that strike while an operation runs. Faults at rest (rot, latent sector errors) and at a
// crash live in DiskImage.
struct DiskFaults {
  // The write lands 1..8 sectors away from where it was aimed; the aimed place keeps old bytes.
  double misdirected_write_probability = 0.0;
  // The sync fails with io_error, and each unsynced change is kept or dropped at random while
  // reads still see it (the Linux writeback-error semantics).
  double sync_failure_probability = 0.0;
  // Counted down by sync(); when it is 1 that sync fails. 0: off. (Scheduled faults.)
  uint32_t fail_sync_countdown = 0;
};

// Per-node disk behaviour; owned by the world, so it survives restarts of the node.
struct DiskModel {
  DiskLatency latency;
  DiskFaults faults;
};

class SimDisk : public io::Disk {
 public:
  // REQUIRES: image, model and rng outlive the disk and every file it opens. `runtime` may be
  // null (no latency, no trace).
  SimDisk(DiskImage& image, DiskModel& model, Rng& rng, io::Runtime* runtime);

  Result<std::unique_ptr<io::File>> open(std::string_view path, io::OpenMode mode) override;
  Status rename(std::string_view source, std::string_view target) override;
  Status unlink(std::string_view path) override;
  Result<std::vector<std::string>> list(std::string_view directory) override;
  Result<bool> exists(std::string_view path) override;
  Status make_directory(std::string_view directory) override;

  DiskImage& image() { return image_; }
  DiskModel& model() { return model_; }
  Rng& rng() { return rng_; }
  void delay(Duration minimum, Duration maximum);
  void trace(std::string_view event);

 private:
  Status check_path(std::string_view path) const;
  bool directory_exists(std::string_view directory) const;

  DiskImage& image_;
  DiskModel& model_;
  Rng& rng_;
  io::Runtime* runtime_;
};

}  // namespace quire::sim
