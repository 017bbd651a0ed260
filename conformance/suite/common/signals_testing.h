// Helpers shared by the signals area's tests: children that block until a
// signal ends them, line-based reports from children through pipes, and guards
// that leave no child or orphan behind when a test fails half-way.
#ifndef PROCSPEC_CONFORMANCE_SUITE_COMMON_SIGNALS_TESTING_H_
#define PROCSPEC_CONFORMANCE_SUITE_COMMON_SIGNALS_TESTING_H_

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "conformance/harness/timeout.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "process/process.h"

namespace conformance::signals_testing {

namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;
using ::procspec::Pid;

// How long a test waits for an event that should come at once (scaled for slow
// or sanitizer builds). Only a failing test ever waits this long.
inline absl::Duration EventTimeout() {
  return ScaledTimeout(absl::Seconds(10));
}

// In a child: blocks until a signal ends the process. poll() on no
// descriptors with no timeout: nothing but a signal can end it.
[[noreturn]] inline void BlockUntilKilled() {
  while (true) (void)platform::WaitReadable({}, absl::InfiniteFuture());
}

// In a child: blocks until `handle` (a pipe's read end) has a byte or is at end
// of file.
inline void WaitForByteOrEof(platform::NativeHandle handle) {
  (void)platform::ReadSome(handle, 1);
}

// In a child: writes `line` and a newline to `handle`; errors are ignored (the
// parent sees a missing line).
inline void SendLine(platform::NativeHandle handle, const std::string& line) {
  (void)platform::WriteAll(handle, line + "\n");
}

// In the parent: reads one line (without its newline) from `handle`, waiting at
// most `timeout`. OutOfRange at end of file, DeadlineExceeded on timeout; both
// say what had been read.
inline absl::StatusOr<std::string> ReadLine(
    platform::NativeHandle handle, absl::Duration timeout = EventTimeout()) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string line;
  while (true) {
    const platform::NativeHandle handles[] = {handle};
    absl::StatusOr<std::vector<std::size_t>> ready =
        platform::WaitReadable(handles, deadline);
    if (!ready.ok()) return ready.status();
    if (ready->empty()) {
      return absl::DeadlineExceededError(
          absl::StrCat("no complete line in time; read '", line, "'"));
    }
    absl::StatusOr<std::string> byte = platform::ReadSome(handle, 1);
    if (!byte.ok()) return byte.status();
    if (byte->empty()) {
      return absl::OutOfRangeError(
          absl::StrCat("end of file before a newline; read '", line, "'"));
    }
    if ((*byte)[0] == '\n') return line;
    line += *byte;
  }
}

// In the parent: reads until end of file, waiting at most `timeout` in all.
inline absl::StatusOr<std::string> ReadToEnd(
    platform::NativeHandle handle, absl::Duration timeout = EventTimeout()) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string data;
  while (true) {
    const platform::NativeHandle handles[] = {handle};
    absl::StatusOr<std::vector<std::size_t>> ready =
        platform::WaitReadable(handles, deadline);
    if (!ready.ok()) return ready.status();
    if (ready->empty()) {
      return absl::DeadlineExceededError(
          absl::StrCat("no end of file in time; read '", data, "'"));
    }
    absl::StatusOr<std::string> chunk = platform::ReadSome(handle, 4096);
    if (!chunk.ok()) return chunk.status();
    if (chunk->empty()) return data;
    data += *chunk;
  }
}

// In the parent: reads a line holding a pid.
inline absl::StatusOr<Pid> ReadPid(platform::NativeHandle handle) {
  absl::StatusOr<std::string> line = ReadLine(handle);
  if (!line.ok()) return line.status();
  Pid pid = 0;
  if (!absl::SimpleAtoi(*line, &pid) || pid <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("not a pid: '", *line, "'"));
  }
  return pid;
}

// In the parent: starts `process`, whose target sends "ready" on `ready` once
// it runs, closes the parent's copy of the write end (so that a child dying
// early shows as end of file) and waits for that line.
inline absl::Status StartAndAwaitReady(procspec::Process& process,
                                       platform::PipeEnds& ready) {
  if (absl::Status status = process.start(); !status.ok()) return status;
  ready.write.reset();
  absl::StatusOr<std::string> line = ReadLine(ready.read.get());
  if (!line.ok()) return line.status();
  if (*line != "ready") {
    return absl::InternalError(
        absl::StrCat("expected 'ready' from the child, got '", *line, "'"));
  }
  return absl::OkStatus();
}

// The pid of a started process (0 if it has none).
inline Pid PidOf(const procspec::Process& process) {
  absl::StatusOr<std::optional<Pid>> pid = process.pid();
  return pid.ok() && pid->has_value() ? **pid : 0;
}

// Joins `process` for at most EventTimeout() and returns its exitcode; an error
// if it is still running then, so that a child the library fails to end fails
// the test instead of hanging it.
inline absl::StatusOr<int> JoinSoon(procspec::Process& process) {
  if (absl::Status status = process.join(EventTimeout()); !status.ok())
    return status;
  absl::StatusOr<std::optional<int>> exitcode = process.exitcode();
  if (!exitcode.ok()) return exitcode.status();
  if (!exitcode->has_value()) {
    return absl::DeadlineExceededError(
        absl::StrCat("process ", process.name(), " still running after ",
                     absl::FormatDuration(EventTimeout())));
  }
  return **exitcode;
}

// Kills (SIGKILL) and joins `process` when the scope ends if it was started, so
// a test that fails half-way leaves no child behind. Harmless after a join. The
// signal goes straight to the OS, not through the kill() under test, and only
// to a child not yet reaped (whose pid cannot have been reused).
class KillOnExit {
 public:
  explicit KillOnExit(procspec::Process& process) : process_(process) {}
  KillOnExit(const KillOnExit&) = delete;
  KillOnExit& operator=(const KillOnExit&) = delete;
  ~KillOnExit() {
    const Pid pid = PidOf(process_);
    if (pid == 0) return;
    absl::StatusOr<std::optional<int>> exitcode = process_.exitcode();
    if (!exitcode.ok()) return;
    if (!exitcode->has_value()) {
      (void)os::SignalPid(pid, os::KillSignalNumber());
    }
    (void)process_.join();
  }

 private:
  procspec::Process& process_;
};

// A descendant that is expected to be re-parented to this test process (a
// child subreaper): when the scope ends, kills it and, if it is then this
// process's child, reaps it. Declare it before the KillOnExit of the
// descendant's parent, so that the parent has been reaped (and the orphan
// re-parented) by the time this runs. Call Forget() once the test has reaped
// it.
class OrphanGuard {
 public:
  OrphanGuard() = default;
  OrphanGuard(const OrphanGuard&) = delete;
  OrphanGuard& operator=(const OrphanGuard&) = delete;
  ~OrphanGuard() {
    if (pid_ <= 0) return;
    if (!os::ParentOf(pid_).ok()) return;
    (void)os::SignalPid(pid_, os::KillSignalNumber());
    absl::StatusOr<Pid> parent = os::ParentOf(pid_);
    if (parent.ok() && *parent == platform::CurrentPid())
      (void)os::ReapPid(pid_);
  }
  void Watch(Pid pid) { pid_ = pid; }
  void Forget() { pid_ = 0; }

 private:
  Pid pid_ = 0;
};

}  // namespace conformance::signals_testing

#endif  // PROCSPEC_CONFORMANCE_SUITE_COMMON_SIGNALS_TESTING_H_
