// Helpers shared by the lifecycle tests (start, run, join, is_alive,
// exitcode).
#ifndef PROCSPEC_CONFORMANCE_SUITE_PROCESS_LIFECYCLE_LIFECYCLE_TESTING_H_
#define PROCSPEC_CONFORMANCE_SUITE_PROCESS_LIFECYCLE_LIFECYCLE_TESTING_H_

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/harness/handshake.h"
#include "conformance/harness/timeout.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "process/connection.h"
#include "process/errors.h"
#include "process/process.h"
#include "process/system_exit.h"

namespace conformance::lifecycle {

// Registered targets (lifecycle_testing.cc) shared by the lifecycle tests, so
// that every test runs under every start method.
// Returns at once: exit code 0.
void LifecycleNoop();
// Signals the handshake, blocks until released, then exits with `code` (100:
// the signal failed; 101: not released).
void LifecycleBlockThenExit(HandshakeChild handshake, int code);

// UNSUPPORTED unless this instance runs the fork start method: `why` says what
// the test needs that only a forked child has.
inline absl::Status RequireForkStartMethod(std::string_view why) {
  if (StartMethod() == "fork") return absl::OkStatus();
  return Unsupported(absl::StrCat("needs the fork start method: ",
                                  absl::string_view(why.data(), why.size())));
}

// The former names of the shared helpers (child_testing.h), for code written
// against this header; new code uses ::conformance::testing directly.
using ReapOnExit = testing::KillOnExit;
using testing::RequireOwnZombie;

// In a child: ends the child with exit code `code` unless `status` is the
// Python error `type` carrying exactly `message`. Each check in a child uses
// its own code, so the parent's failure message says which check failed.
inline void ExitUnlessError(const absl::Status& status, std::string_view type,
                            std::string_view message, int code) {
  if (procspec::PythonExceptionType(status) != type ||
      std::string(status.message()) != message) {
    procspec::Exit(code);
  }
}

// Waits (up to a generous scaled bound) until `process`'s sentinel is ready,
// i.e. the child has exited, and then until it is reapable (a zombie), without
// joining or reaping it: a pipe sentinel ("posix") fires a moment before the
// exiting child becomes a zombie. Under forkserver the child is the server's:
// its sentinel is ready once the server has reaped it and sent the status.
inline absl::Status WaitForExitWithoutJoin(procspec::Process& process) {
  absl::StatusOr<procspec::Handle> sentinel = process.sentinel();
  if (!sentinel.ok()) return sentinel.status();
  absl::StatusOr<std::vector<procspec::Handle>> ready =
      procspec::connection::wait(
          {*sentinel}, absl::ToDoubleSeconds(ScaledTimeout(absl::Seconds(30))));
  if (!ready.ok()) return ready.status();
  if (ready->size() != 1 || (*ready)[0] != *sentinel) {
    return absl::DeadlineExceededError("the child did not exit");
  }
  absl::StatusOr<std::optional<procspec::Pid>> pid = process.pid();
  if (!pid.ok()) return pid.status();
  if (!pid->has_value()) return absl::InternalError("no pid after start()");
  if (StartMethod() == "forkserver") return absl::OkStatus();
  return procspec::platform::testing::AwaitExitWithoutReaping(**pid);
}

// A child that signals the handshake, blocks until released, then exits with
// `code`.
class BlockedChild {
 public:
  static absl::StatusOr<std::unique_ptr<BlockedChild>> Create(int code) {
    absl::StatusOr<Handshake> handshake = Handshake::Create();
    if (!handshake.ok()) return handshake.status();
    return std::unique_ptr<BlockedChild>(
        new BlockedChild(*std::move(handshake), code));
  }

  procspec::Process& process() { return process_; }
  Handshake& handshake() { return handshake_; }

  // Starts the child and waits until it is blocked.
  absl::Status StartAndWaitReady() {
    if (absl::Status status = process_.start(); !status.ok()) return status;
    return handshake_.WaitReady();
  }
  absl::Status Release() { return handshake_.Release(); }

 private:
  BlockedChild(Handshake handshake, int code)
      : handshake_(std::move(handshake)),
        process_(LifecycleBlockThenExit,
                 std::tuple{handshake_.ChildSide(), code}),
        reap_(process_) {}

  Handshake handshake_;
  procspec::Process process_;
  testing::KillOnExit reap_;
};

// Releases the child; if that fails, kills it, so that a thread blocked in
// join() still returns before the test waits for that thread.
inline absl::Status ReleaseOrKill(BlockedChild& child) {
  absl::Status released = child.Release();
  if (!released.ok()) (void)child.process().kill();
  return released;
}

// Whether active_children() lists the child `pid`.
inline bool IsListedActive(procspec::Pid pid) {
  std::vector<procspec::ChildInfo> live = procspec::active_children();
  return std::any_of(
      live.begin(), live.end(),
      [pid](const procspec::ChildInfo& c) { return c.pid == pid; });
}

}  // namespace conformance::lifecycle

#endif  // PROCSPEC_CONFORMANCE_SUITE_PROCESS_LIFECYCLE_LIFECYCLE_TESTING_H_
