// errno_text(): the description of an errno value ("No such file or directory"), thread-safe.
#pragma once

#include <string>

namespace quire::io::real {

std::string errno_text(int error_number);

}  // namespace quire::io::real
