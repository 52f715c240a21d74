// The journal next to RocksDB, in one run on the real file system (issue 3's benchmark):
//   1. commit throughput with a sync per commit, for batches of 1, 100 and 10,000 puts of
//      256 B and 4 KiB values (quire: seal + prepare + commit, one sync of the journal;
//      RocksDB: a WriteBatch written with sync=true), both stores open at once and measured in
//      alternating slices, and the bytes each wrote per byte of user data;
//   2. on a large data set (--data-mb, 1 GiB by default) of 1 KiB values: point-get latency and
//      range-scan throughput, with equal caches (quire's node cache, RocksDB's block cache).
// Prints one markdown table per part with quire/RocksDB ratios.
//
// Run: build/bench/bench_store [--dir=/tmp/quire-bench] [--data-mb=1024] [--seconds=3]
//                              [--gets=200000] [--scans=20000] [--node-size=B] [--inline-max=B]
//                              [--reads-only | --commits-only] [--batch=1|100|10000]
//                              [--rocksdb-compact]
// The directory is created and emptied; everything in it is deleted at the end.
#include <rocksdb/db.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <rocksdb/version.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "io/real/real_runtime.h"
#include "store/journal.h"

namespace quire {
namespace {

using Clock = std::chrono::steady_clock;

struct Settings {
  std::string directory = "/tmp/quire-bench";
  uint64_t data_bytes = 1024ull << 20;
  double seconds = 3.0;
  uint64_t gets = 200000;
  uint64_t scans = 20000;
  uint64_t cache_bytes = 64ull << 20;
  // quire's tree shape (JournalOptions); 0 keeps the default.
  uint32_t node_size_bytes = 0;
  uint32_t value_inline_bytes_max = 0;
  bool commits = true;           // Part 1.
  bool reads = true;             // Part 2.
  uint64_t batch = 0;            // Part 1: only this batch size (puts per commit); 0 for all.
  bool rocksdb_compact = false;  // Compact RocksDB fully after the load, before the reads.
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

uint64_t mix(uint64_t value) {
  value += 0x9e3779b97f4a7c15ull;
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ull;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebull;
  return value ^ (value >> 31);
}

// 16-byte keys in a random order: the hex of a mix of the index.
std::string key_for(uint64_t index) {
  char buffer[17];
  snprintf(buffer, sizeof buffer, "%016" PRIx64, mix(index));
  return std::string(buffer, 16);
}

std::string value_for(uint64_t index, size_t size) {
  std::string value(size, 'v');
  uint64_t state = mix(index ^ 0x5555);
  for (size_t at = 0; at < size; at += 8) {
    state = mix(state);
    std::memcpy(value.data() + at, &state, std::min<size_t>(8, size - at));
  }
  return value;
}

uint64_t directory_bytes(const std::filesystem::path& path) {
  uint64_t total = 0;
  if (!std::filesystem::exists(path)) return 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
    if (entry.is_regular_file()) total += entry.file_size();
  }
  return total;
}

// The bytes a quire store under `root` has written: its files, with the journal counted up to
// its committed end twice, not to its size. Preallocation (docs/format.md, "Journal file") writes
// zeros ahead of the data and the blocks overwrite them: each data byte is written twice, and
// the zeros not used yet are no cost of the data so far.
uint64_t quire_bytes(const std::filesystem::path& root, const store::Journal& journal) {
  const std::filesystem::path path = root / store::format::journal_file_name;
  const uint64_t size = std::filesystem::exists(path) ? std::filesystem::file_size(path) : 0;
  const uint64_t data = journal.root().end_offset;
  const uint64_t written = journal.options().allocation_step_bytes == 0 ? data : 2 * data;
  return directory_bytes(root) - size + written;
}

void check(const Status& status, const char* what) {
  QUIRE_ASSERT_MSG(status.ok(), std::string(what) + ": " + status.error().to_string());
}

void check(const rocksdb::Status& status, const char* what) {
  QUIRE_ASSERT_MSG(status.ok(), std::string(what) + ": " + status.ToString());
}

// ---- quire ----

store::JournalOptions quire_options(const std::string& directory, const Settings& settings) {
  store::JournalOptions options;
  options.directory = directory;
  options.node_cache_bytes_max = settings.cache_bytes;
  if (settings.node_size_bytes > 0) options.node_size_bytes_max = settings.node_size_bytes;
  if (settings.value_inline_bytes_max > 0) {
    options.value_inline_bytes_max = settings.value_inline_bytes_max;
  }
  return options;
}

struct CommitResult {
  uint64_t commits = 0;
  double seconds = 0;
  uint64_t user_bytes = 0;
  uint64_t disk_bytes = 0;   // Bytes written to files.
  uint64_t halog_bytes = 0;  // Of which HALogs (quire only).
  // Time in each step of a quire commit: seal (tree update, unsynced writes), prepare (the
  // journal's first sync), commit (HALog closing root, root slot, the second sync).
  double seal_seconds = 0;
  double prepare_seconds = 0;
  double commit_seconds = 0;
};

void quire_commit(store::Journal& journal, uint64_t first_key, uint64_t batch, size_t value_size,
                  CommitResult& result) {
  for (uint64_t index = first_key; index < first_key + batch; index++) {
    const std::string key = key_for(index);
    const std::string value = value_for(index, value_size);
    check(journal.put(as_bytes(key), as_bytes(value)), "put");
    result.user_bytes += key.size() + value.size();
  }
  const Clock::time_point start = Clock::now();
  auto sealed = journal.seal(Term(1), 0);
  QUIRE_ASSERT_MSG(sealed.ok(), sealed.error().to_string());
  result.seal_seconds += seconds_since(start);
  const Clock::time_point sealed_at = Clock::now();
  check(journal.prepare(sealed->root), "prepare");
  result.prepare_seconds += seconds_since(sealed_at);
  const Clock::time_point prepared_at = Clock::now();
  check(journal.commit(sealed->root), "commit");
  result.commit_seconds += seconds_since(prepared_at);
}

// Commits for about `seconds` more, adding to `result` (at least 3 commits per call).
void quire_commits(store::Journal& journal, double seconds, uint64_t batch, size_t value_size,
                   CommitResult& result) {
  const Clock::time_point start = Clock::now();
  for (uint64_t count = 0; seconds_since(start) < seconds || count < 3; count++) {
    quire_commit(journal, result.commits * batch, batch, value_size, result);
    result.commits++;
  }
  result.seconds += seconds_since(start);
}

// ---- RocksDB ----

struct Rocks {
  std::unique_ptr<rocksdb::DB> db;
  std::shared_ptr<rocksdb::Statistics> statistics;
};

Rocks open_rocks(const std::string& path, uint64_t cache_bytes) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.statistics = rocksdb::CreateDBStatistics();
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(cache_bytes);
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* db = nullptr;
  check(rocksdb::DB::Open(options, path, &db), "rocksdb open");
  return Rocks{std::unique_ptr<rocksdb::DB>(db), options.statistics};
}

uint64_t rocks_bytes_written(const Rocks& rocks) {
  return rocks.statistics->getTickerCount(rocksdb::WAL_FILE_BYTES) +
         rocks.statistics->getTickerCount(rocksdb::FLUSH_WRITE_BYTES) +
         rocks.statistics->getTickerCount(rocksdb::COMPACT_WRITE_BYTES);
}

void rocks_commit(rocksdb::DB& db, uint64_t first_key, uint64_t batch, size_t value_size,
                  uint64_t& user_bytes) {
  rocksdb::WriteBatch write_batch;
  for (uint64_t index = first_key; index < first_key + batch; index++) {
    const std::string key = key_for(index);
    const std::string value = value_for(index, value_size);
    write_batch.Put(key, value);
    user_bytes += key.size() + value.size();
  }
  rocksdb::WriteOptions options;
  options.sync = true;
  check(db.Write(options, &write_batch), "rocksdb write");
}

// Commits for about `seconds` more, adding to `result` (at least 3 commits per call).
void rocks_commits(rocksdb::DB& db, double seconds, uint64_t batch, size_t value_size,
                   CommitResult& result) {
  const Clock::time_point start = Clock::now();
  for (uint64_t count = 0; seconds_since(start) < seconds || count < 3; count++) {
    rocks_commit(db, result.commits * batch, batch, value_size, result.user_bytes);
    result.commits++;
  }
  result.seconds += seconds_since(start);
}

// ---- Reads on a large data set ----

struct ReadResult {
  double load_seconds = 0;
  uint64_t keys = 0;
  uint64_t user_bytes = 0;
  uint64_t disk_bytes = 0;
  std::vector<double> get_ns;
  double scan_seconds = 0;
  uint64_t scanned_entries = 0;
  uint64_t scanned_bytes = 0;
};

constexpr size_t read_value_size = 1024;
constexpr uint64_t load_batch = 10000;
constexpr size_t scan_length = 100;

// One store's side of the read measurements; rounds alternate between the two stores so that
// both see the same background (other work on the machine, page-cache reclaim).
struct ReadTarget {
  std::function<void(const std::string& key)> get;
  std::function<void(const std::string& begin, uint64_t& entries, uint64_t& bytes)> scan;
};

void measure_round(const Settings& settings, uint64_t rounds, uint64_t seed, ReadTarget& target,
                   ReadResult& result) {
  uint64_t state = seed;
  for (uint64_t probe = 0; probe < settings.gets / rounds; probe++) {
    state = mix(state);
    const std::string key = key_for(state % result.keys);
    const Clock::time_point start = Clock::now();
    target.get(key);
    result.get_ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count());
  }
  const Clock::time_point start = Clock::now();
  for (uint64_t probe = 0; probe < settings.scans / rounds; probe++) {
    state = mix(state);
    target.scan(key_for(state % result.keys), result.scanned_entries, result.scanned_bytes);
  }
  result.scan_seconds += seconds_since(start);
}

void load_quire(io::Disk& disk, const Settings& settings, const std::string& name,
                ReadResult& result) {
  result.keys = settings.data_bytes / read_value_size;
  uint64_t halog_bytes = 0;
  auto opened = store::Journal::open(disk, quire_options(name, settings));
  QUIRE_ASSERT(opened.ok());
  const Clock::time_point start = Clock::now();
  CommitResult commits;
  for (uint64_t first = 0; first < result.keys; first += load_batch) {
    quire_commit(**opened, first, std::min(load_batch, result.keys - first), read_value_size,
                 commits);
    // The engine's retention rule would purge HALogs every member holds, now and then; keep the
    // disk small, but count what they cost.
    const std::string halog = (*opened)->halog_path((*opened)->commit_counter());
    halog_bytes += std::filesystem::file_size(std::filesystem::path(settings.directory) / name /
                                              halog.substr(name.size() + 1));
    if ((*opened)->commit_counter().value() % 64 == 0) {
      check((*opened)->purge_halogs_through((*opened)->commit_counter()), "purge");
    }
  }
  check((*opened)->purge_halogs_through((*opened)->commit_counter()), "purge");
  result.user_bytes += commits.user_bytes;
  result.load_seconds = seconds_since(start);
  result.disk_bytes =
      quire_bytes(std::filesystem::path(settings.directory) / name, **opened) + halog_bytes;
}

void load_rocks(const Settings& settings, const std::string& path, ReadResult& result) {
  result.keys = settings.data_bytes / read_value_size;
  Rocks rocks = open_rocks(path, settings.cache_bytes);
  const Clock::time_point start = Clock::now();
  for (uint64_t first = 0; first < result.keys; first += load_batch) {
    rocks_commit(*rocks.db, first, std::min(load_batch, result.keys - first), read_value_size,
                 result.user_bytes);
  }
  result.load_seconds = seconds_since(start);
  if (settings.rocksdb_compact) {
    check(rocks.db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr), "compact");
  }
  result.disk_bytes = rocks_bytes_written(rocks);
}

void measure_reads(io::Disk& disk, const Settings& settings, ReadResult& quire, ReadResult& rocks) {
  const std::string quire_name = "quire-reads";
  const std::string rocks_path =
      (std::filesystem::path(settings.directory) / "rocksdb-reads").string();
  load_quire(disk, settings, quire_name, quire);
  load_rocks(settings, rocks_path, rocks);
  // Reopen both: empty caches, as after a restart.
  auto opened = store::Journal::open(disk, quire_options(quire_name, settings));
  QUIRE_ASSERT(opened.ok());
  store::Journal& journal = **opened;
  ReadTarget quire_target{[&journal](const std::string& key) {
                            auto value = journal.get(as_bytes(key));
                            QUIRE_ASSERT(value.ok() && value->has_value());
                          },
                          [&journal](const std::string& begin, uint64_t& entries, uint64_t& bytes) {
                            auto found = journal.scan(as_bytes(begin), {}, scan_length);
                            QUIRE_ASSERT(found.ok());
                            entries += found->size();
                            for (const store::Entry& entry : *found) {
                              bytes += entry.key.size() + entry.value.bytes.size();
                            }
                          }};
  Rocks opened_rocks = open_rocks(rocks_path, settings.cache_bytes);
  rocksdb::DB& db = *opened_rocks.db;
  ReadTarget rocks_target{
      [&db](const std::string& key) {
        std::string value;
        check(db.Get(rocksdb::ReadOptions(), key, &value), "rocksdb get");
      },
      [&db](const std::string& begin, uint64_t& entries, uint64_t& bytes) {
        std::unique_ptr<rocksdb::Iterator> iterator(db.NewIterator(rocksdb::ReadOptions()));
        size_t count = 0;
        for (iterator->Seek(begin); iterator->Valid() && count < scan_length; iterator->Next()) {
          bytes += iterator->key().size() + iterator->value().size();
          count++;
        }
        entries += count;
      }};
  constexpr uint64_t rounds = 10;
  for (uint64_t round = 0; round < rounds; round++) {
    measure_round(settings, rounds, 42 + round, quire_target, quire);
    measure_round(settings, rounds, 42 + round, rocks_target, rocks);
  }
}

double percentile(std::vector<double> values, double fraction) {
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(fraction * values.size()))];
}

double mean(const std::vector<double>& values) {
  double total = 0;
  for (const double value : values)
    total += value;
  return total / static_cast<double>(values.size());
}

// ---- Driver ----

// Part 1 alternates between the two stores this many times per cell.
constexpr int commit_slice_count = 6;

void run_commits(io::Disk& disk, const Settings& settings) {
  printf(
      "## Commit throughput, one sync per commit (%.1f s per cell and store, in %d "
      "alternating slices)\n\n",
      settings.seconds, commit_slice_count);
  printf(
      "| puts/commit | value | quire commits/s | RocksDB commits/s | ratio | quire puts/s | "
      "RocksDB puts/s | quire bytes/user byte (HALog share) | RocksDB bytes/user byte | quire "
      "ms per commit: seal / prepare / commit | RocksDB ms per commit |\n");
  printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const size_t value_size : {size_t{256}, size_t{4096}}) {
    for (const uint64_t batch : {uint64_t{1}, uint64_t{100}, uint64_t{10000}}) {
      if (settings.batch != 0 && batch != settings.batch) continue;
      const std::string suffix = std::to_string(batch) + "-" + std::to_string(value_size);
      // Both stores open side by side, measured in alternating slices, so that both see the same
      // background load on a shared machine.
      auto opened = store::Journal::open(disk, quire_options("quire-" + suffix, settings));
      QUIRE_ASSERT_MSG(opened.ok(), opened.error().to_string());
      const std::filesystem::path quire_root =
          std::filesystem::path(settings.directory) / ("quire-" + suffix);
      const uint64_t quire_bytes_before = quire_bytes(quire_root, **opened);
      Rocks rocks_db =
          open_rocks((std::filesystem::path(settings.directory) / ("rocksdb-" + suffix)).string(),
                     settings.cache_bytes);
      CommitResult quire;
      CommitResult rocks;
      const double slice_seconds = settings.seconds / commit_slice_count;
      for (int slice = 0; slice < commit_slice_count; slice++) {
        quire_commits(**opened, slice_seconds, batch, value_size, quire);
        rocks_commits(*rocks_db.db, slice_seconds, batch, value_size, rocks);
      }
      // Nothing is overwritten in place but the root and prepared slots, HALog closing roots and
      // the preallocated zeros (quire_bytes): growth is what was written, plus 128 bytes of root
      // block per commit.
      quire.disk_bytes = quire_bytes(quire_root, **opened) - quire_bytes_before +
                         quire.commits * store::format::root_block_size_bytes;
      quire.halog_bytes = directory_bytes(quire_root / "halog");
      rocks.disk_bytes = rocks_bytes_written(rocks_db);
      opened->reset();
      rocks_db.db.reset();
      const double quire_rate = static_cast<double>(quire.commits) / quire.seconds;
      const double rocks_rate = static_cast<double>(rocks.commits) / rocks.seconds;
      const double quire_commits_count = static_cast<double>(quire.commits);
      printf(
          "| %" PRIu64
          " | %zu B | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f (%.2f) | %.2f | %.2f / %.2f / %.2f "
          "| %.2f |\n",
          batch, value_size, quire_rate, rocks_rate, quire_rate / rocks_rate,
          quire_rate * static_cast<double>(batch), rocks_rate * static_cast<double>(batch),
          static_cast<double>(quire.disk_bytes) / static_cast<double>(quire.user_bytes),
          static_cast<double>(quire.halog_bytes) / static_cast<double>(quire.user_bytes),
          static_cast<double>(rocks.disk_bytes) / static_cast<double>(rocks.user_bytes),
          quire.seal_seconds * 1e3 / quire_commits_count,
          quire.prepare_seconds * 1e3 / quire_commits_count,
          quire.commit_seconds * 1e3 / quire_commits_count, 1e3 / rocks_rate);
      fflush(stdout);
      std::filesystem::remove_all(std::filesystem::path(settings.directory) / ("quire-" + suffix));
      std::filesystem::remove_all(std::filesystem::path(settings.directory) /
                                  ("rocksdb-" + suffix));
    }
  }
}

void run_reads(io::Disk& disk, const Settings& settings) {
  printf("\n## Reads on %" PRIu64 " MiB of 1 KiB values (16 B keys, caches %" PRIu64
         " MiB each, OS page cache warm%s)\n\n",
         settings.data_bytes >> 20, settings.cache_bytes >> 20,
         settings.rocksdb_compact ? ", RocksDB compacted after the load" : "");
  ReadResult quire;
  ReadResult rocks;
  measure_reads(disk, settings, quire, rocks);
  printf("| measure | quire | RocksDB | quire/RocksDB |\n|---|---|---|---|\n");
  printf("| load (batches of %" PRIu64 ", sync each), s | %.1f | %.1f | %.2f |\n", load_batch,
         quire.load_seconds, rocks.load_seconds, quire.load_seconds / rocks.load_seconds);
  printf(
      "| bytes written / user byte during load (quire: journal + HALogs) | %.2f | %.2f | %.2f |\n",
      static_cast<double>(quire.disk_bytes) / static_cast<double>(quire.user_bytes),
      static_cast<double>(rocks.disk_bytes) / static_cast<double>(rocks.user_bytes),
      (static_cast<double>(quire.disk_bytes) / static_cast<double>(quire.user_bytes)) /
          (static_cast<double>(rocks.disk_bytes) / static_cast<double>(rocks.user_bytes)));
  for (const auto& [label, fraction] :
       std::vector<std::pair<const char*, double>>{{"p50", 0.5}, {"p99", 0.99}}) {
    const double quire_ns = percentile(quire.get_ns, fraction);
    const double rocks_ns = percentile(rocks.get_ns, fraction);
    printf("| point get %s, µs | %.1f | %.1f | %.2f |\n", label, quire_ns / 1000, rocks_ns / 1000,
           quire_ns / rocks_ns);
  }
  printf("| point get mean, µs | %.1f | %.1f | %.2f |\n", mean(quire.get_ns) / 1000,
         mean(rocks.get_ns) / 1000, mean(quire.get_ns) / mean(rocks.get_ns));
  const double quire_scan = static_cast<double>(quire.scanned_entries) / quire.scan_seconds;
  const double rocks_scan = static_cast<double>(rocks.scanned_entries) / rocks.scan_seconds;
  printf("| range scan (%zu entries from a random key), entries/s | %.0f | %.0f | %.2f |\n",
         scan_length, quire_scan, rocks_scan, quire_scan / rocks_scan);
  printf("| range scan, MB/s | %.1f | %.1f | %.2f |\n",
         static_cast<double>(quire.scanned_bytes) / quire.scan_seconds / 1e6,
         static_cast<double>(rocks.scanned_bytes) / rocks.scan_seconds / 1e6,
         (static_cast<double>(quire.scanned_bytes) / quire.scan_seconds) /
             (static_cast<double>(rocks.scanned_bytes) / rocks.scan_seconds));
}

void run(io::Disk& disk, const Settings& settings) {
  if (settings.commits) run_commits(disk, settings);
  if (settings.reads) run_reads(disk, settings);
}

bool parse_flag(const char* argument, const char* name, std::string& value) {
  const size_t length = std::strlen(name);
  if (std::strncmp(argument, name, length) != 0 || argument[length] != '=') return false;
  value = argument + length + 1;
  return true;
}

}  // namespace
}  // namespace quire

int main(int argc, char** argv) {
  using namespace quire;
  Settings settings;
  for (int index = 1; index < argc; index++) {
    std::string value;
    if (parse_flag(argv[index], "--dir", value)) {
      settings.directory = value;
    } else if (parse_flag(argv[index], "--data-mb", value)) {
      settings.data_bytes = std::stoull(value) << 20;
    } else if (parse_flag(argv[index], "--seconds", value)) {
      settings.seconds = std::stod(value);
    } else if (parse_flag(argv[index], "--gets", value)) {
      settings.gets = std::stoull(value);
    } else if (parse_flag(argv[index], "--scans", value)) {
      settings.scans = std::stoull(value);
    } else if (std::strcmp(argv[index], "--reads-only") == 0) {
      settings.commits = false;
    } else if (std::strcmp(argv[index], "--commits-only") == 0) {
      settings.reads = false;
    } else if (parse_flag(argv[index], "--batch", value)) {
      settings.batch = std::stoull(value);
    } else if (std::strcmp(argv[index], "--rocksdb-compact") == 0) {
      settings.rocksdb_compact = true;
    } else if (parse_flag(argv[index], "--node-size", value)) {
      settings.node_size_bytes = static_cast<uint32_t>(std::stoul(value));
    } else if (parse_flag(argv[index], "--inline-max", value)) {
      settings.value_inline_bytes_max = static_cast<uint32_t>(std::stoul(value));
    } else {
      fprintf(stderr, "unknown argument %s\n", argv[index]);
      return 2;
    }
  }
  std::filesystem::remove_all(settings.directory);
  std::filesystem::create_directories(settings.directory);
  io::real::RealRuntimeOptions options;
  options.name = "bench_store";
  options.data_directory = settings.directory;
  options.rng_seed = 1;
  options.fiber_stack_size_bytes = 8 << 20;  // RocksDB runs on the main fiber too.
  auto runtime = io::real::RealRuntime::create(options);
  QUIRE_ASSERT_MSG(runtime.ok(), runtime.error().to_string());
  const store::JournalOptions shape = quire_options("", settings);
  printf(
      "# bench_store: quire journal vs RocksDB %d.%d, disk backend %s, directory %s, quire "
      "node size %u B, values inline up to %u B\n\n",
      ROCKSDB_MAJOR, ROCKSDB_MINOR, (*runtime)->disk_backend_name(), settings.directory.c_str(),
      shape.node_size_bytes_max, shape.value_inline_bytes_max);
  const int status = (*runtime)->run_main([&] { run((*runtime)->disk(), settings); });
  runtime->reset();
  std::filesystem::remove_all(settings.directory);
  return status;
}
