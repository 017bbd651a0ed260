// What the conformance suite's supervisor needs from the OS: a test program run
// in a process group of its own that reports its progress line by line on a
// pipe, and a description of the machine. The supervisor is the suite binary
// itself, run so that one test that never returns (a lock a foreign kernel
// breaks) cannot hang the whole run: it kills the program's group and runs the
// remaining tests in a fresh one.
#ifndef PROCSPEC_PLATFORM_TESTING_SUPERVISION_H_
#define PROCSPEC_PLATFORM_TESTING_SUPERVISION_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "platform/platform.h"

namespace procspec::platform::testing {

// The running kernel as it describes itself (uname): what the machine is, not
// what anyone assumed from its name.
struct HostDescription {
  std::string sysname;  // "Linux"
  std::string release;  // "6.1.0-13-amd64"; gVisor reports its own
  std::string machine;  // "x86_64", "aarch64"
};
absl::StatusOr<HostDescription> DescribeHost();

// A program started in a new process group, with the write end of a progress
// pipe as an inherited descriptor.
class WatchedProgram {
 public:
  // `kProgressFdPlaceholder`, wherever it appears in an argument, is replaced
  // by the number of the progress descriptor in the program. With
  // `stdout_to_stderr`, the program's standard output goes to this process's
  // standard error (so that this process's standard output stays clean).
  static constexpr const char* kProgressFdPlaceholder = "{progress_fd}";
  static absl::StatusOr<std::unique_ptr<WatchedProgram>> Start(
      const std::vector<std::string>& argv, bool stdout_to_stderr);

  ~WatchedProgram();  // kills the group and reaps the program if still there
  WatchedProgram(const WatchedProgram&) = delete;
  WatchedProgram& operator=(const WatchedProgram&) = delete;

  // The next complete line the program wrote on the progress descriptor
  // (without its newline). std::nullopt when `deadline` passes first, or when
  // the program has ended and every line it wrote has been returned
  // (`ended()` tells which).
  absl::StatusOr<std::optional<std::string>> NextLine(absl::Time deadline);
  bool ended() const { return ended_; }

  // Kills the program's whole process group (what it started and did not move
  // elsewhere) with SIGKILL, then reaps the program. Also after the program
  // ended by itself: its leftovers go with it. Returns its exit status.
  absl::StatusOr<ExitStatus> KillGroupAndReap();

 private:
  WatchedProgram() = default;
  absl::Status AwaitEndInBackground();

  Pid pid_ = 0;
  bool reaped_ = false;
  bool ended_ = false;
  ExitStatus status_;
  UniqueHandle progress_;
  // Readable once the program has ended (a thread waiting for it, without
  // reaping, closes the write end): pidfds are not on every Linux kernel
  // (gVisor has none).
  UniqueHandle ended_signal_;
  std::string buffer_;
  struct Waiter;
  std::unique_ptr<Waiter> waiter_;
};

// In the watched program: takes ownership of the inherited progress
// descriptor `fd` and makes it close-on-exec, so that the program's own
// children do not inherit it.
absl::StatusOr<UniqueHandle> AdoptProgressDescriptor(int fd);

}  // namespace procspec::platform::testing

#endif  // PROCSPEC_PLATFORM_TESTING_SUPERVISION_H_
