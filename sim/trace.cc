#include "sim/trace.h"

#include <algorithm>

#include "io/base/checksum.h"
#include "io/base/text.h"

namespace quire::sim {

std::string format_time(Instant time) {
  const int64_t ns = time.ns();
  std::string fraction = std::to_string(ns % 1'000'000'000);
  fraction.insert(0, 9 - fraction.size(), '0');
  return concat(ns / 1'000'000'000, ".", fraction);
}

void Trace::fold(uint64_t event_hash) {
  uint8_t pair[16];
  store_le<uint64_t>(pair, hash_);
  store_le<uint64_t>(pair + 8, event_hash);
  hash_ = checksum64(ByteView(pair, sizeof pair));
  if (options_.keep_hashes) hashes_.push_back(hash_);
  event_count_++;
}

void Trace::emit(Instant time, std::string_view node, std::string_view fiber,
                 std::string_view event) {
  std::string line =
      concat(event_count_, " ", format_time(time), " ", node, " ", fiber, ": ", event);
  if (options_.sink != nullptr) {
    std::fwrite(line.data(), 1, line.size(), options_.sink);
    std::fputc('\n', options_.sink);
  }
  if (event_count_ >= options_.lines_begin && event_count_ < options_.lines_end) {
    lines_.push_back(std::move(line));
  }
}

uint64_t Trace::node_hash(std::string_view node) {
  for (const auto& [name, hash] : node_hashes_) {
    if (name == node) return hash;
  }
  node_hashes_.emplace_back(std::string(node), checksum64(as_bytes(node)));
  return node_hashes_.back().second;
}

void Trace::record(Instant time, std::string_view node, std::string_view fiber,
                   std::string_view event) {
  if (wants_line()) emit(time, node, fiber, event);
  Checksummer& checksummer = checksummer_;
  checksummer.reset();
  checksummer.update_u64(static_cast<uint64_t>(time.ns()));
  checksummer.update(as_bytes(node));
  checksummer.update_u64(0);
  checksummer.update(as_bytes(fiber));
  checksummer.update_u64(1);
  checksummer.update(as_bytes(event));
  fold(checksummer.digest());
}

void Trace::record_switch(Instant time, std::string_view node, uint64_t fiber_id,
                          std::string_view fiber) {
  if (wants_line()) emit(time, node, fiber, "runs");
  uint8_t fields[24];
  store_le<uint64_t>(fields, static_cast<uint64_t>(time.ns()));
  store_le<uint64_t>(fields + 8, node_hash(node));
  store_le<uint64_t>(fields + 16, fiber_id);
  fold(checksum64(ByteView(fields, sizeof fields)));
}

std::optional<uint64_t> first_divergence(const std::vector<uint64_t>& left,
                                         const std::vector<uint64_t>& right) {
  const size_t common = std::min(left.size(), right.size());
  for (size_t index = 0; index < common; index++) {
    if (left[index] != right[index]) return index;
  }
  if (left.size() != right.size()) return common;
  return std::nullopt;
}

}  // namespace quire::sim
