// CreateSharedRegion: the current backend makes the memory, the shared POSIX
// code maps it.
#include <cstddef>

#include "absl/status/statusor.h"
#include "platform/platform.h"
#include "platform/shared_memory.h"

namespace procspec::platform {

absl::StatusOr<SharedRegion> CreateSharedRegion(std::size_t size) {
  absl::StatusOr<UniqueHandle> handle =
      CurrentBackend().CreateSharedMemory(size);
  if (!handle.ok()) return handle.status();
  return SharedRegion::Adopt(*std::move(handle));
}

}  // namespace procspec::platform
