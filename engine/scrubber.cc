#include "engine/scrubber.h"

#include "engine/bulk.h"
#include "io/base/planted_bug.h"
#include "io/base/text.h"
#include "store/write_cache_block.h"

namespace quire::engine {

Scrubber::Scrubber(io::Runtime& runtime, const NodeConfig& config, store::Journal& journal,
                   ReplicaDriver& driver, Transport& transport)
    : runtime_(runtime),
      config_(config),
      journal_(journal),
      driver_(driver),
      journal_mutex_(driver.journal_mutex()),
      transport_(transport),
      stopping_(runtime) {}

void Scrubber::stop() {
  stopping_.set();
}

void Scrubber::rest(Duration length) {
  (void)stopping_.wait(runtime_.now() + std::max(length, Duration::nanoseconds(1)));
}

void Scrubber::pace(uint64_t bytes) {
  // Fast enough to finish a pass in the target time, never faster than the cap, never slower
  // than a floor that keeps small journals from crawling.
  constexpr uint64_t rate_floor = 256u << 10;
  const uint64_t committed = journal_.root().end_offset;
  const auto target_ms =
      static_cast<uint64_t>(std::max<int64_t>(config_.scrub_pass_target.ms(), 1));
  const uint64_t wanted = committed * 1000 / target_ms;
  const uint64_t rate = std::min(config_.scrub_bytes_per_second, std::max(wanted, rate_floor));
  QUIRE_ASSERT(rate > 0);
  rest(Duration::nanoseconds(static_cast<int64_t>(bytes * 1'000'000'000 / rate)));
}

void Scrubber::run() {
  const auto stopping = [this] { return stopping_.is_set(); };
  if (config_.scrub_bytes_per_second == 0) return;
  while (!stopping()) {
    stats_.last_pass_started = runtime_.now();
    const uint64_t end = journal_.root().end_offset;
    uint64_t offset = store::format::data_region_begin_offset;
    uint64_t unpaced = 0;
    bool whole = true;
    while (!stopping() && offset < end) {
      // A rebuild replaces the journal: its committed region starts over, so does the pass.
      if (journal_.root().end_offset < end) {
        whole = false;
        break;
      }
      auto length = check_block(offset, end);
      if (!length.ok()) {
        runtime_.trace(concat("scrub stops at ", offset, ": ", length.error().to_string()));
        whole = false;
        break;
      }
      offset += *length;
      unpaced += *length;
      // Sleep in batches: a sleep per small block would cost a fiber switch per block.
      if (unpaced >= (256u << 10)) {
        pace(unpaced);
        unpaced = 0;
      }
    }
    if (whole && !stopping()) {
      stats_.passes_completed++;
      stats_.last_pass_completed = runtime_.now();
      stats_.last_complete_pass_started = stats_.last_pass_started;
    }
    // A breath between passes, a tenth of a pass: an idle node does not scrub in a loop.
    rest(std::min(config_.scrub_pass_target / 10, Duration::seconds(10)));
  }
}

std::optional<uint64_t> Scrubber::verifies_here(uint64_t offset, uint64_t end) {
  const uint64_t header_size = store::format::write_cache_block_header_size_bytes;
  auto header_bytes = journal_.read_raw(offset, header_size);
  if (!header_bytes.ok()) return std::nullopt;
  auto header = store::peek_write_cache_block_header(*header_bytes);
  if (!header.ok() || header->file_offset != offset || offset + header->length > end) {
    return std::nullopt;
  }
  auto block = journal_.read_raw(offset, header->length);
  if (!block.ok()) return std::nullopt;
  // Planted bug: a block whose header parses counts as verified; rot stays unmended.
  if (!planted(PlantedBug::scrub_trusts_header) && !store::verify_write_cache_block(*block).ok()) {
    return std::nullopt;
  }
  return header->length;
}

Result<uint64_t> Scrubber::check_block(uint64_t offset, uint64_t end) {
  const uint64_t installs = journal_.installs_finished();
  if (const std::optional<uint64_t> length = verifies_here(offset, end)) {
    stats_.blocks_verified++;
    return *length;
  }
  return repair_block(offset, installs);
}

Result<Bytes> Scrubber::fetch_block_from(NodeId member, uint64_t offset, Instant deadline) {
  const uint64_t header_size = store::format::write_cache_block_header_size_bytes;
  QUIRE_TRY_ASSIGN(
      const Bytes header_bytes,
      fetch_record_from(transport_, runtime_, member,
                        store::Address{offset, static_cast<uint32_t>(header_size)}, deadline));
  auto header = store::peek_write_cache_block_header(header_bytes);
  if (!header.ok() || header->file_offset != offset) {
    return Error(ErrorCode::corruption, concat("n", member, " has no block at ", offset));
  }
  QUIRE_TRY_ASSIGN(Bytes block,
                   fetch_record_from(transport_, runtime_, member, header->address(), deadline));
  QUIRE_TRY(store::verify_write_cache_block(block));
  return block;
}

bool Scrubber::span_goes_on(uint64_t end) {
  // A latent sector error is mended only by a write of the whole sector, and blocks do not end on
  // sector bounds: while the sector the span ends in cannot be read here, the span takes the next
  // block too, so that the repair can write whole sectors (Journal::repair).
  constexpr uint64_t sector = io::disk_sector_size_bytes;
  const uint64_t committed = journal_.root().end_offset;
  const uint64_t sector_end = std::min((end + sector - 1) / sector * sector, committed);
  if (end < sector_end && !journal_.read_raw(end, sector_end - end).ok()) return true;
  // A misdirected write or a run of bad sectors spoils many blocks in a row: mend them in one
  // fetch and one write instead of a round trip each.
  return !verifies_here(end, committed).has_value();
}

Result<Bytes> Scrubber::fetch_span_from(NodeId member, uint64_t offset, Instant deadline) {
  constexpr uint64_t span_bytes_max = 1u << 20;
  // The usual case, one bad block: that block alone, exactly sized.
  QUIRE_TRY_ASSIGN(Bytes span, fetch_block_from(member, offset, deadline));
  const uint64_t committed = journal_.root().end_offset;
  uint64_t end = offset + span.size();
  // Appends a block that checks; whether the run goes on past it.
  auto take = [&](ByteView block) {
    span.insert(span.end(), block.begin(), block.end());
    end += block.size();
    return end < committed && span_goes_on(end);
  };
  if (end >= committed || !span_goes_on(end)) return span;
  // A run: the rest of it as one byte range, taken block by block while each checks there and
  // is needed here.
  const auto length = static_cast<uint32_t>(std::min(span_bytes_max, committed - end));
  auto raw = fetch_record_from(transport_, runtime_, member, store::Address{end, length}, deadline);
  if (raw.ok()) {
    ByteView rest = *raw;
    while (!rest.empty()) {
      auto header = store::peek_write_cache_block_header(rest);
      if (!header.ok() || header->file_offset != end || header->length > rest.size()) break;
      const ByteView block = rest.first(header->length);
      if (!store::verify_write_cache_block(block).ok() || !take(block)) break;
      rest = rest.subspan(block.size());
    }
    return span;
  }
  // The member cannot read all of that range (a bad sector of its own): block by block.
  while (span.size() < span_bytes_max) {
    auto next = fetch_block_from(member, end, deadline);
    if (!next.ok() || !take(*next)) break;
  }
  return span;
}

Result<uint64_t> Scrubber::repair_block(uint64_t offset, uint64_t installs_before_read) {
  runtime_.trace(concat("scrub finds a bad block at ", offset));
  stats_.blocks_failed++;
  if (journal_.installing()) {
    // A rebuild is replacing this journal: its bytes will be checked as they arrive.
    return Error(ErrorCode::unavailable, "a rebuild is being installed");
  }
  for (const MemberAddress& member : config_.members) {
    if (member.id == config_.self) continue;
    auto span = fetch_span_from(member.id, offset, runtime_.now() + config_.fetch_timeout);
    if (!span.ok()) continue;
    io::MutexLock lock(journal_mutex_);
    if (journal_.installing()) continue;
    const Status repaired = journal_.repair(offset, *span);
    if (!repaired.ok()) {
      runtime_.trace(concat("scrub cannot repair at ", offset, ": ", repaired.error().message()));
      continue;
    }
    stats_.blocks_repaired++;
    runtime_.trace(
        concat("scrub repaired ", span->size(), " bytes at ", offset, " from ", member.id));
    if (config_.observer != nullptr) config_.observer->on_mark(config_.self, "scrub_repair");
    return static_cast<uint64_t>(span->size());
  }
  if (journal_.installs_finished() != installs_before_read) {
    // A rebuild replaced the journal since the read: the next pass checks the new bytes.
    return Error(ErrorCode::unavailable, "the journal was rebuilt during the repair");
  }
  stats_.blocks_unrepairable++;
  driver_.post(core::DataDamaged{offset});  // The member leaves the quorum and rebuilds.
  return Error(ErrorCode::checksum_mismatch,
               concat("the block at ", offset, " is bad here and no member has a good copy"));
}

}  // namespace quire::engine
