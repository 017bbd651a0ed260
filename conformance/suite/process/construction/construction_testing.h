// Helpers for the construction area's tests: a guard that never leaves a child
// behind, and a pipe through which a child reports what it saw.
#ifndef PROCSPEC_CONFORMANCE_SUITE_PROCESS_CONSTRUCTION_CONSTRUCTION_TESTING_H_
#define PROCSPEC_CONFORMANCE_SUITE_PROCESS_CONSTRUCTION_CONSTRUCTION_TESTING_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "conformance/harness/timeout.h"
#include "conformance/suite/common/child_testing.h"
#include "platform/platform.h"
#include "process/inherited_handle.h"
#include "process/process.h"

namespace conformance::construction_testing {

// A pipe from children to the test. Create it before start(), call
// CloseWriteEnd() in the parent right after start() (so that end of file comes
// when the last child holding it exits), then ReadAll().
class ReportPipe {
 public:
  static absl::StatusOr<ReportPipe> Create() {
    absl::StatusOr<procspec::platform::PipeEnds> ends =
        procspec::platform::MakePipe();
    if (!ends.ok()) return ends.status();
    ReportPipe pipe;
    pipe.ends_ = *std::move(ends);
    return pipe;
  }

  // In a child: writes `text` in one write (atomic for short texts, so lines
  // from several processes do not interleave). Errors are ignored: the parent
  // sees the missing text.
  void Send(std::string_view text) const {
    (void)procspec::platform::WriteAll(ends_.write.get(), text);
  }
  void SendLine(std::string_view text) const {
    Send(absl::StrCat(std::string(text), "\n"));
  }

  // The write end as a Process argument, for a registered target (every start
  // method); the child reports with SendTo / SendLineTo.
  procspec::InheritedHandle ChildEnd() const {
    return procspec::InheritedHandle(ends_.write.get());
  }

  void CloseWriteEnd() { ends_.write.reset(); }

  // In the parent: all the children wrote, up to end of file. DeadlineExceeded
  // if a writer keeps the pipe open longer than `timeout` (scaled).
  absl::StatusOr<std::string> ReadAll(
      absl::Duration timeout = absl::Seconds(30)) {
    CloseWriteEnd();
    return testing::ReadToEnd(ends_.read.get(), ScaledTimeout(timeout));
  }

 private:
  ReportPipe() = default;
  procspec::platform::PipeEnds ends_;
};

// In a child that received ReportPipe::ChildEnd(): as ReportPipe::Send and
// ReportPipe::SendLine.
inline void SendTo(const procspec::InheritedHandle& out,
                   std::string_view text) {
  (void)procspec::platform::WriteAll(out.get(), text);
}
inline void SendLineTo(const procspec::InheritedHandle& out,
                       std::string_view text) {
  SendTo(out, absl::StrCat(std::string(text), "\n"));
}

// N in a default name "<prefix>-N" (one component), or nullopt if `name` does
// not have that form.
inline std::optional<int> DefaultNameNumber(const std::string& name,
                                            std::string_view prefix) {
  const std::string head = absl::StrCat(std::string(prefix), "-");
  if (name.rfind(head, 0) != 0) return std::nullopt;
  int number = 0;
  if (!absl::SimpleAtoi(name.substr(head.size()), &number) || number < 1) {
    return std::nullopt;
  }
  return number;
}

}  // namespace conformance::construction_testing

#endif  // PROCSPEC_CONFORMANCE_SUITE_PROCESS_CONSTRUCTION_CONSTRUCTION_TESTING_H_
