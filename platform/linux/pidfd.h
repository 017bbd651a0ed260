// pidfd_open and pidfd_send_signal, through glibc where it has them (2.36) and
// the raw system call otherwise.
#ifndef PROCSPEC_PLATFORM_LINUX_PIDFD_H_
#define PROCSPEC_PLATFORM_LINUX_PIDFD_H_

#include "platform/platform.h"

namespace procspec::platform::linux_backend {

// A close-on-exec pidfd for `pid`, or -1 with errno set.
int OpenPidfd(Pid pid);
// pidfd_send_signal(pidfd, signal_number, NULL, 0): 0, or -1 with errno set.
int SendSignalToPidfd(NativeHandle pidfd, int signal_number);

}  // namespace procspec::platform::linux_backend

#endif  // PROCSPEC_PLATFORM_LINUX_PIDFD_H_
