// Descriptors: closing a UniqueHandle, pipes, reads and writes, and waiting
// for readability.
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "platform/internal/growing_read.h"
#include "platform/platform.h"
#include "platform/posix/internal/errors.h"
#include "platform/posix/internal/posix_io.h"

namespace procspec::platform {

void UniqueHandle::reset(NativeHandle handle) {
  const NativeHandle old = std::exchange(handle_, handle);
  // close() is not retried on EINTR: POSIX leaves the descriptor's state
  // unspecified, and Linux has always closed it, so a retry could close a
  // descriptor another thread just opened.
  if (old != kInvalidHandle) close(static_cast<int>(old));
}

absl::Status WriteAll(NativeHandle handle, std::string_view data) {
  while (!data.empty()) {
    const ssize_t written =
        write(static_cast<int>(handle), data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return internal::ErrnoError(errno, "write");
    }
    data.remove_prefix(static_cast<std::size_t>(written));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadSome(NativeHandle handle,
                                     std::size_t max_bytes) {
  std::string buffer(max_bytes, '\0');
  while (true) {
    const ssize_t got =
        read(static_cast<int>(handle), buffer.data(), buffer.size());
    if (got >= 0) {
      buffer.resize(static_cast<std::size_t>(got));
      return buffer;
    }
    if (errno != EINTR) return internal::ErrnoError(errno, "read");
  }
}

absl::StatusOr<std::string> ReadExactly(NativeHandle handle, std::size_t size) {
  // `size` often comes from the other end: the buffer grows as bytes arrive.
  return internal::ReadGrowing(
      size,
      [handle](char* buffer,
               std::size_t capacity) -> absl::StatusOr<std::size_t> {
        while (true) {
          const ssize_t got = read(static_cast<int>(handle), buffer, capacity);
          if (got >= 0) return static_cast<std::size_t>(got);
          if (errno != EINTR) return internal::ErrnoError(errno, "read");
        }
      });
}

absl::StatusOr<std::vector<std::size_t>> WaitReadable(
    absl::Span<const NativeHandle> handles, absl::Time deadline) {
  std::vector<pollfd> fds(handles.size());
  for (std::size_t i = 0; i < handles.size(); ++i) {
    // poll() silently skips negative descriptors, which would turn a bug into a
    // hang.
    if (handles[i] < 0 || handles[i] > INT_MAX) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid handle ", handles[i]));
    }
    fds[i].fd = static_cast<int>(handles[i]);
    fds[i].events = POLLIN;
  }
  while (true) {
    const int timeout = internal::PollTimeoutMillis(deadline);
    const int count = poll(fds.data(), fds.size(), timeout);
    if (count < 0) {
      if (errno == EINTR) continue;  // The next round recomputes the time left.
      return internal::ErrnoError(errno, "poll");
    }
    std::vector<std::size_t> ready;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents & POLLNVAL) {
        return absl::InvalidArgumentError(
            absl::StrCat("handle ", handles[i], " is not open"));
      }
      // POLLHUP without POLLIN is how some systems report end of file on a
      // pipe.
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) ready.push_back(i);
    }
    if (!ready.empty()) return ready;
    // A capped timeout expired early; go round again until the deadline itself
    // has passed.
    if (count == 0 && timeout == 0) return ready;
    if (count == 0 && deadline != absl::InfiniteFuture() &&
        absl::Now() >= deadline)
      return ready;
  }
}

namespace internal {

absl::StatusOr<PipeEnds> MakePosixPipeLocked() {
  int fds[2];
  if (pipe(fds) != 0) return ErrnoError(errno, "pipe");
  PipeEnds ends{UniqueHandle(fds[0]), UniqueHandle(fds[1])};
  if (absl::Status status = SetCloseOnExec(fds[0]); !status.ok()) return status;
  if (absl::Status status = SetCloseOnExec(fds[1]); !status.ok()) return status;
  return ends;
}

absl::Status SetCloseOnExec(NativeHandle handle) {
  const int fd = static_cast<int>(handle);
  const int flags = fcntl(fd, F_GETFD);
  if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
    return ErrnoError(errno, "fcntl(FD_CLOEXEC)");
  }
  return absl::OkStatus();
}

int PollTimeoutMillis(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return -1;
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  const std::int64_t millis =
      absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
  return millis > INT_MAX ? INT_MAX : static_cast<int>(millis);
}

absl::StatusOr<bool> IsReadableNow(NativeHandle handle) {
  const NativeHandle handles[] = {handle};
  absl::StatusOr<std::vector<std::size_t>> ready =
      WaitReadable(handles, absl::InfinitePast());
  if (!ready.ok()) return ready.status();
  return !ready->empty();
}

ExitStatus DecodeWaitStatus(int wait_status) {
  if (WIFSIGNALED(wait_status))
    return ExitStatus{.signaled = true, .value = WTERMSIG(wait_status)};
  return ExitStatus{.signaled = false, .value = WEXITSTATUS(wait_status)};
}

}  // namespace internal
}  // namespace procspec::platform
