#include "platform/linux/pidfd.h"

#include <signal.h>
#include <sys/types.h>

#if defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 36))
// glibc 2.36's <sys/pidfd.h> forgets extern "C", so C++ would call a mangled
// pidfd_open that no library defines. Its own includes come first so that they
// keep their C++ declarations.
#include <fcntl.h>
#include <signal.h>
extern "C" {
#include <sys/pidfd.h>
}
#define PROCSPEC_HAVE_PIDFD_WRAPPERS 1
#else
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace procspec::platform::linux_backend {

// pidfds are always close-on-exec: the kernel sets O_CLOEXEC on every pidfd it
// returns.
int OpenPidfd(Pid pid) {
#ifdef PROCSPEC_HAVE_PIDFD_WRAPPERS
  return pidfd_open(static_cast<pid_t>(pid), 0);
#else
  return static_cast<int>(syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0));
#endif
}

int SendSignalToPidfd(NativeHandle pidfd, int signal_number) {
#ifdef PROCSPEC_HAVE_PIDFD_WRAPPERS
  return pidfd_send_signal(static_cast<int>(pidfd), signal_number, nullptr, 0);
#else
  return static_cast<int>(syscall(SYS_pidfd_send_signal,
                                  static_cast<int>(pidfd), signal_number,
                                  nullptr, 0));
#endif
}

}  // namespace procspec::platform::linux_backend
