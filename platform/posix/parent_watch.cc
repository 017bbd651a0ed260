#include "platform/posix/parent_watch.h"

#include "absl/status/statusor.h"
#include "platform/posix/internal/posix_io.h"

namespace procspec::platform::posix {

bool SentinelParentWatch::IsAlive() {
  if (!alive_.load()) return false;
  // Nothing is ever written to the sentinel, so "readable" means the parent has
  // gone. An error (the descriptor cannot be polled) leaves the answer unknown;
  // keep saying alive.
  absl::StatusOr<bool> readable = internal::IsReadableNow(sentinel_.get());
  if (readable.ok() && *readable) alive_.store(false);
  return alive_.load();
}

}  // namespace procspec::platform::posix
