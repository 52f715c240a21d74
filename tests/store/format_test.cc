// Goal: the building blocks of the format on their own: root blocks, records, write-cache blocks,
// nodes and value indexes round-trip; every single-bit flip of a root block, record or block is
// caught; addresses travel inside errors; file names sort by counter; the node cache keeps its
// bound; the default options are valid.
// Method: encode, flip bits exhaustively (or at random for large structures), decode.
#include <gtest/gtest.h>

#include "io/base/rng.h"
#include "store/file_names.h"
#include "store/journal.h"
#include "store/node.h"
#include "store/node_cache.h"
#include "store/record.h"
#include "store/root_block.h"
#include "store/write_cache.h"
#include "store/write_cache_block.h"

namespace quire::store {
namespace {

RootBlock sample_root() {
  RootBlock root;
  root.commit_counter = CommitCounter(41);
  root.commit_time_ns = 1'700'000'000'000'000'000;
  root.term = Term(7);
  root.write_set_begin_offset = 30000;
  root.end_offset = 50000;
  root.write_set_block_count = 3;
  root.write_set_hash = 0x1234567890abcdefull;
  root.tree_root = Address{40000, 900};
  root.commit_index_root = Address{49000, 1000};
  root.key_count = 99;
  return root;
}

TEST(Format, RootBlockRoundTripsAndEveryBitFlipIsCaught) {
  const RootBlock root = sample_root();
  const EncodedRootBlock encoded = encode_root_block(root);
  auto decoded = decode_root_block(encoded);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, root);
  for (size_t bit = 0; bit < encoded.size() * 8; bit++) {
    EncodedRootBlock damaged = encoded;
    damaged[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(decode_root_block(damaged).ok()) << "bit " << bit;
  }
  EXPECT_EQ(decode_root_block(ByteView(encoded).first(100)).code(), ErrorCode::corruption);
  EXPECT_TRUE(root.same_write_set(RootBlock{root}));
  RootBlock other_term = root;
  other_term.term = Term(8);
  other_term.commit_time_ns = 5;
  EXPECT_TRUE(root.same_write_set(other_term));
  other_term.write_set_hash++;
  EXPECT_FALSE(root.same_write_set(other_term));
}

TEST(Format, RecordChecksumCoversItsOffset) {
  Bytes bytes;
  append_record(bytes, 8192, format::RecordKind::value_chunk, as_bytes("payload"));
  const Address address{8192, static_cast<uint32_t>(bytes.size())};
  auto record = verify_record(address, bytes);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->kind, format::RecordKind::value_chunk);
  EXPECT_EQ(as_text(record->payload), "payload");
  // The same bytes read from another offset (a misdirected write) fail.
  auto moved = verify_record(Address{8192 + 4096, address.length}, bytes);
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.code(), ErrorCode::checksum_mismatch);
  EXPECT_EQ(failed_address(moved.error()), (Address{8192 + 4096, address.length}));
  for (size_t bit = 0; bit < bytes.size() * 8; bit++) {
    Bytes damaged = bytes;
    damaged[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(verify_record(address, damaged).ok()) << "bit " << bit;
  }
}

TEST(Format, WriteCacheBlocksVerifyAndTile) {
  WriteCache cache(format::data_region_begin_offset, Term(3), CommitCounter(5), 8192);
  std::vector<Address> addresses;
  for (int index = 0; index < 40; index++) {
    addresses.push_back(cache.append(format::RecordKind::value_chunk, Bytes(300 + index, 'x')));
  }
  const uint64_t end = cache.end_offset();
  const std::vector<Bytes> blocks = cache.finish();
  ASSERT_GT(blocks.size(), 1u);
  uint64_t offset = format::data_region_begin_offset;
  size_t record = 0;
  for (size_t index = 0; index < blocks.size(); index++) {
    auto header = verify_write_cache_block(blocks[index]);
    ASSERT_TRUE(header.ok()) << header.error().to_string();
    EXPECT_EQ(header->sequence, index);
    EXPECT_EQ(header->file_offset, offset);
    EXPECT_EQ(header->term, Term(3));
    EXPECT_EQ(header->commit_counter, CommitCounter(5));
    EXPECT_EQ(header->last_in_write_set(), index + 1 == blocks.size());
    EXPECT_LE(blocks[index].size(), 8192u);
    for (const Address& address : write_cache_block_records(blocks[index])) {
      EXPECT_EQ(address, addresses[record++]);
    }
    offset += blocks[index].size();
  }
  EXPECT_EQ(record, addresses.size());
  EXPECT_EQ(offset, end);
  Rng rng(1);
  for (int trial = 0; trial < 2000; trial++) {
    Bytes damaged = blocks[0];
    damaged[rng.uniform(damaged.size())] ^= static_cast<uint8_t>(1u << rng.uniform(8));
    EXPECT_FALSE(verify_write_cache_block(damaged).ok());
  }
}

TEST(Format, NodesAndValueIndexesRoundTrip) {
  Node leaf;
  for (int index = 0; index < 20; index++) {
    leaf.keys.push_back(to_bytes("key" + std::to_string(100 + index)));
    LeafValue value;
    value.version = CommitCounter(static_cast<uint64_t>(index));
    if (index % 3 == 0) {
      value.out_of_line = true;
      value.length = 100000;
      value.chunk_count = 7;
      value.address = Address{9000, 100};
    } else {
      value.inline_bytes = to_bytes(std::string(static_cast<size_t>(index), 'v'));
    }
    leaf.values.push_back(value);
  }
  const Bytes payload = encode_node(leaf);
  EXPECT_EQ(payload.size(), leaf.payload_size_bytes());
  auto decoded = decode_node(Address{20000, 0}, RecordView{format::RecordKind::leaf, payload});
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->keys, leaf.keys);
  EXPECT_EQ(decoded->values, leaf.values);
  Node branch;
  branch.level = 2;
  branch.children = {Address{8192, 100}, Address{9000, 200}, Address{9500, 300}};
  branch.keys = {to_bytes("m"), to_bytes("t")};
  const Bytes branch_payload = encode_node(branch);
  auto decoded_branch =
      decode_node(Address{20000, 0}, RecordView{format::RecordKind::branch, branch_payload});
  ASSERT_TRUE(decoded_branch.ok());
  EXPECT_EQ(decoded_branch->children, branch.children);
  EXPECT_EQ(decoded_branch->keys, branch.keys);
  // A child that is not older than its parent is structurally impossible.
  EXPECT_EQ(
      decode_node(Address{9000, 0}, RecordView{format::RecordKind::branch, branch_payload}).code(),
      ErrorCode::corruption);
  // Keys out of order are refused even with a good checksum.
  Node unordered = leaf;
  std::swap(unordered.keys[0], unordered.keys[1]);
  EXPECT_EQ(
      decode_node(Address{20000, 0}, RecordView{format::RecordKind::leaf, encode_node(unordered)})
          .code(),
      ErrorCode::corruption);
  const std::vector<Address> chunks = {Address{8192, 16}, Address{9000, 17}};
  auto index = decode_value_index(
      Address{10000, 0}, RecordView{format::RecordKind::value_index, encode_value_index(chunks)});
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(*index, chunks);
}

TEST(Format, NamesAndKeysSortByCounter) {
  EXPECT_EQ(counter_file_name(CommitCounter(42), ".halog"), "00000000000000000042.halog");
  EXPECT_EQ(parse_counter_file_name("00000000000000000042.halog", ".halog"),
            std::optional<CommitCounter>(CommitCounter(42)));
  EXPECT_FALSE(parse_counter_file_name("0000000000000000042.halog", ".halog").has_value());
  EXPECT_FALSE(parse_counter_file_name("00000000000000000042.snap", ".halog").has_value());
  EXPECT_FALSE(parse_counter_file_name("0000000000000000004x.halog", ".halog").has_value());
  EXPECT_LT(counter_file_name(CommitCounter(9), ".halog"),
            counter_file_name(CommitCounter(10), ".halog"));
  EXPECT_LT(commit_index_key(CommitCounter(255)), commit_index_key(CommitCounter(256)));
  EXPECT_EQ(join_path("", "journal"), "journal");
  EXPECT_EQ(join_path("a", "journal"), "a/journal");
}

TEST(Format, NodeCacheKeepsItsBound) {
  NodeCache cache(20000);
  for (uint64_t offset = 0; offset < 1000; offset++) {
    auto node = std::make_shared<Node>();
    node->keys.push_back(Bytes(100, 'k'));
    node->values.push_back(LeafValue{});
    cache.insert(offset * 1000, node);
    EXPECT_LE(cache.size_bytes(), cache.capacity_bytes());
  }
  EXPECT_GT(cache.node_count(), 10u);
  EXPECT_EQ(cache.find(0), nullptr);  // Evicted long ago.
  EXPECT_NE(cache.find(999 * 1000), nullptr);
  cache.evict_from(990 * 1000);
  EXPECT_EQ(cache.find(995 * 1000), nullptr);
  EXPECT_NE(cache.find(989 * 1000), nullptr);
}

TEST(Format, DefaultOptionsAreValidAndBadOnesAreNamed) {
  EXPECT_TRUE(JournalOptions{}.validate().ok()) << JournalOptions{}.validate().error().to_string();
  JournalOptions tiny_block;
  tiny_block.write_cache_block_size_bytes = 4096;
  EXPECT_EQ(tiny_block.validate().code(), ErrorCode::invalid_argument);
  JournalOptions tiny_node;
  tiny_node.node_size_bytes_max = 512;
  EXPECT_EQ(tiny_node.validate().code(), ErrorCode::invalid_argument);
  JournalOptions huge_values;
  huge_values.write_cache_block_size_bytes = 16 * 1024;
  huge_values.value_size_bytes_max = 1ull << 30;
  EXPECT_EQ(huge_values.validate().code(), ErrorCode::invalid_argument);
  for (const uint64_t step : {uint64_t{1000}, JournalOptions::allocation_step_bytes_max + 4096}) {
    JournalOptions bad_step;
    bad_step.allocation_step_bytes = step;
    EXPECT_EQ(bad_step.validate().code(), ErrorCode::invalid_argument) << step;
    EXPECT_NE(bad_step.validate().error().message().find("allocation_step_bytes"),
              std::string::npos);
  }
  JournalOptions no_step;
  no_step.allocation_step_bytes = 0;
  EXPECT_TRUE(no_step.validate().ok());
}

}  // namespace
}  // namespace quire::store
