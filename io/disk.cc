#include "io/disk.h"

#include "io/base/text.h"

namespace quire::io {

Status File::read_exact(uint64_t offset, MutableByteView target) {
  size_t done = 0;
  while (done < target.size()) {
    QUIRE_TRY_ASSIGN(const size_t count, read(offset + done, target.subspan(done)));
    if (count == 0) {
      return Error(ErrorCode::corruption, concat("short read: wanted ", target.size(), " bytes at ",
                                                 offset, ", file has ", done, " there"));
    }
    done += count;
  }
  return ok_status();
}

}  // namespace quire::io
