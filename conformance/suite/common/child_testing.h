// Helpers for tests that start children, shared by every area: the guard that
// leaves no child behind when a test fails half-way, bounded joins, children
// that block until killed or released, and line-based reports from children
// through pipes. Everything is event-driven (poll on descriptors), never a
// sleep.
#ifndef PROCSPEC_CONFORMANCE_SUITE_COMMON_CHILD_TESTING_H_
#define PROCSPEC_CONFORMANCE_SUITE_COMMON_CHILD_TESTING_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/harness/timeout.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "process/process.h"

namespace conformance::testing {

// How long a test waits for an event that should come at once (scaled for slow
// or sanitizer builds). Only a failing test ever waits this long.
inline absl::Duration EventTimeout() {
  return ScaledTimeout(absl::Seconds(10));
}

// The pid of a started process (0 if it has none, or is closed).
inline procspec::Pid PidOf(const procspec::Process& process) {
  absl::StatusOr<std::optional<procspec::Pid>> pid = process.pid();
  return pid.ok() && pid->has_value() ? **pid : 0;
}

// Joins `process` for at most EventTimeout() and returns its exitcode; an error
// if it is still running then, so that a child the library fails to end fails
// the test instead of hanging it.
inline absl::StatusOr<int> JoinSoon(procspec::Process& process) {
  if (absl::Status status = process.join(EventTimeout()); !status.ok()) {
    return status;
  }
  absl::StatusOr<std::optional<int>> exitcode = process.exitcode();
  if (!exitcode.ok()) return exitcode.status();
  if (!exitcode->has_value()) {
    return absl::DeadlineExceededError(
        absl::StrCat("process ", process.name(), " still running after ",
                     absl::FormatDuration(EventTimeout())));
  }
  return **exitcode;
}

// Kills (SIGKILL) and joins `process` when the scope ends if it was started and
// has not been reaped, so that a test that fails half-way (a failed ASSERT
// included) leaves neither a running child nor a zombie behind. Harmless after
// a join, and for an object never started or already closed. The signal goes
// straight to the OS, not through the kill() under test, and only to a child
// whose exit has not been seen (whose pid cannot have been reused).
class KillOnExit {
 public:
  explicit KillOnExit(procspec::Process& process) : process_(process) {}
  KillOnExit(const KillOnExit&) = delete;
  KillOnExit& operator=(const KillOnExit&) = delete;
  ~KillOnExit() {
    const procspec::Pid pid = PidOf(process_);
    if (pid == 0) return;
    absl::StatusOr<std::optional<int>> exitcode = process_.exitcode();
    if (!exitcode.ok()) return;
    if (!exitcode->has_value()) {
      (void)procspec::platform::testing::SignalPid(
          pid, procspec::platform::testing::KillSignalNumber());
    }
    (void)process_.join();
  }

 private:
  procspec::Process& process_;
};

// UNSUPPORTED under forkserver, whose server (not this process) reaps the
// child, so that no zombie of this process is there to observe.
inline absl::Status RequireOwnZombie() {
  if (StartMethod() != "forkserver") return absl::OkStatus();
  return Unsupported(
      "under forkserver the fork server reaps the child: this process never "
      "has it as a zombie");
}

// ---- In a child ----

// Blocks until a signal ends the process. poll() on no descriptors with no
// timeout: nothing but a signal can end it.
[[noreturn]] inline void BlockUntilKilled() {
  while (true) {
    (void)procspec::platform::WaitReadable({}, absl::InfiniteFuture());
  }
}

// Blocks until `handle` (a pipe's read end) has a byte or is at end of file.
inline void WaitForByteOrEof(procspec::platform::NativeHandle handle) {
  (void)procspec::platform::ReadSome(handle, 1);
}

// Writes `line` and a newline to `handle` in one write (atomic below PIPE_BUF,
// so that lines of several children do not interleave).
inline absl::Status WriteLine(procspec::platform::NativeHandle handle,
                              const std::string& line) {
  return procspec::platform::WriteAll(handle, line + "\n");
}

// WriteLine with the error ignored (the parent sees a missing line).
inline void SendLine(procspec::platform::NativeHandle handle,
                     const std::string& line) {
  (void)WriteLine(handle, line);
}

// ---- In the parent ----

// Reads from `handle` until `done(data)` says the data is complete or end of
// file, waiting at most until `deadline`. DeadlineExceeded on timeout.
template <typename Done>
absl::StatusOr<std::string> ReadUntil(procspec::platform::NativeHandle handle,
                                      absl::Time deadline, std::size_t chunk,
                                      Done done, bool& at_eof) {
  std::string data;
  at_eof = false;
  while (!done(data)) {
    const procspec::platform::NativeHandle handles[] = {handle};
    absl::StatusOr<std::vector<std::size_t>> ready =
        procspec::platform::WaitReadable(handles, deadline);
    if (!ready.ok()) return ready.status();
    if (ready->empty()) {
      return absl::DeadlineExceededError(
          absl::StrCat("nothing more in time; read '", data, "'"));
    }
    absl::StatusOr<std::string> more =
        procspec::platform::ReadSome(handle, chunk);
    if (!more.ok()) return more.status();
    if (more->empty()) {
      at_eof = true;
      break;
    }
    data += *more;
  }
  return data;
}

// Reads one line (without its newline) from `handle`, waiting at most
// `timeout`. OutOfRange at end of file, DeadlineExceeded on timeout; both say
// what had been read.
inline absl::StatusOr<std::string> ReadLine(
    procspec::platform::NativeHandle handle,
    absl::Duration timeout = EventTimeout()) {
  bool at_eof = false;
  // One byte at a time: nothing after the newline is consumed.
  absl::StatusOr<std::string> line = ReadUntil(
      handle, absl::Now() + timeout, 1,
      [](const std::string& data) {
        return !data.empty() && data.back() == '\n';
      },
      at_eof);
  if (!line.ok()) return line.status();
  if (at_eof) {
    return absl::OutOfRangeError(
        absl::StrCat("end of file before a newline; read '", *line, "'"));
  }
  line->pop_back();
  return line;
}

// Reads until end of file, waiting at most `timeout` in all.
inline absl::StatusOr<std::string> ReadToEnd(
    procspec::platform::NativeHandle handle,
    absl::Duration timeout = EventTimeout()) {
  bool at_eof = false;
  return ReadUntil(
      handle, absl::Now() + timeout, 4096,
      [](const std::string&) { return false; }, at_eof);
}

// Reads a line holding a pid.
inline absl::StatusOr<procspec::Pid> ReadPid(
    procspec::platform::NativeHandle handle) {
  absl::StatusOr<std::string> line = ReadLine(handle);
  if (!line.ok()) return line.status();
  procspec::Pid pid = 0;
  if (!absl::SimpleAtoi(*line, &pid) || pid <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("not a pid: '", *line, "'"));
  }
  return pid;
}

// Starts `process`, whose target sends "ready" on `ready` once it runs, closes
// the parent's copy of the write end (so that a child dying early shows as end
// of file) and waits for that line.
inline absl::Status StartAndAwaitReady(procspec::Process& process,
                                       procspec::platform::PipeEnds& ready) {
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

}  // namespace conformance::testing

#endif  // PROCSPEC_CONFORMANCE_SUITE_COMMON_CHILD_TESTING_H_
