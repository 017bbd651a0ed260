// What start() does around the fork: flushes the standard streams, releases
// the parent's target and args, gives the child the null device as standard
// input; and what the child inherits: the authkey.
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "conformance/harness/child_entry.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/harness/timeout.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/process/construction/construction_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "process/inherited_handle.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"

namespace conformance {
namespace {

using ::conformance::testing::JoinAndGetExitcode;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::RunChildEntry;
using construction_testing::ReportPipe;
using construction_testing::SendTo;
using procspec::InheritedHandle;
namespace os = ::procspec::platform::testing;

// ---- process.start.flushes_std_streams ----

void StartPrintChild() { std::printf("child\n"); }
PROCSPEC_TARGET(StartPrintChild);

// Prints without flushing and returns: its exit flushes it.
void StartPrintUnflushed() {
  std::printf("child printf\n");
  std::cout << "child cout\n";
  std::cerr << "child cerr\n";
}
PROCSPEC_TARGET(StartPrintUnflushed);

CONFORMANCE_CHILD_ENTRY(construction_unflushed_output) {
  // stdout is a pipe here (RunChildEntry captures it): fully buffered, so
  // nothing below reaches it before a flush.
  std::cout << "cout before start\n";
  std::printf("printf before start\n");
  std::fprintf(stderr, "stderr before start\n");
  procspec::Process p(StartPrintChild);
  if (!p.start().ok()) return 100;
  absl::StatusOr<int> exitcode = conformance::testing::JoinAndGetExitcode(p);
  if (!exitcode.ok() || *exitcode != 0) return 101;
  std::printf("after join\n");
  return 0;
}

// Text printed (and buffered) before start() appears exactly once, before
// anything the child prints: start() flushed it, so the child's exit does not
// write its copy again.
CONFORMANCE_TEST(Start, FlushesBufferedOutputBeforeForking,
                 "process.start.flushes_std_streams") {
  ASSERT_OK_AND_ASSIGN(os::CommandResult result,
                       RunChildEntry("construction_unflushed_output"));
  EXPECT_EQ(result.status.exitcode(), 0) << result.err;
  EXPECT_EQ(result.out,
            "cout before start\nprintf before start\nchild\nafter join\n");
  EXPECT_EQ(result.err, "stderr before start\n");
}

CONFORMANCE_CHILD_ENTRY(construction_child_output_at_exit) {
  procspec::Process p(StartPrintUnflushed);
  if (!p.start().ok()) return 100;
  absl::StatusOr<int> exitcode = conformance::testing::JoinAndGetExitcode(p);
  if (!exitcode.ok() || *exitcode != 0) return 101;
  std::printf("parent after join\n");
  return 0;
}

// The child flushes its own streams when it exits normally: its unflushed
// output appears once, before the parent's output that follows the join.
CONFORMANCE_TEST(Start, ChildFlushesItsStreamsAtExit,
                 "process.start.flushes_std_streams") {
  ASSERT_OK_AND_ASSIGN(os::CommandResult result,
                       RunChildEntry("construction_child_output_at_exit"));
  EXPECT_EQ(result.status.exitcode(), 0) << result.err;
  EXPECT_EQ(result.out, "child printf\nchild cout\nparent after join\n");
  EXPECT_EQ(result.err, "child cerr\n");
}

// ---- process.start.releases_target_args ----

void StartReportShared(InheritedHandle out, const std::shared_ptr<int>& value) {
  SendTo(out, absl::StrCat(value == nullptr ? -1 : *value));
}
PROCSPEC_TARGET(StartReportShared);

// Calls of StartCountCall in this process.
int g_start_calls = 0;
void StartCountCall() { ++g_start_calls; }
PROCSPEC_TARGET(StartCountCall);

// A std::shared_ptr among the args of a registered target: the parent's
// copies held by the Process are dropped when start() succeeds, while the
// child still has its own.
CONFORMANCE_TEST(Start, ReleasesArgsInTheParent,
                 "process.start.releases_target_args") {
  auto token = std::make_shared<int>(7);
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process p(StartReportShared, std::tuple{report.ChildEnd(), token});
  // The args, and for a registered target their copy converted for sending.
  EXPECT_GE(token.use_count(), 2) << "the Process holds a copy until start()";
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  EXPECT_EQ(token.use_count(), 1) << "start() kept the parent's copy of args";
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(seen, "7");
}

// A std::shared_ptr among the args of a lambda (one copy held): the parent's
// copy held by the Process is dropped when start() succeeds, while the child
// still has its own.
CONFORMANCE_TEST(Start, ReleasesLambdaArgsInTheParent,
                 "process.start.releases_target_args") {
  CONFORMANCE_REQUIRE(
      StartMethod() == "fork"
          ? absl::OkStatus()
          : Unsupported("needs the fork start method: a lambda target only a "
                        "forked child can run"));
  auto token = std::make_shared<int>(7);
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  auto target = [&report](const std::shared_ptr<int>& value) {
    report.Send(absl::StrCat(value == nullptr ? -1 : *value));
  };
  procspec::Process p(target, std::tuple{token});
  EXPECT_EQ(token.use_count(), 2) << "the Process holds a copy until start()";
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  EXPECT_EQ(token.use_count(), 1) << "start() kept the parent's copy of args";
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(seen, "7");
}

// The target itself (here a lambda owning a std::shared_ptr) is destroyed in
// the parent by start() too.
CONFORMANCE_TEST(Start, ReleasesTheTargetInTheParent,
                 "process.start.releases_target_args") {
  CONFORMANCE_REQUIRE(
      StartMethod() == "fork"
          ? absl::OkStatus()
          : Unsupported("needs the fork start method: a target that owns "
                        "state (a capturing lambda) only a forked child can "
                        "run; a registered function owns nothing to release"));
  auto token = std::make_shared<int>(9);
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process p([token, &report] { report.Send(absl::StrCat(*token)); });
  EXPECT_EQ(token.use_count(), 2);
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  EXPECT_EQ(token.use_count(), 1) << "start() kept the parent's target";
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(seen, "9");
}

// Calling run() in the parent after start() finds no target: nothing is
// called (CPython: AttributeError '_target'); before start() it calls it.
CONFORMANCE_TEST(Start, RunInTheParentAfterStartCallsNothing,
                 "process.start.releases_target_args") {
  g_start_calls = 0;
  procspec::Process p(StartCountCall);
  p.run();
  EXPECT_EQ(g_start_calls, 1)
      << "run() before start() calls the target in the caller";
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  p.run();
  EXPECT_EQ(g_start_calls, 1) << "run() after start() called the target again";
}

// ---- process.start.stdin_null_device ----

// Exit codes of the stdin probe's child, one per way it can see a real stdin.
constexpr int kStdinNotNullDevice = 2;
constexpr int kStdinRawReadGotData = 3;
constexpr int kStdinStdioNotEof = 4;
constexpr int kStdinIostreamNotEof = 5;

int ProbeStdinInChild() {
  if (os::DescribeDescriptor(0) != "/dev/null") return kStdinNotNullDevice;
  absl::StatusOr<std::string> raw = procspec::platform::ReadSome(0, 64);
  if (!raw.ok() || !raw->empty()) return kStdinRawReadGotData;
  if (std::fgetc(stdin) != EOF) return kStdinStdioNotEof;
  if (std::cin.get() != std::char_traits<char>::eof()) {
    return kStdinIostreamNotEof;
  }
  return 0;
}

void StartProbeStdin() {
  if (const int code = ProbeStdinInChild(); code != 0) procspec::Exit(code);
}
PROCSPEC_TARGET(StartProbeStdin);

CONFORMANCE_CHILD_ENTRY(construction_stdin_probe) {
  // Run with a pipe holding data as standard input; the child must not see it.
  if (os::DescribeDescriptor(0).rfind("pipe:", 0) != 0) {
    std::printf("stdin of the entry is %s, not a pipe\n",
                os::DescribeDescriptor(0).c_str());
    return 10;
  }
  procspec::Process p(StartProbeStdin);
  if (!p.start().ok()) return 100;
  absl::StatusOr<int> exitcode = conformance::testing::JoinAndGetExitcode(p);
  // The data is still all there: the child consumed none of it.
  absl::StatusOr<std::string> data = procspec::platform::ReadSome(0, 4096);
  std::printf("child=%d parent-stdin=%s\n", exitcode.ok() ? *exitcode : -1000,
              data.ok() ? data->c_str() : "<error>");
  return 0;
}

// The child's standard input is the null device: a raw read of descriptor 0,
// stdio and iostreams all get end of file at once, although the parent's stdin
// is a pipe with data in it (which stays unread).
CONFORMANCE_TEST(Start, ChildStdinIsTheNullDevice,
                 "process.start.stdin_null_device") {
  // The probe tells the null device by its name in /proc/self/fd
  // (DescribeDescriptor) and reads descriptor 0: a host without /proc
  // (Windows) cannot show it this way.
  CONFORMANCE_REQUIRE(RequireCapability("proc_fs"));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> entry,
                       ChildCommand("construction_stdin_probe"));
  std::vector<std::string> argv = {
      "/bin/sh", "-c", "printf procspec-stdin-data | exec \"$@\"", "sh"};
  argv.insert(argv.end(), entry.begin(), entry.end());
  ASSERT_OK_AND_ASSIGN(
      os::CommandResult result,
      os::RunCommand(argv, absl::Now() + ScaledTimeout(absl::Seconds(60))));
  EXPECT_EQ(result.status.exitcode(), 0) << result.out << result.err;
  EXPECT_EQ(result.out, "child=0 parent-stdin=procspec-stdin-data\n")
      << "child exit codes: 2 stdin is not /dev/null, 3 read(0) got data, "
         "4 stdio not at EOF, 5 std::cin not at EOF";
  EXPECT_EQ(result.err, "");
}

// The same in this test process, whatever its stdin is: the child's descriptor
// 0 refers to /dev/null and reads end of file.
CONFORMANCE_TEST(Start, ChildStdinReadsEndOfFile,
                 "process.start.stdin_null_device") {
  // The probe tells the null device by its name in /proc/self/fd
  // (DescribeDescriptor) and reads descriptor 0: a host without /proc
  // (Windows) cannot show it this way.
  CONFORMANCE_REQUIRE(RequireCapability("proc_fs"));
  procspec::Process p(StartProbeStdin);
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
}

// ---- process.authkey.inherited ----

// Reports its authkey and the key of a Process it constructs, as hex.
void StartReportKeysHex(InheritedHandle out) {
  procspec::Process grandchild;
  SendTo(out, absl::StrCat(
                  absl::BytesToHexString(procspec::current_process().authkey()),
                  " ", absl::BytesToHexString(grandchild.authkey())));
}
PROCSPEC_TARGET(StartReportKeysHex);

// The same, raw.
void StartReportKeys(InheritedHandle out) {
  procspec::Process grandchild;
  SendTo(out, absl::StrCat(procspec::current_process().authkey(), " ",
                           grandchild.authkey()));
}
PROCSPEC_TARGET(StartReportKeys);

// The main process's authkey is 32 bytes, and each new Process copies it.
CONFORMANCE_TEST(Authkey, ThirtyTwoBytesCopiedAtConstruction,
                 "process.authkey.inherited") {
  const std::string main_key = procspec::current_process().authkey();
  EXPECT_EQ(main_key.size(), 32u);
  EXPECT_NE(main_key, std::string(32, '\0'));
  procspec::Process p;
  EXPECT_EQ(p.authkey(), main_key);
}

// In the child, current_process().authkey equals the parent's key, and a
// Process the child creates copies it again.
CONFORMANCE_TEST(Authkey, ChildInheritsTheKey, "process.authkey.inherited") {
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process p(StartReportKeysHex, std::tuple{report.ChildEnd()});
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  const std::string key =
      absl::BytesToHexString(procspec::current_process().authkey());
  EXPECT_EQ(seen, absl::StrCat(key, " ", key));
}

// Assigning p.authkey before start() sets the key the child sees (and passes
// on to the Processes it creates); the parent's own key is unchanged.
CONFORMANCE_TEST(Authkey, AssignedKeyIsTheChildsKey,
                 "process.authkey.inherited") {
  const std::string main_key = procspec::current_process().authkey();
  const std::string new_key(32, 'k');
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process p(StartReportKeys, std::tuple{report.ChildEnd()});
  p.set_authkey(new_key);
  EXPECT_EQ(p.authkey(), new_key);
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(seen, absl::StrCat(new_key, " ", new_key));
  EXPECT_EQ(procspec::current_process().authkey(), main_key);
}

CONFORMANCE_CHILD_ENTRY(construction_print_authkey) {
  std::printf(
      "%s\n",
      absl::BytesToHexString(procspec::current_process().authkey()).c_str());
  return 0;
}

// The main process's key is random (os.urandom(32)): two programs get
// different keys.
CONFORMANCE_TEST(Authkey, MainKeyIsRandomPerProgram,
                 "process.authkey.inherited") {
  ASSERT_OK_AND_ASSIGN(os::CommandResult first,
                       RunChildEntry("construction_print_authkey"));
  ASSERT_OK_AND_ASSIGN(os::CommandResult second,
                       RunChildEntry("construction_print_authkey"));
  EXPECT_EQ(first.status.exitcode(), 0) << first.err;
  EXPECT_EQ(second.status.exitcode(), 0) << second.err;
  EXPECT_EQ(first.out.size(), 65u) << first.out;
  EXPECT_NE(first.out, second.out);
}

}  // namespace
}  // namespace conformance
