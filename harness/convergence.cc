#include "harness/convergence.h"

#include "io/base/text.h"
#include "store/committed_digest.h"

namespace quire::harness {
namespace {

// The first offset where two journals' committed bytes differ, and whether each side's block
// there still verifies (rot that the scrubber missed, or bytes that were never the same).
std::string first_difference(store::Journal& left, store::Journal& right) {
  constexpr uint64_t chunk_bytes = 1u << 20;
  const uint64_t end = std::min(left.root().end_offset, right.root().end_offset);
  for (uint64_t offset = store::format::data_region_begin_offset; offset < end;) {
    const uint64_t length = std::min(chunk_bytes, end - offset);
    auto left_bytes = left.read_raw(offset, length);
    auto right_bytes = right.read_raw(offset, length);
    if (!left_bytes.ok() || !right_bytes.ok()) return concat("unreadable near ", offset);
    for (uint64_t index = 0; index < length; index++) {
      if ((*left_bytes)[index] != (*right_bytes)[index]) {
        return concat("first differing byte at ", offset + index);
      }
    }
    offset += length;
  }
  return "no differing byte below the shorter end";
}

}  // namespace

Findings check_convergence(std::map<NodeId, std::unique_ptr<JournalCopy>>& journals) {
  Findings findings;
  auto report = [&](std::string message) {
    findings.push_back(Finding{"convergence", FindingKind::correctness, std::move(message)});
  };
  std::optional<NodeId> reference;
  uint64_t reference_hash = 0;
  for (auto& [member, copy] : journals) {
    store::Journal& journal = copy->journal();
    auto digest = store::digest_committed_bytes(journal);
    if (!digest.ok()) {
      report(concat("n", member, " cannot read its committed bytes: ", digest.error().to_string()));
      continue;
    }
    const uint64_t hash = digest->bytes_hash;
    if (!reference) {
      reference = member;
      reference_hash = hash;
      continue;
    }
    store::Journal& first = journals.at(*reference)->journal();
    if (journal.commit_counter() != first.commit_counter()) {
      report(concat("n", member, " ends at commit point ", journal.commit_counter(), ", n",
                    *reference, " at ", first.commit_counter()));
    } else if (hash != reference_hash || journal.root().end_offset != first.root().end_offset) {
      report(concat("n", member, " and n", *reference, " hold different bytes at commit point ",
                    journal.commit_counter(), ": ", first_difference(journal, first)));
    } else if (!journal.root().same_write_set(first.root())) {
      report(concat("n", member, " and n", *reference, " differ in root block ",
                    journal.commit_counter()));
    }
  }
  return findings;
}

}  // namespace quire::harness
