#include "platform/stream.h"

#include <limits.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <string_view>

#include "platform/platform.h"
#include "platform/posix/internal/errors.h"

namespace procspec::platform {
IoResult ReadInto(NativeHandle handle, char* buffer, std::size_t size) {
  while (true) {
    const ssize_t got = read(static_cast<int>(handle), buffer, size);
    if (got >= 0) return IoResult{static_cast<std::size_t>(got), 0};
    if (errno != EINTR) return IoResult{0, errno};
  }
}

IoResult WriteFully(NativeHandle handle, std::string_view data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t written =
        write(static_cast<int>(handle), data.data() + done, data.size() - done);
    if (written < 0) {
      if (errno == EINTR) continue;
      return IoResult{done, errno};
    }
    done += static_cast<std::size_t>(written);
  }
  return IoResult{done, 0};
}

std::string ErrnoText(int error) { return internal::OsErrorText(error); }

std::size_t AtomicPipeWriteSize() { return PIPE_BUF; }

int BrokenPipeErrno() { return EPIPE; }

void IgnoreBrokenPipeSignal() {
  // A function-local static: initialized once, thread-safely.
  [[maybe_unused]] static const bool done = [] {
    struct sigaction current;
    if (sigaction(SIGPIPE, nullptr, &current) != 0) return false;
    if (current.sa_handler != SIG_DFL) return false;  // The program chose.
    struct sigaction ignore = {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    return sigaction(SIGPIPE, &ignore, nullptr) == 0;
  }();
}

}  // namespace procspec::platform
