#include "harness/convergence.h"

#include "io/base/checksum.h"
#include "io/base/text.h"

namespace quire::harness {
namespace {

// XXH3 of the committed data region, read in chunks to bound memory.
Result<uint64_t> data_region_hash(store::Journal& journal) {
  constexpr uint64_t chunk_bytes = 4u << 20;
  Checksummer checksummer;
  const uint64_t end = journal.root().end_offset;
  for (uint64_t offset = store::format::data_region_begin_offset; offset < end;) {
    const uint64_t length = std::min(chunk_bytes, end - offset);
    QUIRE_TRY_ASSIGN(Bytes bytes, journal.read_raw(offset, length));
    checksummer.update(bytes);
    offset += length;
  }
  return checksummer.digest();
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
    auto hash = data_region_hash(journal);
    if (!hash.ok()) {
      report(concat("n", member, " cannot read its committed bytes: ", hash.error().to_string()));
      continue;
    }
    if (!reference) {
      reference = member;
      reference_hash = *hash;
      continue;
    }
    store::Journal& first = journals.at(*reference)->journal();
    if (journal.commit_counter() != first.commit_counter()) {
      report(concat("n", member, " ends at commit point ", journal.commit_counter(), ", n",
                    *reference, " at ", first.commit_counter()));
    } else if (*hash != reference_hash || journal.root().end_offset != first.root().end_offset) {
      report(concat("n", member, " and n", *reference, " hold different bytes at commit point ",
                    journal.commit_counter()));
    } else if (!journal.root().same_write_set(first.root())) {
      report(concat("n", member, " and n", *reference, " differ in root block ",
                    journal.commit_counter()));
    }
  }
  return findings;
}

}  // namespace quire::harness
