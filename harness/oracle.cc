#include "harness/oracle.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>

#include <algorithm>
#include <map>
#include <memory>

#include "io/base/text.h"

namespace quire::harness {
namespace {

// An in-memory RocksDB holding key -> (version, value).
class RocksState {
 public:
  RocksState() : env_(rocksdb::NewMemEnv(rocksdb::Env::Default())) {
    rocksdb::Options options;
    options.create_if_missing = true;
    options.env = env_.get();
    rocksdb::DB* db = nullptr;
    const rocksdb::Status status = rocksdb::DB::Open(options, "/oracle", &db);
    QUIRE_ASSERT_MSG(status.ok(), status.ToString());
    db_.reset(db);
  }

  std::optional<store::Value> get(const std::string& key) {
    std::string stored;
    const rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), key, &stored);
    if (status.IsNotFound()) return std::nullopt;
    QUIRE_ASSERT_MSG(status.ok(), status.ToString());
    return decode(stored);
  }

  void put(const std::string& key, const std::string& value, CommitCounter version) {
    Bytes stored;
    ByteWriter writer(stored);
    writer.u64(version.value());
    writer.bytes(as_bytes(value));
    QUIRE_ASSERT(
        db_->Put(rocksdb::WriteOptions(), key,
                 rocksdb::Slice(reinterpret_cast<const char*>(stored.data()), stored.size()))
            .ok());
  }

  void remove(const std::string& key) {
    QUIRE_ASSERT(db_->Delete(rocksdb::WriteOptions(), key).ok());
  }

  std::map<std::string, store::Value> all() {
    std::map<std::string, store::Value> entries;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      entries.emplace(it->key().ToString(), decode(it->value().ToString()));
    }
    return entries;
  }

 private:
  static store::Value decode(const std::string& stored) {
    ByteReader reader(as_bytes(stored));
    const uint64_t version = reader.u64();
    const ByteView value = reader.bytes(reader.remaining());
    return store::Value{Bytes(value.begin(), value.end()), CommitCounter(version)};
  }

  std::unique_ptr<rocksdb::Env> env_;
  std::unique_ptr<rocksdb::DB> db_;
};

bool condition_holds(RocksState& state, const Condition& condition) {
  const std::optional<store::Value> current = state.get(condition.key);
  switch (condition.kind) {
    case Condition::Kind::value_equals:
      return current && as_text(current->bytes) == condition.value;
    case Condition::Kind::version_equals:
      return current && current->version == condition.version;
    case Condition::Kind::absent:
      return !current;
  }
  QUIRE_UNREACHABLE();
}

std::string describe_value(const std::optional<store::Value>& value) {
  if (!value) return "absent";
  return concat(quote_value(std::string(as_text(value->bytes))), "@", value->version);
}

// The journal's whole state at a commit point.
Result<std::map<std::string, store::Value>> journal_state(const store::ReadView& view) {
  std::map<std::string, store::Value> entries;
  QUIRE_TRY_ASSIGN(std::vector<store::Entry> scanned, view.scan({}, {}, 1'000'000));
  for (store::Entry& entry : scanned) {
    entries.emplace(std::string(as_text(entry.key)), std::move(entry.value));
  }
  return entries;
}

bool compared_at(uint64_t counter, uint64_t final_counter) {
  constexpr uint64_t all_below = 400;
  if (final_counter <= all_below || counter + 20 >= final_counter) return true;
  return counter % (final_counter / all_below + 1) == 0;
}

}  // namespace

Findings check_against_oracle(store::Journal& journal, const Observations& observations,
                              const Workload& workload, OracleStats* stats) {
  Findings findings;
  auto report = [&](std::string message) {
    findings.push_back(Finding{"oracle", FindingKind::correctness, std::move(message)});
  };
  auto unreadable = [&](std::string message) {
    findings.push_back(Finding{"oracle", FindingKind::unreadable, std::move(message)});
  };
  bool complete = true;
  RocksState state;
  OracleStats counted;
  std::vector<const PointRead*> reads;
  for (const PointRead& read : workload.point_reads())
    reads.push_back(&read);
  std::sort(reads.begin(), reads.end(), [](const PointRead* left, const PointRead* right) {
    return left->commit_counter != right->commit_counter
               ? left->commit_counter < right->commit_counter
               : left->id < right->id;
  });
  size_t next_read = 0;
  const uint64_t final_counter = journal.commit_counter().value();
  for (uint64_t counter = 0; counter <= final_counter; counter++) {
    auto view = journal.view(CommitCounter(counter));
    if (!view.ok()) {
      unreadable(
          concat("the journal cannot open commit point ", counter, ": ", view.error().to_string()));
      complete = false;
      break;
    }
    if (counter > 0) {
      const store::RootBlock& root = view->root();
      auto sealed = observations.sealed.find({counter, root.write_set_hash});
      if (sealed == observations.sealed.end()) {
        report(concat("write set ", counter, " (", hex64(root.write_set_hash),
                      ") committed, but no leader ever sealed it"));
        break;
      }
      for (const engine::SealedTransaction& sealed_transaction : sealed->second.transactions) {
        const Operation* operation = workload.operation(sealed_transaction.trace_id);
        if (operation == nullptr) {
          report(concat("write set ", counter, " carries transaction ", sealed_transaction.trace_id,
                        " that no client sent"));
          continue;
        }
        bool holds = true;
        for (const Condition& condition : operation->conditions) {
          holds = holds && condition_holds(state, condition);
        }
        if (sealed_transaction.condition_failed && holds) {
          report(concat("the leader refused op ", operation->id, " at ", counter,
                        " but its conditions held: ", describe_body(*operation)));
        } else if (!sealed_transaction.condition_failed && !holds) {
          report(concat("the leader applied op ", operation->id, " at ", counter,
                        " whose condition failed: ", describe_body(*operation)));
        }
        if (sealed_transaction.condition_failed) continue;
        for (const Write& write : operation->writes) {
          if (write.value) {
            state.put(write.key, *write.value, CommitCounter(counter));
          } else {
            state.remove(write.key);
          }
        }
        counted.transactions_applied++;
      }
    }
    counted.commit_points++;
    if (compared_at(counter, final_counter)) {
      counted.commit_points_compared++;
      auto actual = journal_state(*view);
      if (!actual.ok()) {
        unreadable(
            concat("commit point ", counter, " cannot be scanned: ", actual.error().to_string()));
      } else {
        std::map<std::string, store::Value> expected = state.all();
        if (*actual != expected) {
          for (const auto& [key, value] : expected) {
            auto found = actual->find(key);
            if (found == actual->end() || !(found->second == value)) {
              report(concat("at commit point ", counter, " key ", key, " is ",
                            found == actual->end() ? "absent" : describe_value(found->second),
                            " in the journal, ", describe_value(value), " in the oracle"));
              break;
            }
          }
          if (actual->size() != expected.size()) {
            report(concat("at commit point ", counter, " the journal holds ", actual->size(),
                          " keys, the oracle ", expected.size()));
          }
        }
      }
    }
    for (; next_read < reads.size() && reads[next_read]->commit_counter.value() == counter;
         next_read++) {
      const PointRead& read = *reads[next_read];
      counted.point_reads_checked++;
      if (!read.historical && read.commit_counter < read.min_commit_counter) {
        report(concat("op ", read.id, ": n", read.member, " read at ", read.commit_counter,
                      " though asked for at least ", read.min_commit_counter));
      }
      for (const ReadResult& result : read.results) {
        const std::optional<store::Value> expected = state.get(result.key);
        const bool same = expected ? result.value && *result.value == as_text(expected->bytes) &&
                                         result.version == expected->version
                                   : !result.value;
        if (!same) {
          report(concat("op ", read.id, ": n", read.member, " read ", result.key,
                        " at commit point ", counter, " as ",
                        result.value ? quote_value(*result.value) : "absent", ", the oracle has ",
                        describe_value(expected)));
        }
      }
    }
  }
  for (; complete && next_read < reads.size(); next_read++) {
    report(concat("op ", reads[next_read]->id, " read at commit point ",
                  reads[next_read]->commit_counter, ", beyond the last one (", final_counter, ")"));
  }
  if (stats != nullptr) *stats = counted;
  return findings;
}

Findings check_durability(store::Journal& journal, const Observations& observations,
                          const Workload& workload) {
  Findings findings;
  auto report = [&](std::string message) {
    findings.push_back(Finding{"durability", FindingKind::correctness, std::move(message)});
  };
  std::map<uint64_t, uint64_t> hash_by_counter;
  for (const Operation& operation : workload.history()) {
    if (operation.outcome != Outcome::ok || operation.writes.empty() ||
        operation.condition_failed || !operation.commit_counter) {
      continue;
    }
    const CommitCounter counter = *operation.commit_counter;
    if (counter > journal.commit_counter()) {
      report(concat("op ", operation.id, " was acknowledged at commit point ", counter,
                    " but the cluster ends at ", journal.commit_counter()));
      continue;
    }
    auto view = journal.view(counter);
    if (!view.ok()) {
      report(concat("commit point ", counter, " of op ", operation.id, " cannot be opened"));
      continue;
    }
    auto sealed = observations.sealed.find({counter.value(), view->root().write_set_hash});
    const bool carried =
        sealed != observations.sealed.end() &&
        std::any_of(sealed->second.transactions.begin(), sealed->second.transactions.end(),
                    [&](const engine::SealedTransaction& each) {
                      return each.trace_id == operation.id && !each.condition_failed;
                    });
    if (!carried) {
      report(concat(
          "op ", operation.id, " was acknowledged at commit point ", counter,
          " but the write set committed there does not carry it: ", describe_operation(operation)));
    }
  }
  return findings;
}

}  // namespace quire::harness
