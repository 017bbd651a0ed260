// Helpers for the module functions' and the differential tests: a pipe
// through which children report facts to the test, and the facts themselves
// ("key=value" lines, compared with what python3 prints).
#ifndef PROCSPEC_CONFORMANCE_SUITE_COMMON_MODULE_TESTING_H_
#define PROCSPEC_CONFORMANCE_SUITE_COMMON_MODULE_TESTING_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "conformance/suite/common/child_testing.h"
#include "platform/platform.h"
#include "process/inherited_handle.h"
#include "process/process.h"

namespace conformance::module_testing {

// The former name of the shared guard (child_testing.h), for code written
// against this header; new code uses ::conformance::testing::KillOnExit.
using Reaper = ::conformance::testing::KillOnExit;

// Observed facts by name, e.g. {"exitcode.return": "0"}.
using Facts = std::map<std::string, std::string>;

// Parses "key=value" lines (the value may contain '='); an error names a line
// without '=' or a key seen twice.
absl::StatusOr<Facts> ParseFacts(const std::vector<std::string>& lines);

// A child's side of a ReportPipe: its write end, serializable as a Process
// argument under every start method (a procspec::InheritedHandle).
class ReportWriter {
 public:
  ReportWriter() = default;
  explicit ReportWriter(procspec::platform::NativeHandle handle)
      : handle_(handle) {}
  // As ReportPipe::Send and ReportPipe::SendFact.
  absl::Status Send(std::string_view line) const;
  absl::Status SendFact(std::string_view key, std::string_view value) const;

  template <class Archive>
  void serialize(Archive& archive) {
    archive(handle_);
  }

 private:
  procspec::InheritedHandle handle_;
};

// One pipe through which children (and their children) send lines to the test.
// Create it before start(): under fork every child inherits the write end.
//   child:  report->Send("pid=123");
//   parent: report->CloseWriteEnd();  // after starting every reporter
//           ... join ...  report->ReadLines()
class ReportPipe {
 public:
  static absl::StatusOr<ReportPipe> Create();

  ReportPipe(ReportPipe&&) = default;
  ReportPipe& operator=(ReportPipe&&) = default;

  // In a child: writes `line` and a newline in one write (atomic below
  // PIPE_BUF, so lines of several children do not interleave).
  absl::Status Send(std::string_view line) const;
  // Sends "key=value".
  absl::Status SendFact(std::string_view key, std::string_view value) const;
  // The write end, to pass as a Process argument (before CloseWriteEnd()).
  ReportWriter Writer() const { return ReportWriter(ends_.write.get()); }

  // In the parent, once every child that reports has been started: closes the
  // parent's write end, so that ReadLines() sees end of file when the children
  // are done.
  void CloseWriteEnd();
  // In the parent: every line sent until each writer closed its end, waiting
  // at most ScaledTimeout(30 s) in all (DeadlineExceeded after that).
  absl::StatusOr<std::vector<std::string>> ReadLines();
  // ReadLines() parsed as facts.
  absl::StatusOr<Facts> ReadFacts();

 private:
  ReportPipe() = default;
  procspec::platform::PipeEnds ends_;
};

// Python's str() of common values, so that C++ facts read like Python's.
std::string PyStr(bool value);
std::string PyStr(const std::optional<int>& value);

// Waits (event-driven, at most ScaledTimeout(30 s)) until the sentinel of a
// started process is ready, i.e. the child has ended, without reaping it.
absl::Status WaitUntilEnded(procspec::Process& process);

}  // namespace conformance::module_testing

#endif  // PROCSPEC_CONFORMANCE_SUITE_COMMON_MODULE_TESTING_H_
