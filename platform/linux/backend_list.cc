// The backends of a Linux binary (internal/port.h): "linux", the default, then
// "posix", which runs on the same kernel with POSIX.1-2008 calls only.
#include "absl/types/span.h"
#include "platform/internal/port.h"
#include "platform/linux/linux_backend.h"
#include "platform/posix/posix_backend.h"

namespace procspec::platform::internal {

absl::Span<const CompiledBackend> CompiledBackends() {
  static constexpr CompiledBackend kBackends[] = {
      {"linux", &linux_backend::LinuxBackendInstance},
      {"posix", &posix::PosixBackendInstance},
  };
  return kBackends;
}

}  // namespace procspec::platform::internal
