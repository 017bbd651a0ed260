// Helpers shared by the robustness tests (faults, signal storms, stress, pid
// reuse, forking with threads): registered targets, so that every test runs
// under every start method, and "key=value" reports that a child writes to a
// pipe for the parent's assertions.
#ifndef PROCSPEC_CONFORMANCE_SUITE_ROBUSTNESS_ROBUSTNESS_TESTING_H_
#define PROCSPEC_CONFORMANCE_SUITE_ROBUSTNESS_ROBUSTNESS_TESTING_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "conformance/harness/handshake.h"
#include "platform/platform.h"
#include "platform/testing/fault_injection.h"
#include "process/inherited_handle.h"
#include "process/process.h"

namespace conformance::robustness {

// Signals the handshake, blocks until released, then exits with `code` (100:
// the signal failed; 101: not released).
void RobustnessBlockThenExit(HandshakeChild handshake, int code);
// Blocks until a signal ends it.
void RobustnessBlockUntilKilled();
// Closes its copy of `gate_write`, waits for end of file on `gate_read` (every
// copy of the write end closed: the parent has started every sibling), then
// exits with `code`.
void RobustnessGatedExit(procspec::InheritedHandle gate_read,
                         procspec::InheritedHandle gate_write, int code);

// On a helper thread of a signal-storm test: blocks the storm's signal in this
// thread (so the ticks interrupt the thread under test, e.g. one blocked in
// join(), and later in Lock.acquire, Queue.get or Connection.recv), then reads
// `count` ticks; returns how many it read (fewer only if the pipe failed).
int AwaitStormTicks(const procspec::platform::testing::SignalStorm& storm,
                    int count);

// A child's report: lines "key=value" (values without newlines).
class Report {
 public:
  void Add(absl::string_view key, absl::string_view value);
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};
// The parent's view of a report; a key reported twice keeps its last value.
std::map<std::string, std::string> ParseReport(absl::string_view text);

// Runs `body` in a process that is pid 1 of a new PID namespace (a test that
// needs to reuse a pid on purpose), with LeakSanitizer off there: it reads
// /proc/<pid>/task, and the /proc the namespace sees is the outer one's.
// Returns how that process ended and the report `body` made.
struct NamespaceRun {
  procspec::platform::ExitStatus status;
  std::string report_text;
};
absl::StatusOr<NamespaceRun> RunReportInNewPidNamespace(
    absl::FunctionRef<void(Report&)> body);

// What a report says of an exit code: the number, "None", or the error.
std::string ExitcodeText(const absl::StatusOr<std::optional<int>>& code);
std::string ExitcodeText(procspec::Process& p);
// What a report says of a pid: the number, "None", or the error.
std::string PidText(procspec::Process& p);
// The options of a Process started under `method` ("fork", "spawn", ...).
procspec::Options InContext(const char* method);

// The descriptors this process has now that `before` did not list, described.
std::vector<std::string> NewDescriptors(
    const std::vector<procspec::platform::NativeHandle>& before);
// This process's children (live or zombie) now that `before` did not list.
std::vector<std::string> NewChildren(
    const std::vector<procspec::platform::Pid>& before);
// The pids of this process's children now.
absl::StatusOr<std::vector<procspec::platform::Pid>> ChildPids();

// The entries of /dev/shm named "procspec..." (the "posix" backend's shared
// memory names are "procspec-<pid>-<random>"), by name; none if there is no
// /dev/shm.
std::vector<std::string> ProcspecDevShmEntries();
// Those of `now` that `before` did not list and that a process of `pids` made
// (named "procspec-<pid>-"); other programs' entries are not ours to judge.
std::vector<std::string> NewDevShmEntriesOf(
    const std::vector<std::string>& before, const std::vector<std::string>& now,
    const std::vector<procspec::platform::Pid>& pids);

}  // namespace conformance::robustness

#endif  // PROCSPEC_CONFORMANCE_SUITE_ROBUSTNESS_ROBUSTNESS_TESTING_H_
