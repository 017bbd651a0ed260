// current_process(): MainProcess in the main process, the child's own Process
// object in a child.
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/handshake.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/module_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/module/functions/functions_testing.h"
#include "platform/platform.h"
#include "process/process.h"
#include "process/spawn.h"

namespace conformance::module_functions {
namespace {

using ::conformance::testing::KillOnExit;
namespace platform = ::procspec::platform;
using ::conformance::module_testing::Facts;
using ::conformance::module_testing::PyStr;
using ::conformance::module_testing::ReportPipe;
using ::conformance::module_testing::ReportWriter;
using ::conformance::testing::JoinAndGetExitcode;

// In the main process current_process() is named MainProcess and is not
// daemonic.
CONFORMANCE_TEST(CurrentProcess, MainIsNamedMainProcess,
                 "module.current_process.main") {
  procspec::Process& main = procspec::current_process();
  EXPECT_EQ(main.name(), "MainProcess");
  EXPECT_FALSE(main.daemon());
  // The same object every time.
  EXPECT_EQ(&procspec::current_process(), &main);
}

// The main process's pid and ident are the own pid; exitcode is None; it is
// alive.
CONFORMANCE_TEST(CurrentProcess, MainPidIsOwnPidAndExitcodeNone,
                 "module.current_process.main") {
  procspec::Process& main = procspec::current_process();
  ASSERT_OK_AND_ASSIGN(std::optional<procspec::Pid> pid, main.pid());
  ASSERT_OK_AND_ASSIGN(std::optional<procspec::Pid> ident, main.ident());
  EXPECT_EQ(pid, std::optional<procspec::Pid>(platform::CurrentPid()));
  EXPECT_EQ(ident, pid);
  ASSERT_OK_AND_ASSIGN(std::optional<int> exitcode, main.exitcode());
  EXPECT_EQ(exitcode, std::nullopt);
  ASSERT_OK_AND_ASSIGN(bool alive, main.is_alive());
  EXPECT_TRUE(alive);
}

// The main process has no parent process, and its repr is CPython's
// _MainProcess repr.
CONFORMANCE_TEST(CurrentProcess, MainHasNoParentAndMainProcessRepr,
                 "module.current_process.main") {
  EXPECT_EQ(procspec::parent_process(), nullptr);
  EXPECT_EQ(procspec::current_process().repr(),
            "<_MainProcess name='MainProcess' parent=None started>");
}

// A child that reports what current_process() says in it, and whether it is
// the object the child runs (under every start method: a forked child runs
// its copy of the parent's object, a spawned one the object rebuilt from the
// bootstrap).
class ModuleReportCurrent : public procspec::Process {
 public:
  ModuleReportCurrent() = default;
  ModuleReportCurrent(ReportWriter report, procspec::Options options)
      : procspec::Process(std::move(options)), report_(report) {}

  void run() override {
    procspec::Process& current = procspec::current_process();
    absl::StatusOr<std::optional<procspec::Pid>> pid = current.pid();
    absl::StatusOr<std::optional<procspec::Pid>> ident = current.ident();
    absl::StatusOr<std::optional<int>> exitcode = current.exitcode();
    absl::StatusOr<bool> alive = current.is_alive();
    const std::optional<procspec::Pid> own_pid = platform::CurrentPid();
    (void)report_.SendFact("is_self", PyStr(&current == this));
    (void)report_.SendFact("name", current.name());
    (void)report_.SendFact("daemon", PyStr(current.daemon()));
    (void)report_.SendFact("pid_is_getpid", PyStr(pid.ok() && *pid == own_pid));
    (void)report_.SendFact("ident_is_getpid",
                           PyStr(ident.ok() && *ident == own_pid));
    (void)report_.SendFact("exitcode", exitcode.ok()
                                           ? PyStr(*exitcode)
                                           : exitcode.status().ToString());
    (void)report_.SendFact(
        "is_alive", alive.ok() ? PyStr(*alive) : alive.status().ToString());
    (void)report_.SendFact("getpid", absl::StrCat(platform::CurrentPid()));
  }

  template <class Archive>
  void serialize(Archive& archive) {
    archive(report_);
  }

 private:
  ReportWriter report_;
};
PROCSPEC_PROCESS_CLASS(ModuleReportCurrent);

// Holds until released, then reports current_process().name.
void ModuleHoldThenReportName(HandshakeChild handshake, ReportWriter report) {
  (void)handshake.SignalReady();
  (void)handshake.WaitForRelease();
  (void)report.SendFact("name", procspec::current_process().name());
}
PROCSPEC_TARGET(ModuleHoldThenReportName);

// Runs `p` (whose target reports through `report`) and returns the facts.
absl::StatusOr<Facts> RunAndCollect(procspec::Process& p, ReportPipe& report) {
  KillOnExit reaper(p);
  if (absl::Status status = p.start(); !status.ok()) return status;
  report.CloseWriteEnd();
  absl::StatusOr<int> code = JoinAndGetExitcode(p);
  if (!code.ok()) return code.status();
  if (*code != 0) return absl::InternalError(absl::StrCat("exitcode ", *code));
  return report.ReadFacts();
}

// In a child current_process() is the child's own Process object: its name,
// its pid (== ident == the child's getpid() == p.pid), not alive-checked from
// outside (is_alive() is True), exitcode None.
CONFORMANCE_TEST(CurrentProcess, InChildDescribesTheNamedChild,
                 "module.current_process.in_child") {
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  ModuleReportCurrent p(report.Writer(), {.name = "worker"});
  ASSERT_OK_AND_ASSIGN(Facts facts, RunAndCollect(p, report));
  ASSERT_OK_AND_ASSIGN(std::optional<procspec::Pid> pid, p.pid());
  ASSERT_TRUE(pid.has_value());
  EXPECT_EQ(facts, (Facts{{"is_self", "True"},
                          {"name", "worker"},
                          {"daemon", "False"},
                          {"pid_is_getpid", "True"},
                          {"ident_is_getpid", "True"},
                          {"exitcode", "None"},
                          {"is_alive", "True"},
                          {"getpid", absl::StrCat(*pid)}}));
}

// A child started with the default name sees that name, and a daemonic child
// sees daemon True.
CONFORMANCE_TEST(CurrentProcess, InChildDefaultNameAndDaemonFlag,
                 "module.current_process.in_child") {
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  ModuleReportCurrent p(report.Writer(), {.daemon = true});
  const std::string name = p.name();
  ASSERT_OK_AND_ASSIGN(Facts facts, RunAndCollect(p, report));
  EXPECT_EQ(facts["name"], name);
  EXPECT_EQ(facts["daemon"], "True");
  EXPECT_EQ(facts["is_self"], "True");
}

// The child has the name p had at start(): renaming p in the parent afterwards
// does not reach the child.
CONFORMANCE_TEST(CurrentProcess, InChildRenameAfterStartDoesNotReachChild,
                 "module.current_process.in_child") {
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  ASSERT_OK_AND_ASSIGN(Handshake handshake, Handshake::Create());
  procspec::Process p(ModuleHoldThenReportName,
                      std::tuple{handshake.ChildSide(), report.Writer()},
                      {.name = "at-start"});
  KillOnExit reaper(p);
  ASSERT_OK(p.start());
  report.CloseWriteEnd();
  ASSERT_OK(handshake.WaitReady());
  p.set_name("renamed-after-start");
  ASSERT_OK(handshake.Release());
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0);
  ASSERT_OK_AND_ASSIGN(Facts facts, report.ReadFacts());
  EXPECT_EQ(facts, (Facts{{"name", "at-start"}}));
  EXPECT_EQ(p.name(), "renamed-after-start");
}

}  // namespace
}  // namespace conformance::module_functions
