// The OS operations of the shared bootstrap code (internal/port.h), in
// POSIX's terms.
#include "platform/internal/port.h"

#include <stdlib.h>

#include "absl/status/status.h"
#include "platform/platform.h"
#include "platform/posix/internal/posix_io.h"

namespace procspec::platform::internal {

void UnsetEnvironmentVariable(const char* name) { unsetenv(name); }

absl::Status StopInheriting(NativeHandle handle) {
  return SetCloseOnExec(handle);
}

}  // namespace procspec::platform::internal
