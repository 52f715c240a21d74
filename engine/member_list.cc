#include "engine/member_list.h"

#include "io/base/checksum.h"
#include "io/base/text.h"

namespace quire::engine {
namespace {

constexpr std::string_view file_magic = "quire-members 1\n";
constexpr std::string_view checksum_prefix = "xxh3=";

// The file's bytes: magic, the list, then the checksum line of everything before it.
std::string encode(const std::vector<MemberAddress>& members) {
  std::string text = concat(file_magic, member_list_text(members), "\n");
  return concat(text, checksum_prefix, hex64(checksum64(as_bytes(text))), "\n");
}

// The list stored in `bytes`. Errors: corruption.
Result<std::string> decode(std::string_view bytes, const std::string& path) {
  const auto bad = [&](std::string_view why) {
    return Error(ErrorCode::corruption, concat(path, ": ", why));
  };
  if (!bytes.starts_with(file_magic)) return bad("not a member list file");
  const size_t checksum_at = bytes.rfind(checksum_prefix);
  if (checksum_at == std::string_view::npos || !bytes.ends_with("\n")) return bad("truncated");
  const std::string_view body = bytes.substr(0, checksum_at);
  const std::string_view stored =
      bytes.substr(checksum_at + checksum_prefix.size(),
                   bytes.size() - checksum_at - checksum_prefix.size() - 1);
  if (stored != hex64(checksum64(as_bytes(body)))) return bad("fails its checksum");
  std::string_view list = body.substr(file_magic.size());
  if (!list.ends_with("\n")) return bad("truncated");
  list.remove_suffix(1);
  return std::string(list);
}

// Written aside and renamed into place: a crash leaves the old state or the whole list, never a
// torn one.
Status write_member_list(io::Disk& disk, const std::string& path,
                         const std::vector<MemberAddress>& members) {
  const std::string fresh = concat(path, ".new");
  {
    QUIRE_TRY_ASSIGN(const std::unique_ptr<io::File> file,
                     disk.open(fresh, io::OpenMode::create_or_open));
    QUIRE_TRY(file->truncate(0));
    QUIRE_TRY(file->write(0, as_bytes(encode(members))));
    QUIRE_TRY(file->sync());
  }
  return disk.rename(fresh, path);
}

}  // namespace

std::string member_list_text(const std::vector<MemberAddress>& members) {
  std::string text;
  for (const MemberAddress& member : members) {
    text += concat(text.empty() ? "" : ",", member.id, "=", member.address.to_string());
  }
  return text;
}

uint64_t member_list_digest(const std::vector<MemberAddress>& members) {
  return checksum64(as_bytes(member_list_text(members)));
}

Status check_member_list_file(io::Runtime& runtime, const std::string& path,
                              const std::vector<MemberAddress>& members) {
  QUIRE_ASSERT(!members.empty());
  io::Disk& disk = runtime.disk();
  const std::string wanted = member_list_text(members);
  QUIRE_TRY_ASSIGN(const bool stored, disk.exists(path));
  if (stored) {
    QUIRE_TRY_ASSIGN(const std::unique_ptr<io::File> file,
                     disk.open(path, io::OpenMode::read_only));
    QUIRE_TRY_ASSIGN(const uint64_t size, file->size());
    if (size > 1u << 20) return Error(ErrorCode::corruption, concat(path, ": too large"));
    Bytes bytes(static_cast<size_t>(size));
    QUIRE_TRY_ASSIGN(const size_t read, file->read(0, bytes));
    bytes.resize(read);
    auto list = decode(as_text(bytes), path);
    if (!list.ok()) {
      // Rot at rest (fuzz seed 5001703): the list is the operator's guard, not the group's
      // state. Written again from this start's flags, so the member is not kept down by one bad
      // byte; the peers' handshake still refuses a list that differs from theirs.
      runtime.trace(concat(list.error().to_string(), "; written again from the flags"));
      return write_member_list(runtime.disk(), path, members);
    }
    if (*list != wanted) {
      return Error(ErrorCode::invalid_argument,
                   concat("this data directory belongs to a group with members ", *list, ", not ",
                          wanted, " (", path, "); start every member with the same --members"));
    }
    return ok_status();
  }
  return write_member_list(disk, path, members);
}

}  // namespace quire::engine
