// What the shared code at the root of platform/ needs from Windows
// (internal/port.h): the list of backends, and the bootstrap's two OS
// operations.
#include "platform/internal/port.h"

#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "platform/platform.h"
#include "platform/windows/win32.h"
#include "platform/windows/windows_backend.h"

namespace procspec::platform::internal {

absl::Span<const CompiledBackend> CompiledBackends() {
  static constexpr CompiledBackend kBackends[] = {
      {"windows", &windows::WindowsBackendInstance},
  };
  return kBackends;
}

void UnsetEnvironmentVariable(const char* name) {
  // The C runtime's copy (getenv) and the process's (what CreateProcessW
  // passes on) both.
  _putenv_s(name, "");
  SetEnvironmentVariableW(windows::Widen(name).c_str(), nullptr);
}

// An inherited handle keeps its inheritable flag: cleared, so that this
// process's own children do not get it.
absl::Status StopInheriting(NativeHandle handle) {
  if (handle <= 0 || !SetHandleInformation(windows::ToHandle(handle),
                                           HANDLE_FLAG_INHERIT, 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("handle ", handle, " is not open"));
  }
  return absl::OkStatus();
}

}  // namespace procspec::platform::internal
