// UniqueHandle's move; closing a handle (reset) is the OS's.
#include <utility>

#include "platform/platform.h"

namespace procspec::platform {

UniqueHandle& UniqueHandle::operator=(UniqueHandle&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

}  // namespace procspec::platform
