// Test-only imitations of a hostile host program (platform/testing): one that
// reaps every child with waitpid(-1) from a SIGCHLD handler, one that ignores
// SIGCHLD, one with a low descriptor limit, and the children such a program
// runs (one that execs another program, one that leaves a grandchild behind).
// Each changes process-wide state irreversibly: call them in a child of the
// test, never in the test process itself.
#ifndef PROCSPEC_PLATFORM_TESTING_HOSTILE_HOST_H_
#define PROCSPEC_PLATFORM_TESTING_HOSTILE_HOST_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "platform/platform.h"

namespace procspec::platform::testing {

// Installs a SIGCHLD handler that reaps every ended child of this process
// (waitpid(-1, WNOHANG) until none is left), as a host program's own child
// management does, and writes one byte per child it reaped to the returned
// descriptor (a pipe's read end, owned by the caller). SA_RESTART, as most
// hosts install it.
absl::StatusOr<UniqueHandle> InstallChildReaper();

// Sets SIGCHLD to SIG_IGN: the kernel then reaps this process's children
// itself, as soon as they end, and nobody can wait for their status.
absl::Status IgnoreChildExits();

// Lowers this process's limit on open descriptors (RLIMIT_NOFILE, soft and
// hard) to `limit`.
absl::Status SetDescriptorLimit(int limit);

// Replaces this process with `argv` (argv[0] found on PATH), as a target that
// runs another program does. Exits with 127 if it cannot.
[[noreturn]] void ExecProgram(const std::vector<std::string>& argv);

// Forks a grandchild that holds every descriptor this process has (so also
// the sentinel a parent waits on), blocks until `gate` has a byte or reaches
// end of file, then exits 0. Returns its pid; this process does not wait for
// it (it is re-parented when this process ends).
absl::StatusOr<Pid> ForkGrandchildBlockedOn(NativeHandle gate);

}  // namespace procspec::platform::testing

#endif  // PROCSPEC_PLATFORM_TESTING_HOSTILE_HOST_H_
