// The member list: which members, at which addresses, form the group. Every member must be
// started with the same list, or members would count different majorities. Two guards:
// - peers compare a digest of the list in their hello and refuse a peer whose list differs
//   (engine/transport.cc);
// - the first start stores the list in the data directory, and a later start with a different
//   list is refused (check_member_list_file). A membership change will go through the protocol,
//   never through flags.
// docs/protocol.md, "Membership"; the file is in docs/format.md, "The member list file".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/transport.h"
#include "io/runtime.h"

namespace quire::engine {

// "1=127.0.0.1:7101,2=127.0.0.1:7102": ids ascending, as --members takes it.
std::string member_list_text(const std::vector<MemberAddress>& members);
// XXH3 of member_list_text().
uint64_t member_list_digest(const std::vector<MemberAddress>& members);

// Stores `members` at `path` if no list is stored yet (durably: written, synced, renamed), else
// compares. A stored file that does not parse or fails its checksum (rot at rest) is written
// again from `members`, with a trace line. Suspends. Errors: invalid_argument (a different list
// is stored: the message names both), io errors.
Status check_member_list_file(io::Runtime& runtime, const std::string& path,
                              const std::vector<MemberAddress>& members);

}  // namespace quire::engine
