// The one include of Boost.Context fibers. Sanitizer builds switch to the ucontext backend with
// ASan hooks (TOOLCHAIN.md, section 4), and Boost 1.74 uses the hooks without declaring them.
#pragma once

#if defined(BOOST_USE_ASAN)
#include <sanitizer/common_interface_defs.h>
#endif
#include <boost/context/fiber.hpp>
