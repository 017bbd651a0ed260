// Helpers shared by the sync area's tests: children that hold a
// primitive until released or killed, reports through pipes, and one-sided
// timing.
#ifndef PROCSPEC_CONFORMANCE_SUITE_SYNC_SYNC_TESTING_H_
#define PROCSPEC_CONFORMANCE_SUITE_SYNC_SYNC_TESTING_H_

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "conformance/suite/common/child_testing.h"
#include "platform/platform.h"
#include "process/errors.h"
#include "process/inherited_handle.h"
#include "process/process.h"

namespace conformance::sync_testing {

// "<Python exception type>: <message>", or "OK".
inline std::string Describe(const absl::Status& status) {
  if (status.ok()) return "OK";
  return absl::StrCat(procspec::PythonExceptionType(status), ": ",
                      std::string(status.message()));
}

// How long `call` took.
inline absl::Duration TimeOf(const std::function<void()>& call) {
  const absl::Time start = absl::Now();
  call();
  return absl::Now() - start;
}

// The entries of /dev/shm, sorted (empty where there is no such directory).
inline std::vector<std::string> DevShmEntries() {
  std::vector<std::string> names;
  std::error_code error;
  for (std::filesystem::directory_iterator it("/dev/shm", error), end;
       !error && it != end; it.increment(error)) {
    names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Starts `child`, joins it (within the event timeout) and returns its exit
// code. Kills it if it still runs.
inline absl::StatusOr<int> StartAndJoin(procspec::Process& child) {
  ::conformance::testing::KillOnExit guard(child);
  if (absl::Status status = child.start(); !status.ok()) return status;
  return ::conformance::testing::JoinSoon(child);
}

// StartAndJoin(child)'s exit code, or -1 where it failed.
inline int RunToExitcode(procspec::Process& child) {
  absl::StatusOr<int> exitcode = StartAndJoin(child);
  return exitcode.ok() ? *exitcode : -1;
}

// A started child that reports through a pipe: its target gets the pipe's
// write end after `args`, and the parent reads its lines. The child is killed
// when this goes out of scope if it still runs.
class ReportingChild {
 public:
  // Makes the pipe, starts `target(args..., out)` and closes the parent's copy
  // of the write end.
  template <typename Target, typename... Args>
  static absl::StatusOr<std::unique_ptr<ReportingChild>> Start(Target target,
                                                               Args... args) {
    absl::StatusOr<procspec::platform::PipeEnds> out =
        procspec::platform::MakePipe();
    if (!out.ok()) return out.status();
    std::unique_ptr<ReportingChild> child(new ReportingChild(
        *std::move(out), std::move(target), std::move(args)...));
    if (absl::Status status = child->process_.start(); !status.ok()) {
      return status;
    }
    child->out_.write.reset();
    return child;
  }

  ReportingChild(const ReportingChild&) = delete;
  ReportingChild& operator=(const ReportingChild&) = delete;

  // The next line the child sent.
  absl::StatusOr<std::string> ReadLine() {
    return ::conformance::testing::ReadLine(out_.read.get());
  }
  // Joins the child (within the event timeout) and returns its exit code.
  absl::StatusOr<int> Join() {
    return ::conformance::testing::JoinSoon(process_);
  }

  procspec::Process& process() { return process_; }
  procspec::platform::NativeHandle read_end() const { return out_.read.get(); }

 private:
  template <typename Target, typename... Args>
  ReportingChild(procspec::platform::PipeEnds out, Target target, Args... args)
      : out_(std::move(out)),
        process_(std::move(target),
                 std::tuple{std::move(args)...,
                            procspec::InheritedHandle(out_.write.get())}),
        guard_(process_) {}

  procspec::platform::PipeEnds out_;
  procspec::Process process_;
  ::conformance::testing::KillOnExit guard_;
};

}  // namespace conformance::sync_testing

#endif  // PROCSPEC_CONFORMANCE_SUITE_SYNC_SYNC_TESTING_H_
