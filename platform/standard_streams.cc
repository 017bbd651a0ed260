// FlushStandardStreams (platform.h): the C and C++ standard streams, the same
// on every OS.
#include <cstdio>
#include <iostream>

#include "platform/platform.h"

namespace procspec::platform {

void FlushStandardStreams() {
  // C++ streams first: with sync_with_stdio (the default) they write through
  // stdio, and otherwise they have buffers of their own that stdio knows
  // nothing about.
  std::cout.flush();
  std::cerr.flush();
  std::clog.flush();
  std::fflush(stdout);
  std::fflush(stderr);
}

}  // namespace procspec::platform
