#include "harness/snapshot_check.h"

#include <algorithm>
#include <map>
#include <vector>

#include "io/base/text.h"
#include "sim/sim_disk.h"
#include "store/restore.h"
#include "store/snapshot.h"

namespace quire::harness {
namespace {

Result<std::vector<store::Entry>> everything(store::Journal& journal, CommitCounter counter) {
  QUIRE_TRY_ASSIGN(store::ReadView view, journal.view(counter));
  return view.scan({}, {}, 1'000'000);
}

}  // namespace

Findings check_snapshot_roll_forward(store::Journal& journal,
                                     const store::JournalOptions& options) {
  Findings findings;
  auto report = [&](std::string message) {
    findings.push_back(Finding{"snapshot", FindingKind::correctness, std::move(message)});
  };
  const uint64_t final_counter = journal.commit_counter().value();
  if (final_counter < 2) return findings;
  auto counters = journal.halog_counters();
  if (!counters.ok()) return findings;
  // The HALogs must run unbroken from just after the snapshot to the end.
  uint64_t first = final_counter;
  for (auto it = counters->rbegin(); it != counters->rend(); ++it) {
    if (it->value() > final_counter) continue;
    if (it->value() != first) break;
    first--;
  }
  // Without that chain (the leader purges HALogs once every member has committed them, so an
  // ordinary run ends with none) the snapshot is taken at the final commit point and restored
  // there without rolling forward: the snapshot itself is still checked.
  const uint64_t snapshot_at = std::max(first, final_counter > 20 ? final_counter - 20 : 0);
  QUIRE_ASSERT(snapshot_at <= final_counter);
  auto snapshot = store::write_snapshot(journal, CommitCounter(snapshot_at));
  if (!snapshot.ok()) {
    report(concat("cannot write a snapshot at ", snapshot_at, ": ", snapshot.error().to_string()));
    return findings;
  }
  std::vector<uint64_t> targets = {snapshot_at, (snapshot_at + final_counter) / 2, final_counter};
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
  for (const uint64_t target : targets) {
    sim::DiskImage image;
    sim::DiskModel model;
    Rng rng(target);
    sim::SimDisk disk(image, model, rng, nullptr);
    store::JournalOptions restored_options = options;
    restored_options.directory = "";
    auto restored = store::restore(store::RestoreSource{&journal.disk(), options.directory},
                                   CommitCounter(target), disk, restored_options);
    if (!restored.ok()) {
      report(concat("restore to ", target, " from the snapshot at ", snapshot_at,
                    " failed: ", restored.error().to_string()));
      continue;
    }
    auto opened = store::Journal::open(disk, restored_options);
    if (!opened.ok()) {
      report(concat("the journal restored to ", target, " does not open"));
      continue;
    }
    auto expected = everything(journal, CommitCounter(target));
    auto actual = everything(**opened, CommitCounter(target));
    if (!expected.ok() || !actual.ok() || *expected != *actual) {
      report(concat("snapshot at ", snapshot_at, " rolled forward to ", target,
                    " differs from the live journal there"));
    }
  }
  return findings;
}

}  // namespace quire::harness
