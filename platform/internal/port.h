// What each OS's folder defines for the shared code at the root of platform/:
// the list of its backends (for the registry, backends.cc) and the few OS
// operations that the spawned child's bootstrap (spawned_child.cc) needs.
// BUILD links exactly one OS's definitions in, chosen by select() on
// //tools/platforms (platform/README.md: what a port provides).
#ifndef PROCSPEC_PLATFORM_INTERNAL_PORT_H_
#define PROCSPEC_PLATFORM_INTERNAL_PORT_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "platform/platform.h"

namespace procspec::platform::internal {

// A backend compiled into this binary: its name, and the function that
// returns its process-wide instance.
struct CompiledBackend {
  std::string_view name;
  Backend& (*instance)();
};

// The backends of this OS, the best first: the first is the default of
// CurrentBackend(). Never empty.
absl::Span<const CompiledBackend> CompiledBackends();

// Removes `name` from this process's environment. Not thread-safe: call it
// while the process has one thread.
void UnsetEnvironmentVariable(const char* name);

// Makes `handle`, which this process inherited from its parent, not inherited
// by this process's own children from now on (close-on-exec on POSIX). Fails
// if `handle` is not open.
absl::Status StopInheriting(NativeHandle handle);

}  // namespace procspec::platform::internal

#endif  // PROCSPEC_PLATFORM_INTERNAL_PORT_H_
