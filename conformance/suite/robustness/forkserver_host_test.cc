// The fork server under a hostile host: a program that ignores SIGCHLD or
// reaps every child behind the library's back, a target that leaves a
// grandchild running. The server is this library's own process: it reaps its
// children by pid on its own SIGCHLD, whatever the host did.
//
// Each scenario runs in a helper forked from the test (so that the host's
// changes stay there), which starts forkserver children of its own and
// reports what it saw.
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/harness/timeout.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/robustness/robustness_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "process/context.h"
#include "process/inherited_handle.h"
#include "process/init.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/testing/child_targets.h"

namespace conformance::robustness {
namespace {

namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;
using ::conformance::testing::JoinSoon;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::ReadLine;
using ::conformance::testing::ReadToEnd;
using ::procspec::InheritedHandle;

// In a helper forked from the test: sets the host's SIGCHLD handling
// ("ignore": SIG_IGN; "reap_all": a handler that reaps every child), starts
// the fork server (by procspec::Init, which forks it and so hands it the
// host's handling, with `fork_server_at_init`; otherwise the first start()
// spawns it), then runs three forkserver children that exit 7.
void RobustnessServeUnderHostSigchld(InheritedHandle report_pipe,
                                     std::string host,
                                     bool fork_server_at_init) {
  Report report;
  const absl::Status set = host == "ignore"
                               ? os::IgnoreSignal(os::ChildSignalNumber())
                               : os::InstallReapAllHandler();
  if (!set.ok()) {
    report.Add("error", set.ToString());
  } else {
    if (fork_server_at_init)
      procspec::Init(0, nullptr, {.start_forkserver = true});
    std::vector<std::string> codes;
    for (int i = 0; i < 3; ++i) {
      procspec::Process p(procspec::testing::ExitWith, std::tuple{7},
                          InContext("forkserver"));
      if (absl::Status s = p.start(); !s.ok()) {
        codes.push_back(s.ToString());
        continue;
      }
      absl::StatusOr<int> code = JoinSoon(p);
      codes.push_back(code.ok() ? absl::StrCat(*code)
                                : code.status().ToString());
    }
    report.Add("codes", absl::StrJoin(codes, ","));
  }
  (void)platform::WriteAll(report_pipe.get(), report.text());
}
PROCSPEC_TARGET(RobustnessServeUnderHostSigchld);

void ExpectServedExitcodes(const std::string& host, bool fork_server_at_init) {
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds pipe, platform::MakePipe());
  procspec::Process helper(
      RobustnessServeUnderHostSigchld,
      std::tuple{InheritedHandle(pipe.write.get()), host, fork_server_at_init},
      InContext("fork"));
  KillOnExit guard(helper);
  ASSERT_OK(helper.start());
  pipe.write.reset();
  ASSERT_OK_AND_ASSIGN(std::string text, ReadToEnd(pipe.read.get()));
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(helper));
  EXPECT_EQ(exitcode, 0) << text;
  std::map<std::string, std::string> report = ParseReport(text);
  EXPECT_EQ(report["error"], "") << text;
  // CPython's server sets its own SIGCHLD handler: each child's real status.
  EXPECT_EQ(report["codes"], "7,7,7") << text;
}

CONFORMANCE_TEST(ForkServerHost, IgnoredSigchldSpawnedServer,
                 "robustness.forkserver.host_sigchld") {
  ExpectServedExitcodes("ignore", /*fork_server_at_init=*/false);
}

CONFORMANCE_TEST(ForkServerHost, IgnoredSigchldForkedServer,
                 "robustness.forkserver.host_sigchld") {
  ExpectServedExitcodes("ignore", /*fork_server_at_init=*/true);
}

CONFORMANCE_TEST(ForkServerHost, ReapAllHandlerForkedServer,
                 "robustness.forkserver.host_sigchld") {
  ExpectServedExitcodes("reap_all", /*fork_server_at_init=*/true);
}

// Forks (outside the library) a process that holds every descriptor of this
// one, the sentinel's pipe end included, until `gate` reaches end of file;
// sends its pid on `pid_pipe` (a line), then exits 0.
void RobustnessLeaveGrandchild(InheritedHandle gate, InheritedHandle pid_pipe) {
  absl::StatusOr<platform::Pid> pid = os::ForkUntilEndOfFile(gate.get());
  (void)platform::WriteAll(pid_pipe.get(),
                           pid.ok() ? absl::StrCat(*pid, "\n") : "error\n");
}
PROCSPEC_TARGET(RobustnessLeaveGrandchild);

// A served child that leaves a grandchild running is over when it exits: the
// server reaps it by pid, not when every copy of its sentinel is closed.
CONFORMANCE_TEST(ForkServerHost, GrandchildDoesNotDelayTheStatus,
                 "robustness.forkserver.grandchild") {
  if (StartMethod() != "forkserver") {
    CONFORMANCE_REQUIRE(Unsupported(
        "only under forkserver does a server reap the child on this "
        "process's behalf"));
  }
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds gate, platform::MakePipe());
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds pid_pipe, platform::MakePipe());
  procspec::Process p(RobustnessLeaveGrandchild,
                      std::tuple{InheritedHandle(gate.read.get()),
                                 InheritedHandle(pid_pipe.write.get())});
  KillOnExit guard(p);
  ASSERT_OK(p.start());
  pid_pipe.write.reset();
  gate.read.reset();
  // A line, not end of file: the grandchild holds the write end too.
  ASSERT_OK_AND_ASSIGN(std::string pid_text, ReadLine(pid_pipe.read.get()));
  platform::Pid grandchild = 0;
  ASSERT_TRUE(absl::SimpleAtoi(pid_text, &grandchild)) << pid_text;
  // The grandchild lives until the gate closes, below: the child itself has
  // exited by now or at once.
  ASSERT_OK(p.join(ScaledTimeout(absl::Seconds(5))));
  const std::string exitcode = ExitcodeText(p.exitcode());
  absl::StatusOr<bool> alive = p.is_alive();
  gate.write.reset();
  // Orphaned: if this process is its subreaper, reap it here.
  absl::StatusOr<platform::Pid> parent = os::ParentOf(grandchild);
  if (parent.ok() && *parent == platform::CurrentPid())
    (void)os::ReapPid(grandchild);
  EXPECT_EQ(exitcode, "0");
  ASSERT_OK(alive);
  EXPECT_FALSE(*alive);
}

}  // namespace
}  // namespace conformance::robustness
