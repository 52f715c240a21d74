// Address: where a record lives in the journal, (file offset, length). The same on every replica,
// because replicas hold byte-identical journals; so an address names a record across the group
// (read repair fetches a record from a peer by its address). See docs/format.md, "Records".
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>

#include "io/base/bytes.h"
#include "io/base/result.h"
#include "store/format.h"

namespace quire::store {

struct Address {
  uint64_t offset = 0;
  uint32_t length = 0;

  // The null address (offset 0) points at nothing: the data region starts past the root slots.
  bool is_null() const { return offset == 0; }
  uint64_t end() const { return offset + length; }
  auto operator<=>(const Address&) const = default;
};

inline void write_address(ByteWriter& writer, Address address) {
  writer.u64(address.offset);
  writer.u32(address.length);
}

inline Address read_address(ByteReader& reader) {
  Address address;
  address.offset = reader.u64();
  address.length = reader.u32();
  return address;
}

// "record 8192+512": the form every checksum_mismatch of a record or block carries, so that the
// engine can fetch that address from a peer (failed_address below parses it back).
std::string address_text(Address address);

// A checksum_mismatch error for the record or block at `address`.
Error checksum_error(Address address, std::string_view what);

// The address a checksum_mismatch error from the store names, if it names one.
std::optional<Address> failed_address(const Error& error);

}  // namespace quire::store
