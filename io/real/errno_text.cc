#include "io/real/errno_text.h"

#include <cstring>

#include "io/base/text.h"

namespace quire::io::real {

std::string errno_text(int error_number) {
  // strerrordesc_np (glibc 2.32) neither allocates nor depends on the locale, unlike strerror.
  const char* description = strerrordesc_np(error_number);
  if (description == nullptr) return concat("errno ", error_number);
  return description;
}

}  // namespace quire::io::real
