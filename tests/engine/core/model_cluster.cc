#include "tests/engine/core/model_cluster.h"

#include <algorithm>

#include "io/base/text.h"

namespace quire::engine::core::model {
namespace {

template <class... Handlers>
struct Overloaded : Handlers... {
  using Handlers::operator()...;
};
template <class... Handlers>
Overloaded(Handlers...) -> Overloaded<Handlers...>;

// A model block: the write-set hash and the sequence, so a block laid down at the wrong place
// is caught.
SharedBytes model_block(uint64_t hash, uint32_t sequence) {
  Bytes bytes;
  ByteWriter writer(bytes);
  writer.u64(hash);
  writer.u32(sequence);
  return std::make_shared<const Bytes>(std::move(bytes));
}

}  // namespace

ModelCluster::ModelCluster(size_t member_count, uint64_t seed, ReplicaConfig base)
    : cut_(member_count, false),
      base_(base),
      rng_(split_seed(seed, "model")),
      durability_rng_(split_seed(seed, "durability")) {
  QUIRE_ASSERT(member_count >= 1);
  base_.members.clear();
  for (size_t index = 0; index < member_count; index++) {
    base_.members.push_back(NodeId(static_cast<uint32_t>(index + 1)));
  }
  base_.seed = seed;
  members_.resize(member_count);
  for (size_t index = 0; index < member_count; index++) {
    ModelMember& member = members_[index];
    member.id = base_.members[index];
    member.disk.committed = store::initial_root_block();
    member.disk.history[0] = member.disk.committed;
    restart(index);
  }
}

size_t ModelCluster::index_of(NodeId id) const {
  for (size_t index = 0; index < members_.size(); index++) {
    if (members_[index].id == id) return index;
  }
  QUIRE_UNREACHABLE();
}

store::RootBlock ModelCluster::make_root(CommitCounter counter, Term term, uint64_t hash,
                                         uint32_t blocks) const {
  store::RootBlock root = store::initial_root_block();
  root.commit_counter = counter;
  root.term = term;
  root.write_set_hash = hash;
  root.write_set_block_count = blocks;
  root.write_set_begin_offset = counter.value() * 1000;
  root.end_offset = counter.value() * 1000 + blocks;
  return root;
}

RecoveredState ModelCluster::recover(ModelDisk& disk) const {
  RecoveredState recovered;
  recovered.term = disk.term;
  recovered.voted_for = disk.voted_for;
  recovered.committed = disk.committed;
  recovered.journal_lost = disk.journal_lost;
  const bool prepared_and_held =
      disk.prepared && disk.held && disk.held->synced &&
      disk.prepared->commit_counter == disk.committed.commit_counter.next() &&
      disk.held->counter == disk.prepared->commit_counter &&
      disk.held->write_set_hash == disk.prepared->write_set_hash &&
      disk.held->blocks.size() == disk.prepared->write_set_block_count;
  if (prepared_and_held) {
    recovered.prepared = disk.prepared;
  } else {
    disk.held.reset();  // Recovery rolls back what was not prepared.
  }
  return recovered;
}

void ModelCluster::restart(size_t index) {
  ModelMember& member = members_.at(index % members_.size());
  if (member.replica) return;
  ReplicaConfig config = base_;
  config.self = member.id;
  config.seed = split_seed(base_.seed, "replica", member.id.value() * 1000 + member.restarts);
  member.restarts++;
  member.replica = std::make_unique<Replica>(config, recover(member.disk));
}

void ModelCluster::restart_with_journal_lost(size_t index) {
  ModelDisk& disk = members_.at(index % members_.size()).disk;
  QUIRE_ASSERT(!members_.at(index % members_.size()).replica);
  disk.committed = store::initial_root_block();
  disk.history.clear();
  disk.history[0] = disk.committed;
  disk.held.reset();
  disk.prepared.reset();  // A new journal: its prepared slots are empty.
  disk.unsynced_commit.reset();
  disk.journal_lost = true;
  restart(index);
}

void ModelCluster::crash(size_t index) {
  ModelMember& member = members_.at(index % members_.size());
  if (!member.replica) return;
  stats_.crashes++;
  member.replica.reset();
  member.unexecuted.clear();  // Effects the dead process never got to.
  member.completions.clear();
  member.async_results.clear();
  ModelDisk& disk = member.disk;
  if (disk.held && !disk.held->synced) disk.held.reset();
  if (disk.unsynced_commit && durability_rng_.one_in(2)) {
    // The root block never reached the disk: the journal is one commit point back, with that
    // write set held again (it was synced before its root was written).
    disk.history.erase(disk.committed.commit_counter.value());
    disk.committed = disk.unsynced_commit->previous;
    disk.held = disk.unsynced_commit->write_set;
    stats_.commits_lost_at_crash++;
  }
  disk.unsynced_commit.reset();
}

void ModelCluster::crash_leader() {
  if (const std::optional<size_t> leading = leader()) crash(*leading);
}

void ModelCluster::set_cut(size_t index, bool cut) {
  cut_.at(index % members_.size()) = cut;
}

void ModelCluster::step(size_t index, const Input& input) {
  ModelMember& member = members_.at(index);
  QUIRE_ASSERT(member.replica != nullptr);
  execute_pending(index, SIZE_MAX);
  // The driver feeds every completion of earlier effects before anything new (replica_driver.h).
  const bool external =
      !std::holds_alternative<WriteSetSealed>(input) &&
      !std::holds_alternative<SealSkipped>(input) && !std::holds_alternative<PrepareDone>(input) &&
      !std::holds_alternative<CommitDone>(input) && !std::holds_alternative<LayDownFailed>(input) &&
      !std::holds_alternative<ReplayFailed>(input);
  while (external && member.replica && !member.completions.empty()) {
    const Input completion = std::move(member.completions.front());
    member.completions.pop_front();
    step(index, completion);
  }
  if (!member.replica) return;
  Step step = member.replica->step(input);
  for (Effect& effect : step.effects)
    member.unexecuted.push_back(std::move(effect));
  // Usually the driver runs them all at once; sometimes it is caught in the middle, so that a
  // crash can strike between two effects of one step.
  const size_t limit = rng_.one_in(4) ? rng_.uniform(member.unexecuted.size() + 1) : SIZE_MAX;
  execute_pending(index, limit);
  check_safety();
}

void ModelCluster::execute_pending(size_t index, size_t limit) {
  ModelMember& member = members_.at(index);
  for (size_t count = 0; count < limit && !member.unexecuted.empty(); count++) {
    const Effect effect = std::move(member.unexecuted.front());
    member.unexecuted.pop_front();
    execute(index, effect);
  }
}

void ModelCluster::note_commit(size_t index, const store::RootBlock& root) {
  ModelDisk& disk = members_[index].disk;
  QUIRE_ASSERT(root.commit_counter == disk.committed.commit_counter.next());
  disk.committed = root;
  disk.history[root.commit_counter.value()] = root;
  disk.held.reset();
  stats_.commits++;
  auto [found, inserted] =
      committed_hash_by_counter_.emplace(root.commit_counter.value(), root.write_set_hash);
  QUIRE_ASSERT_MSG(found->second == root.write_set_hash,
                   concat("two write sets committed at counter ", root.commit_counter));
}

void ModelCluster::execute(size_t index, const Effect& effect) {
  ModelMember& member = members_[index];
  ModelDisk& disk = member.disk;
  std::visit(
      Overloaded{
          [&](const Send& send) { network_.push_back(send.envelope); },
          [&](const PersistQuorumState& persist) {
            disk.term = persist.term;
            disk.voted_for = persist.voted_for;
          },
          [&](const SealWriteSet& seal) {
            const uint64_t hash = rng_.next_u64();
            const auto blocks = static_cast<uint32_t>(rng_.between(1, 3));
            const CommitCounter counter = disk.committed.commit_counter.next();
            QUIRE_ASSERT(!disk.held);
            ModelDisk::Held held{counter, hash, {}, false};
            for (uint32_t sequence = 0; sequence < blocks; sequence++) {
              held.blocks.push_back(model_block(hash, sequence));
            }
            disk.held = held;
            member.completions.push_back(
                WriteSetSealed{make_root(counter, seal.term, hash, blocks), held.blocks});
          },
          [&](const ReproposeWriteSet& repropose) {
            QUIRE_ASSERT(disk.held &&
                         disk.held->write_set_hash == repropose.prepared.write_set_hash);
            store::RootBlock root = repropose.prepared;
            root.term = repropose.term;
            stats_.reproposals++;
            member.completions.push_back(WriteSetSealed{root, disk.held->blocks});
          },
          [&](const LayDownBlock& lay_down) {
            ByteReader reader(*lay_down.bytes);
            const uint64_t hash = reader.u64();
            const uint32_t sequence = reader.u32();
            QUIRE_ASSERT(sequence == lay_down.sequence);
            if (!disk.held) disk.held = ModelDisk::Held{lay_down.counter, hash, {}, false};
            QUIRE_ASSERT(disk.held->counter == lay_down.counter);
            QUIRE_ASSERT(disk.held->write_set_hash == hash);
            QUIRE_ASSERT(disk.held->blocks.size() == sequence);
            disk.held->blocks.push_back(lay_down.bytes);
            disk.held->synced = false;
          },
          [&](const PrepareWriteSet& prepare) {
            const store::RootBlock& root = prepare.root;
            const bool ok = disk.held && disk.held->counter == root.commit_counter &&
                            disk.held->write_set_hash == root.write_set_hash &&
                            disk.held->blocks.size() == root.write_set_block_count;
            if (ok) {
              // One sync: the blocks, the vote, and the last commit's root block.
              disk.held->synced = true;
              disk.prepared = root;
              disk.unsynced_commit.reset();
            }
            member.completions.push_back(PrepareDone{root, ok});
          },
          [&](const CommitWriteSet& commit) {
            QUIRE_ASSERT(disk.held && disk.held->write_set_hash == commit.root.write_set_hash);
            QUIRE_ASSERT(disk.held->blocks.size() == commit.root.write_set_block_count);
            ModelDisk::Held write_set = *disk.held;
            write_set.synced = true;  // commit() syncs an unprepared write set first.
            const store::RootBlock previous = disk.committed;
            note_commit(index, commit.root);
            disk.unsynced_commit = ModelDisk::UnsyncedCommit{previous, write_set};
            member.completions.push_back(CommitDone{commit.root});
          },
          [&](const RollBack& rollback) {
            QUIRE_ASSERT(!disk.held || disk.held->counter == rollback.counter);
            disk.held.reset();
            disk.unsynced_commit.reset();  // The truncate is synced.
          },
          [&](const FetchHALog& fetch) {
            stats_.resync_fetches++;
            const ModelMember& peer = members_[index_of(fetch.peer)];
            const size_t peer_index = index_of(fetch.peer);
            if (!peer.replica || cut_[peer_index] || cut_[index]) {
              member.async_results.push_back(
                  HALogFetchFailed{fetch.peer, fetch.counter, FetchFailure::unreachable});
            } else if (fetch.counter > peer.disk.committed.commit_counter) {
              member.async_results.push_back(
                  HALogFetchFailed{fetch.peer, fetch.counter, FetchFailure::not_yet});
            } else if (fetch.counter <= peer.disk.purged_through) {
              member.async_results.push_back(
                  HALogFetchFailed{fetch.peer, fetch.counter, FetchFailure::missing});
            } else {
              const store::RootBlock& root = peer.disk.history.at(fetch.counter.value());
              member.async_results.push_back(HALogFetched{fetch.peer, root, nullptr});
            }
          },
          [&](const ReplayHALog& replay) {
            if (replay.halog == nullptr && rng_.one_in(50)) {
              // Now and then a fetched HALog does not replay (corrupt in the model).
              member.completions.push_back(ReplayFailed{replay.peer, replay.root.commit_counter});
              return;
            }
            QUIRE_ASSERT(!disk.held);
            disk.unsynced_commit.reset();  // The replay syncs its blocks (the model: its root too).
            note_commit(index, replay.root);
            member.completions.push_back(CommitDone{replay.root});
          },
          [&](const Rebuild& rebuild) {
            stats_.rebuilds++;
            const size_t peer_index = index_of(rebuild.peer);
            const ModelMember& peer = members_[peer_index];
            if (!peer.replica || cut_[peer_index] || cut_[index] ||
                peer.disk.committed.commit_counter < disk.committed.commit_counter) {
              member.async_results.push_back(RebuildFailed{rebuild.peer});
              return;
            }
            QUIRE_ASSERT(!disk.held);
            for (uint64_t counter = disk.committed.commit_counter.value() + 1;
                 counter <= peer.disk.committed.commit_counter.value(); counter++) {
              note_commit(index, peer.disk.history.at(counter));
            }
            disk.history = peer.disk.history;
            disk.prepared.reset();  // The installed journal's prepared slots are empty.
            disk.unsynced_commit.reset();
            disk.journal_lost = false;  // The driver removes the marker before RebuildDone.
            member.async_results.push_back(RebuildDone{rebuild.peer, peer.disk.committed});
          },
          [&](const PurgeHALogs& purge) {
            disk.purged_through = std::max(disk.purged_through, purge.through);
          },
          [&](const AcknowledgeWriteSet& acknowledge) {
            stats_.acknowledged++;
            const store::RootBlock& root = disk.history.at(acknowledge.counter.value());
            acknowledged_hash_by_counter_[acknowledge.counter.value()] = root.write_set_hash;
            QUIRE_ASSERT(committed_hash_by_counter_.at(acknowledge.counter.value()) ==
                         root.write_set_hash);
          },
          [&](const AbandonWriteSets&) {},
          [&](const ConfirmReads&) {},
          [&](const RefuseReads&) {},
      },
      effect);
}

void ModelCluster::tick(size_t index) {
  index %= members_.size();
  if (!members_[index].replica) return;
  // The driver syncs a root block left unsynced for two ticks.
  if (durability_rng_.one_in(2)) members_[index].disk.unsynced_commit.reset();
  step(index, Tick{});
}

void ModelCluster::tick_all() {
  for (size_t index = 0; index < members_.size(); index++)
    tick(index);
}

void ModelCluster::deliver(size_t index) {
  if (network_.empty()) return;
  index %= network_.size();
  const Envelope envelope = network_[index];
  network_.erase(network_.begin() + static_cast<std::ptrdiff_t>(index));
  const size_t target = index_of(envelope.to);
  if (!members_[target].replica || cut_[target] || cut_[index_of(envelope.from)]) return;
  stats_.messages_delivered++;
  const Role before = members_[target].replica->state().role;
  step(target, Received{envelope});
  if (before != Role::leader && members_[target].replica &&
      members_[target].replica->state().role == Role::leader) {
    stats_.elections_won++;
  }
}

void ModelCluster::drop(size_t index) {
  if (network_.empty()) return;
  network_.erase(network_.begin() + static_cast<std::ptrdiff_t>(index % network_.size()));
}

void ModelCluster::duplicate(size_t index) {
  if (network_.empty()) return;
  network_.push_back(network_[index % network_.size()]);
}

void ModelCluster::complete(size_t index) {
  ModelMember& member = members_.at(index % members_.size());
  if (!member.replica) return;
  execute_pending(index % members_.size(), SIZE_MAX);
  if (member.completions.empty()) return;
  const Input input = std::move(member.completions.front());
  member.completions.pop_front();
  const Role before = member.replica->state().role;
  step(index % members_.size(), input);
  if (before != Role::leader && member.replica->state().role == Role::leader)
    stats_.elections_won++;
}

void ModelCluster::complete_async(size_t index) {
  ModelMember& member = members_.at(index % members_.size());
  if (!member.replica || member.async_results.empty()) return;
  const Input input = std::move(member.async_results.front());
  member.async_results.pop_front();
  step(index % members_.size(), input);
}

void ModelCluster::submit(size_t index) {
  ModelMember& member = members_.at(index % members_.size());
  if (!member.replica || !member.replica->state().is_leader()) return;
  step(index % members_.size(), PendingWork{});
}

void ModelCluster::report_damage(size_t index) {
  index %= members_.size();
  if (!members_[index].replica) return;
  step(index, DataDamaged{});
}

std::optional<size_t> ModelCluster::leader() const {
  std::optional<size_t> best;
  for (size_t index = 0; index < members_.size(); index++) {
    const auto& replica = members_[index].replica;
    if (!replica || !replica->state().is_leader()) continue;
    if (!best || replica->state().term > members_[*best].replica->state().term) best = index;
  }
  return best;
}

void ModelCluster::check_safety() {
  for (const ModelMember& member : members_) {
    if (!member.replica) continue;
    member.replica->check_invariants();
    const ReplicaState& state = member.replica->state();
    if (!state.is_leader()) continue;
    auto [found, inserted] = leader_by_term_.emplace(state.term.value(), member.id);
    QUIRE_ASSERT_MSG(found->second == member.id, concat("two leaders in term ", state.term, ": ",
                                                        found->second, " and ", member.id));
  }
}

void ModelCluster::settle(size_t rounds, bool submit_work) {
  for (size_t round = 0; round < rounds; round++) {
    for (size_t index = 0; index < members_.size(); index++) {
      while (members_[index].replica && !members_[index].completions.empty())
        complete(index);
      while (members_[index].replica && !members_[index].async_results.empty()) {
        complete_async(index);
      }
    }
    // Each tick makes a bounded number of messages; an endless exchange is a livelock.
    for (size_t delivered = 0; !network_.empty(); delivered++) {
      QUIRE_ASSERT_MSG(delivered < 100'000,
                       concat("message storm: ", network_.size(), " in flight"));
      deliver(0);
    }
    tick_all();
    if (submit_work && round % 7 == 0) {
      if (const auto leading = leader()) submit(*leading);
    }
  }
}

std::string ModelCluster::describe() const {
  std::string text;
  for (const ModelMember& member : members_) {
    text += concat("member ", member.id, ": ");
    if (!member.replica) {
      text += "down";
    } else {
      const ReplicaStatus status = member.replica->status();
      const ReplicaState& state = member.replica->state();
      text +=
          concat(role_name(status.role), " term ", status.term, " leader ", status.leader,
                 " committed ", status.committed, status.catching_up ? " catching-up" : "",
                 status.rebuilding ? " rebuilding" : "", " [now ", state.now, " leader_committed ",
                 state.leader_committed, state.preparing ? " preparing" : "",
                 state.committing ? " committing" : "", state.held ? " held" : "",
                 state.resync.active ? concat(" resync peer ", state.resync.peer,
                                              state.resync.fetching ? " fetching " : " idle ",
                                              state.resync.fetching_counter, " missing ",
                                              state.resync.peers_missing.size(), " progress ",
                                              state.resync.last_progress)
                                     : std::string(),
                 state.damaged ? " damaged" : "", state.history_lost ? " history-lost" : "",
                 " purged ", member.disk.purged_through, "]");
    }
    text += concat(" disk committed ", member.disk.committed.commit_counter, "\n");
  }
  return text;
}

}  // namespace quire::engine::core::model
