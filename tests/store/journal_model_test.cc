// Goal: the journal behaves like a plain ordered key-value store with commit points, whatever the
// sequence of puts, removes, seals, prepares, commits, rollbacks, historical reads, failed syncs
// and crashes (unsynced writes kept, lost or torn); after a crash it holds exactly the last
// durable commit point. And leader, follower and HALog replay stay byte-identical.
// Method: rapidcheck generates operation sequences; RocksDB is the oracle: it applies each
// committed write set as one WriteBatch, and a RocksDB snapshot per commit point answers the
// historical reads. Every read is compared at the step it is made.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <filesystem>
#include <map>

#include "tests/store/store_test_support.h"

namespace quire::store {
namespace {

using testing::committed_prefix_hash;
using testing::key_of;
using testing::SimNodeDisk;
using testing::small_options;
using testing::value_of;

enum class OpKind : uint8_t {
  put,
  remove,
  get,
  get_pending,
  scan,
  seal,
  prepare,
  commit,
  rollback,
  historical_get,
  historical_scan,
  crash,
  reopen,
  fail_sync,
};

struct Op {
  OpKind kind = OpKind::get;
  uint32_t first = 0;
  uint32_t second = 0;
  uint32_t third = 0;
};

std::ostream& operator<<(std::ostream& out, const Op& op) {
  return out << "Op{" << static_cast<int>(op.kind) << ", " << op.first << ", " << op.second << ", "
             << op.third << "}";
}

}  // namespace
}  // namespace quire::store

namespace rc {
template <>
struct Arbitrary<quire::store::Op> {
  static Gen<quire::store::Op> arbitrary() {
    using quire::store::Op;
    using quire::store::OpKind;
    return gen::apply(
        [](OpKind kind, uint32_t first, uint32_t second, uint32_t third) {
          return Op{kind, first, second, third};
        },
        gen::weightedElement<OpKind>({{30, OpKind::put},
                                      {8, OpKind::remove},
                                      {6, OpKind::get},
                                      {6, OpKind::get_pending},
                                      {4, OpKind::scan},
                                      {3, OpKind::seal},
                                      {2, OpKind::prepare},
                                      {8, OpKind::commit},
                                      {1, OpKind::rollback},
                                      {3, OpKind::historical_get},
                                      {2, OpKind::historical_scan},
                                      {2, OpKind::crash},
                                      {1, OpKind::reopen},
                                      {1, OpKind::fail_sync}}),
        gen::inRange<uint32_t>(0, 1000), gen::inRange<uint32_t>(0, 1000),
        gen::inRange<uint32_t>(0, 1000));
  }
};
}  // namespace rc

namespace quire::store {
namespace {

constexpr uint32_t key_space = 80;

std::string model_key(uint32_t draw) {
  return key_of(draw % key_space);
}

// Mostly small values, some out of line, a few over several chunks.
std::string model_value(uint32_t seed, uint32_t size_draw) {
  size_t size = size_draw % 120;
  if (size_draw % 17 == 0) size = 65 + size_draw % 400;
  if (size_draw % 97 == 0) size = 17000 + size_draw * 7;
  return value_of(seed, size);
}

std::string oracle_value(const std::string& value, CommitCounter version) {
  std::string out = value;
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>(version.value() >> shift));
  }
  return out;
}

std::optional<Value> from_oracle(const std::optional<std::string>& stored) {
  if (!stored.has_value()) return std::nullopt;
  uint64_t version = 0;
  const std::string& text = *stored;
  for (size_t index = text.size() - 8; index < text.size(); index++) {
    version = (version << 8) | static_cast<uint8_t>(text[index]);
  }
  return Value{to_bytes(std::string_view(text).substr(0, text.size() - 8)), CommitCounter(version)};
}

class TemporaryDirectory {
 public:
  TemporaryDirectory() {
    static uint64_t sequence = 0;  // Test-only: names for RocksDB's real directories.
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("quire-oracle-" + std::to_string(::getpid()) + "-" + std::to_string(sequence++));
    std::filesystem::remove_all(path_);
  }
  ~TemporaryDirectory() { std::filesystem::remove_all(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// RocksDB holding the committed state, with a snapshot per commit point.
class Oracle {
 public:
  Oracle() {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    const rocksdb::Status status = rocksdb::DB::Open(options, directory_.path(), &db);
    QUIRE_ASSERT_MSG(status.ok(), status.ToString());
    db_.reset(db);
    snapshots_.push_back(db_->GetSnapshot());  // Commit point 0: empty.
  }
  ~Oracle() {
    for (const rocksdb::Snapshot* snapshot : snapshots_)
      db_->ReleaseSnapshot(snapshot);
    db_.reset();
  }

  using Layer = std::map<std::string, std::optional<std::string>>;

  void commit(const Layer& layer) {
    const CommitCounter version(snapshots_.size());
    rocksdb::WriteBatch batch;
    for (const auto& [key, value] : layer) {
      if (value.has_value()) {
        batch.Put(key, oracle_value(*value, version));
      } else {
        batch.Delete(key);
      }
    }
    QUIRE_ASSERT(db_->Write(rocksdb::WriteOptions(), &batch).ok());
    snapshots_.push_back(db_->GetSnapshot());
  }

  CommitCounter commit_counter() const { return CommitCounter(snapshots_.size() - 1); }

  std::optional<Value> get(const std::string& key, CommitCounter at) const {
    rocksdb::ReadOptions read;
    read.snapshot = snapshots_.at(at.value());
    std::string value;
    const rocksdb::Status status = db_->Get(read, key, &value);
    if (status.IsNotFound()) return std::nullopt;
    QUIRE_ASSERT(status.ok());
    return from_oracle(value);
  }

  std::vector<Entry> scan(const std::string& begin, const std::string& end, size_t limit,
                          CommitCounter at) const {
    rocksdb::ReadOptions read;
    read.snapshot = snapshots_.at(at.value());
    std::unique_ptr<rocksdb::Iterator> iterator(db_->NewIterator(read));
    std::vector<Entry> out;
    for (iterator->Seek(begin); iterator->Valid() && out.size() < limit; iterator->Next()) {
      const std::string key = iterator->key().ToString();
      if (!end.empty() && key >= end) break;
      out.push_back(Entry{to_bytes(key), *from_oracle(iterator->value().ToString())});
    }
    return out;
  }

 private:
  TemporaryDirectory directory_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<const rocksdb::Snapshot*> snapshots_;
};

class ModelRun {
 public:
  explicit ModelRun(uint64_t seed) : node_(seed) { reopen(); }

  void apply(const Op& op) {
    switch (op.kind) {
      case OpKind::put: {
        const std::string key = model_key(op.first);
        const std::string value = model_value(op.second, op.third);
        RC_ASSERT(journal_->put(as_bytes(key), as_bytes(value)).ok());
        pending_[key] = value;
        return;
      }
      case OpKind::remove: {
        const std::string key = model_key(op.first);
        RC_ASSERT(journal_->remove(as_bytes(key)).ok());
        pending_[key] = std::nullopt;
        return;
      }
      case OpKind::get:
        return check_get(model_key(op.first), oracle_.commit_counter());
      case OpKind::get_pending:
        return check_get_pending(model_key(op.first));
      case OpKind::scan:
        return check_scan(op, oracle_.commit_counter());
      case OpKind::historical_get:
        return check_get(model_key(op.first), pick_counter(op.third));
      case OpKind::historical_scan:
        return check_scan(op, pick_counter(op.third));
      case OpKind::seal:
        if (!sealed_.has_value()) seal();
        return;
      case OpKind::prepare:
        if (sealed_.has_value()) after(journal_->prepare(*proposed_), false);
        return;
      case OpKind::commit:
        if (!sealed_.has_value() && !seal()) return;
        return commit();
      case OpKind::rollback: {
        // Rollback syncs its truncate: an injected sync failure may hit it, and the reopen then
        // finds whatever the disk holds.
        const Status rolled_back = journal_->rollback();
        if (!rolled_back.ok()) return after(rolled_back, false);
        sealed_.reset();
        pending_.clear();
        return;
      }
      case OpKind::crash:
        return crash(op.first % 3);
      case OpKind::reopen:
        return crash(3);
      case OpKind::fail_sync:
        node_.model().faults.fail_sync_countdown = 1 + op.first % 3;
        return;
    }
  }

  // The invariants after every step: counters agree, the committed state matches.
  void check_state() {
    RC_ASSERT(journal_->commit_counter() == oracle_.commit_counter());
    RC_ASSERT(journal_->root().key_count ==
              oracle_.scan("", "", SIZE_MAX, oracle_.commit_counter()).size());
  }

 private:
  CommitCounter pick_counter(uint32_t draw) const {
    return CommitCounter(draw % (oracle_.commit_counter().value() + 1));
  }

  void check_get(const std::string& key, CommitCounter at) {
    auto view = journal_->view(at);
    RC_ASSERT(view.ok());
    auto got = view->get(as_bytes(key));
    RC_ASSERT(got.ok());
    RC_ASSERT(*got == oracle_.get(key, at));
  }

  void check_get_pending(const std::string& key) {
    const uint64_t committed = oracle_.commit_counter().value();
    std::optional<Value> expected = oracle_.get(key, oracle_.commit_counter());
    if (sealed_.has_value()) {
      if (auto found = sealed_->find(key); found != sealed_->end()) {
        expected = found->second.has_value()
                       ? std::optional<Value>(
                             Value{to_bytes(*found->second), CommitCounter(committed + 1)})
                       : std::nullopt;
      }
    }
    if (auto found = pending_.find(key); found != pending_.end()) {
      const uint64_t version = committed + (sealed_.has_value() ? 2 : 1);
      expected = found->second.has_value()
                     ? std::optional<Value>(Value{to_bytes(*found->second), CommitCounter(version)})
                     : std::nullopt;
    }
    auto got = journal_->get_pending(as_bytes(key));
    RC_ASSERT(got.ok());
    RC_ASSERT(*got == expected);
  }

  void check_scan(const Op& op, CommitCounter at) {
    std::string begin = model_key(op.first);
    std::string end = op.second % 5 == 0 ? std::string() : model_key(op.second);
    if (op.first % 7 == 0) begin.clear();
    const size_t limit = 1 + op.third % 30;
    auto view = journal_->view(at);
    RC_ASSERT(view.ok());
    auto got = view->scan(as_bytes(begin), as_bytes(end), limit);
    RC_ASSERT(got.ok());
    RC_ASSERT(*got == oracle_.scan(begin, end, limit, at));
  }

  bool seal() {
    auto sealed =
        journal_->seal(term_, 1000 + static_cast<int64_t>(oracle_.commit_counter().value()));
    if (!sealed.ok()) {
      // Only the sync of a growth of the journal's preallocated room can fail a seal here; the
      // pending layer is kept, and the restart loses it (as any crash loses the pending layer).
      after(Status(sealed.error()), false);
      return false;
    }
    RC_ASSERT(sealed->commit_counter == oracle_.commit_counter().next());
    sealed_ = std::move(pending_);
    pending_.clear();
    proposed_ = sealed->root;
    sealed_blocks_ = sealed->blocks;
    return true;
  }

  void commit() {
    // With the root synced, as the driver does within two ticks: the oracle holds durable commit
    // points. The unsynced window is CrashAtEveryStep's (recovery_test.cc).
    Status committed = journal_->commit(*proposed_);
    if (committed.ok()) committed = journal_->sync_committed();
    if (committed.ok()) {
      oracle_.commit(*sealed_);
      sealed_.reset();
      return;
    }
    // The commit may or may not have reached the disk: the reopen decides.
    after(committed, true);
  }

  // An operation that may fail only through an injected sync failure; then the node restarts.
  void after(const Status& status, bool commit_attempted) {
    if (status.ok()) return;
    RC_ASSERT(status.code() == ErrorCode::io_error);
    RC_ASSERT(journal_->failed());
    if (commit_attempted) indeterminate_ = sealed_;
    crash(2);
  }

  void crash(uint32_t fate) {
    journal_.reset();
    node_.model().faults.fail_sync_countdown = 0;
    switch (fate) {
      case 0:
        node_.crash(sim::CrashFates{1.0, 0.0, 0.0});
        break;
      case 1:
        node_.crash(sim::CrashFates{0.0, 1.0, 0.0});
        break;
      case 2:
        node_.crash(sim::CrashFates{1.0, 1.0, 1.0});
        break;
      default:
        break;  // A clean close: nothing is lost, but nothing uncommitted is kept either.
    }
    reopen();
  }

  void reopen() {
    auto opened = node_.open();
    RC_ASSERT(opened.ok());
    journal_ = std::move(opened).value();
    const CommitCounter expected = oracle_.commit_counter();
    if (indeterminate_.has_value() && journal_->commit_counter() == expected.next()) {
      oracle_.commit(*indeterminate_);
    }
    RC_ASSERT(journal_->commit_counter() == oracle_.commit_counter());
    // A write set found whole again is the one sealed before the crash; commit it every other
    // time (a re-proposal), roll it back otherwise.
    if (journal_->uncommitted_counter().has_value()) {
      RC_ASSERT(*journal_->uncommitted_counter() == oracle_.commit_counter().next());
      const std::optional<Oracle::Layer> layer =
          indeterminate_.has_value() ? indeterminate_ : sealed_;
      RC_ASSERT(layer.has_value());
      auto blocks = journal_->uncommitted_blocks();
      RC_ASSERT(blocks.ok());
      RC_ASSERT(*blocks == sealed_blocks_);
      if (reopen_count_++ % 2 == 0) {
        RC_ASSERT(journal_->commit(*proposed_).ok());
        RC_ASSERT(journal_->sync_committed().ok());
        oracle_.commit(*layer);
      } else {
        RC_ASSERT(journal_->rollback().ok());
      }
    }
    indeterminate_.reset();
    sealed_.reset();
    pending_.clear();
  }

  SimNodeDisk node_;
  std::unique_ptr<Journal> journal_;
  Oracle oracle_;
  Oracle::Layer pending_;
  std::optional<Oracle::Layer> sealed_;
  std::optional<RootBlock> proposed_;
  std::optional<Oracle::Layer> indeterminate_;
  std::vector<Bytes> sealed_blocks_;
  uint64_t reopen_count_ = 0;
  Term term_{1};
};

RC_GTEST_PROP(JournalModel, MatchesRocksDBThroughCrashes,
              (uint64_t seed, const std::vector<Op>& ops)) {
  ModelRun run(seed);
  for (const Op& op : ops) {
    run.apply(op);
    run.check_state();
  }
}

// Leader, follower (lay_down + commit) and a member that resyncs by HALog replay, through random
// write sets and terms: committed prefixes and HALogs identical at every commit point.
RC_GTEST_PROP(JournalModel, LeaderFollowerAndReplayStayByteIdentical,
              (uint64_t seed, const std::vector<std::vector<Op>>& write_sets)) {
  SimNodeDisk leader_node(seed);
  SimNodeDisk follower_node(seed + 1);
  SimNodeDisk replay_node(seed + 2);
  auto leader = std::move(leader_node.open()).value();
  auto follower = std::move(follower_node.open()).value();
  auto replayer = std::move(replay_node.open()).value();
  uint64_t term = 1;
  for (const std::vector<Op>& ops : write_sets) {
    for (const Op& op : ops) {
      if (op.kind == OpKind::remove) {
        RC_ASSERT(leader->remove(as_bytes(model_key(op.first))).ok());
      } else {
        RC_ASSERT(
            leader->put(as_bytes(model_key(op.first)), as_bytes(model_value(op.second, op.third)))
                .ok());
      }
    }
    if (!ops.empty() && ops.front().first % 4 == 0) term++;
    auto sealed = leader->seal(Term(term), static_cast<int64_t>(term));
    RC_ASSERT(sealed.ok());
    for (const Bytes& block : sealed->blocks)
      RC_ASSERT(follower->lay_down(block).ok());
    RC_ASSERT(follower->prepare(sealed->root).ok());
    RC_ASSERT(leader->commit(sealed->root).ok());
    RC_ASSERT(follower->commit(sealed->root).ok());
    auto bytes = leader->read_halog(leader->commit_counter());
    RC_ASSERT(bytes.ok());
    auto halog = HALogReader::parse(std::move(bytes).value());
    RC_ASSERT(halog.ok());
    RC_ASSERT(replayer->replay(*halog).ok());
    const uint64_t hash = committed_prefix_hash(*leader);
    RC_ASSERT(committed_prefix_hash(*follower) == hash);
    RC_ASSERT(committed_prefix_hash(*replayer) == hash);
    const std::string path = leader->halog_path(leader->commit_counter());
    RC_ASSERT(leader_node.current_bytes(path) == follower_node.current_bytes(path));
    RC_ASSERT(leader_node.current_bytes(path) == replay_node.current_bytes(path));
  }
  // Byte-identical but for the prepared slots: each member's own votes (the follower prepared).
  const auto replicated = [](Bytes bytes) {
    std::fill(bytes.begin() + format::prepared_slots_begin_offset,
              bytes.begin() + format::data_region_begin_offset, 0);
    return bytes;
  };
  const Bytes leader_bytes = replicated(leader_node.current_bytes("journal"));
  RC_ASSERT(leader_bytes == replicated(follower_node.current_bytes("journal")));
  RC_ASSERT(leader_bytes == replicated(replay_node.current_bytes("journal")));
}

}  // namespace
}  // namespace quire::store
