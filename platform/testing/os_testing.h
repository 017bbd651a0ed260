// OS operations that only the conformance suite and tests need: inspecting
// descendants and descriptors, and acting on arbitrary pids. Kept in platform/
// so that nothing else includes an OS header. Not for library code: the library
// never signals a pid it did not start.
#ifndef PROCSPEC_PLATFORM_TESTING_OS_TESTING_H_
#define PROCSPEC_PLATFORM_TESTING_OS_TESTING_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "platform/platform.h"

namespace procspec::platform::testing {

// Descriptors open in this process, ascending.
absl::StatusOr<std::vector<NativeHandle>> OpenDescriptors();
// What a descriptor refers to, for leak messages ("pipe:[1234]", "/dev/null",
// ...). A pidfd names its process ("anon_inode:[pidfd] pid 42"), so that two
// descriptions are equal only for the same object. "" if `handle` is not open.
std::string DescribeDescriptor(NativeHandle handle);
// Whether `handle` is an open descriptor of this process.
bool IsOpen(NativeHandle handle);
// Whether `handle` is close-on-exec; an error if it is not open.
absl::StatusOr<bool> IsCloseOnExec(NativeHandle handle);

enum class ProcessState { kRunning, kZombie, kGone };
std::string_view ProcessStateName(ProcessState state);

struct ChildInfo {
  Pid pid = 0;
  ProcessState state = ProcessState::kRunning;
  std::string command;  // its command name, for messages
};
// This process's direct children, live or zombie, without reaping any of them.
absl::StatusOr<std::vector<ChildInfo>> ListChildren();

// The state of any process by pid (kGone if it does not exist or cannot be
// seen).
ProcessState StateOf(Pid pid);
// The parent pid of any visible process; NotFound if it is gone.
absl::StatusOr<Pid> ParentOf(Pid pid);

// Capabilities of this test host that do not depend on the backend under test:
// "proc_fs" (descendants, their run state and descriptors can be listed),
// "child_subreaper" (a test can adopt orphaned descendants) and
// "pid_namespace" (a test can run a process as pid 1 of a new PID namespace
// and choose the pid the next process there gets; fault_injection.h). They are
// what the suite observes with, not what the backend does, so no backend
// manifest lists them: a backend's processes are observed with the host's
// tools, and a port to an OS without them reports the clauses that need them
// UNSUPPORTED.
std::vector<std::string> HostCapabilities();

// Makes this process a child subreaper: orphaned descendants re-parent to it,
// so a test can observe and reap them. Unimplemented where the OS has no such
// notion.
absl::Status BecomeChildSubreaper();

// Sends signal number `signal_number` to `pid`. For tests only: the pid must be
// a process the test controls (e.g. an orphaned grandchild re-parented to this
// subreaper).
absl::Status SignalPid(Pid pid, int signal_number);
// Waits for a specific child of this process (including a re-parented orphan)
// and reaps it.
absl::StatusOr<ExitStatus> ReapPid(Pid pid);

// Sets the calling process's disposition of `signal_number` to "ignore"
// (SIG_IGN), e.g. so that a child keeps running after terminate().
absl::Status IgnoreSignal(int signal_number);
// The number of SIGCHLD.
int ChildSignalNumber();
// Installs a SIGCHLD handler that reaps every ended child of this process
// (waitpid(-1, WNOHANG) in a loop), as some host programs do.
absl::Status InstallReapAllHandler();
// Sets the calling process's soft (and, with `hard`, hard) limit on open
// descriptors (RLIMIT_NOFILE); unchanged where negative.
absl::Status SetDescriptorLimit(long soft, long hard = -1);
// The calling process's soft and hard descriptor limits.
absl::StatusOr<std::pair<long, long>> DescriptorLimit();
// Opens `path` for reading and writing (creating it) WITHOUT close-on-exec, as
// code that knows nothing of this library does.
absl::StatusOr<NativeHandle> OpenInheritable(const std::string& path);
// Forks (fork(), not through the library) a process that holds every
// descriptor of the caller, reads `gate` until end of file, then _exits 0:
// what a target that starts a program of its own without closing descriptors
// does. The new process first closes its copy of `close_first`, if valid (the
// gate's write end, say). Returns its pid.
absl::StatusOr<Pid> ForkUntilEndOfFile(
    NativeHandle gate, NativeHandle close_first = kInvalidHandle);

// Blocks until child `pid` of this process has ended, without reaping it: on
// success it is a zombie (waitid with WNOWAIT; event-driven, no polling).
absl::Status AwaitExitWithoutReaping(Pid pid);
// Irreversibly makes every later attempt of the calling process to send a
// signal to any process (kill, tkill, tgkill, rt_sigqueueinfo,
// rt_tgsigqueueinfo, pidfd_send_signal) fail with EPERM, sending nothing (a
// seccomp filter). For a forked child checking that the library sends no
// signal. Unimplemented where the OS cannot filter system calls.
absl::Status DenySignalSending();

// Ends the calling process by signal `signal_number` (e.g. SIGSEGV, SIGABRT),
// default action.
[[noreturn]] void DieBySignal(int signal_number);
// The signal numbers of SIGSEGV, SIGABRT and SIGKILL, for tests that raise
// them.
int SegvSignalNumber();
int AbortSignalNumber();
int KillSignalNumber();

// The path of the running executable (so a test can re-execute itself with
// --child=NAME).
absl::StatusOr<std::string> CurrentExecutable();
// `path` with every symbolic link and "." or ".." resolved (realpath()).
absl::StatusOr<std::string> RealPath(const std::string& path);

// Runs `argv` (argv[0] a path or a name found on PATH) with stdout and stderr
// captured, waits for it and returns both and its exit status. Stdin is the
// null device. NotFound if it cannot be started; DeadlineExceeded (after
// killing it with SIGKILL and reaping it) if it is still running at `deadline`.
struct CommandResult {
  ExitStatus status;
  std::string out;
  std::string err;
};
absl::StatusOr<CommandResult> RunCommand(
    const std::vector<std::string>& argv,
    absl::Time deadline = absl::InfiniteFuture());

// A bare posix_spawn of `argv[0]` (a path) with this environment and the
// standard streams inherited, then waitpid: the baseline that spawn start-up
// costs are measured against.
absl::StatusOr<ExitStatus> SpawnAndWait(const std::vector<std::string>& argv);

// The floor of any fork-based start: fork(), _exit(0) in the child, waitpid in
// the parent. Returns the child's exit status.
absl::StatusOr<ExitStatus> ForkExitAndWait();

// Sets or reads an environment variable (for per-test overrides such as
// PROCSPEC_BACKEND).
void SetEnv(const std::string& name, const std::string& value);
std::optional<std::string> GetEnv(const std::string& name);

}  // namespace procspec::platform::testing

#endif  // PROCSPEC_PLATFORM_TESTING_OS_TESTING_H_
