// POSIX building blocks shared by the backends and the free functions of
// platform.h.
#ifndef PROCSPEC_PLATFORM_POSIX_INTERNAL_POSIX_IO_H_
#define PROCSPEC_PLATFORM_POSIX_INTERNAL_POSIX_IO_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "platform/platform.h"

namespace procspec::platform::internal {

// pipe() then FD_CLOEXEC on both ends. Requires ForkMutex(): between the two
// calls the ends are inheritable, and only this library's forks can be kept out
// of that window.
absl::StatusOr<PipeEnds> MakePosixPipeLocked();

// Sets FD_CLOEXEC on `handle`.
absl::Status SetCloseOnExec(NativeHandle handle);

// A poll() timeout in milliseconds for `deadline`: -1 for InfiniteFuture, 0 for
// a past deadline, else the time left rounded up (so that poll never returns
// before the deadline) and capped at INT_MAX (callers loop).
int PollTimeoutMillis(absl::Time deadline);

// True if `handle` is readable or at end of file right now (poll with timeout
// 0).
absl::StatusOr<bool> IsReadableNow(NativeHandle handle);

// The ExitStatus that a waitpid() status word describes (exited or killed by a
// signal).
ExitStatus DecodeWaitStatus(int wait_status);

// The path RecordProgramPath records for `argv0` with the current directory
// `cwd` and $PATH `path_variable` (nullopt: unset); "" if none. Looks at the
// file system (an executable regular file) only for a name without '/'.
std::string ResolveProgramPath(std::string_view argv0, std::string_view cwd,
                               std::optional<std::string_view> path_variable);

}  // namespace procspec::platform::internal

#endif  // PROCSPEC_PLATFORM_POSIX_INTERNAL_POSIX_IO_H_
