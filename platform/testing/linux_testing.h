// What the Linux sources of //platform/testing share: errno as a status, and
// installing a seccomp filter. Private to this library.
#ifndef PROCSPEC_PLATFORM_TESTING_LINUX_TESTING_H_
#define PROCSPEC_PLATFORM_TESTING_LINUX_TESTING_H_

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

// The AUDIT_ARCH_ value a seccomp filter checks first, where this
// architecture has one the filters here are written for.
#if defined(__x86_64__)
#define PROCSPEC_SECCOMP_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define PROCSPEC_SECCOMP_ARCH AUDIT_ARCH_AARCH64
#endif

namespace procspec::platform::testing::linux_testing {

// A status for the failed call `what`, from errno.
inline absl::Status Errno(std::string_view what) {
  const int error = errno;
  return absl::Status(absl::ErrnoToStatusCode(error),
                      absl::StrCat(absl::string_view(what.data(), what.size()),
                                   ": ", std::strerror(error)));
}

// Installs `filter` as a seccomp filter of the calling thread (and so of the
// children it creates). UnimplementedError where the kernel has none.
inline absl::Status InstallSeccompFilter(absl::Span<sock_filter> filter) {
  sock_fprog program = {
      .len = static_cast<unsigned short>(filter.size()),
      .filter = filter.data(),
  };
  // Unprivileged processes may install a filter only without gaining
  // privileges later (no set-user-ID exec).
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return Errno("prctl(PR_SET_NO_NEW_PRIVS)");
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
    if (errno == EINVAL)
      return absl::UnimplementedError("this kernel has no seccomp filters");
    return Errno("prctl(PR_SET_SECCOMP)");
  }
  return absl::OkStatus();
}

}  // namespace procspec::platform::testing::linux_testing

#endif  // PROCSPEC_PLATFORM_TESTING_LINUX_TESTING_H_
