// Nothing is ever left in /dev/shm, whatever happens: a process SIGKILLed
// while it creates Locks leaves no shared memory name behind, at any instant
// of the creation (the "posix" backend names its memory with shm_open; the
// "linux" backend's memfd has no name at all).
#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "conformance/harness/clause.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/robustness/robustness_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "platform/testing/status_matchers.h"
#include "process/context.h"
#include "process/inherited_handle.h"
#include "process/process.h"
#include "process/synchronize.h"
#include "process/system_exit.h"

namespace conformance::robustness {
namespace {

namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;
using ::conformance::testing::JoinAndGetExitcode;
using ::procspec::InheritedHandle;

// Creates (and drops) Locks until it is killed, writing one byte to
// `progress` after each: exit 10 if a creation fails.
void CreateLocksUntilKilled(InheritedHandle progress) {
  while (true) {
    if (!procspec::Lock::Create().ok()) procspec::Exit(10);
    if (!platform::WriteAll(progress.get(), "L").ok()) procspec::Exit(11);
  }
}
PROCSPEC_TARGET(CreateLocksUntilKilled);

// 300 children, each SIGKILLed after 1 to 8 creations (so at varied points
// of the next one); then no name of any of them is in /dev/shm. Every copy
// of a child's progress pipe is closed before its names are looked for: the
// child's, and any process it forked that still holds it.
CONFORMANCE_TEST(SharedMemoryNames, NoNameSurvivesASigkillDuringCreation,
                 "robustness.shm.no_name_after_kill") {
  constexpr int kKills = 300;
  const std::vector<std::string> before = ProcspecDevShmEntries();
  ASSERT_OK_AND_ASSIGN(const std::vector<platform::Pid> children_before,
                       ChildPids());
  std::vector<platform::Pid> killed;
  // Forked children: the fastest to start, and the start method changes
  // nothing in how a Lock is created.
  ASSERT_OK_AND_ASSIGN(const procspec::Context* fork,
                       procspec::get_context("fork"));
  for (int i = 0; i < kKills; ++i) {
    ASSERT_OK_AND_ASSIGN(platform::PipeEnds progress, platform::MakePipe());
    procspec::Process p(CreateLocksUntilKilled,
                        std::tuple{InheritedHandle(progress.write.get())},
                        {.context = fork});
    ASSERT_OK(p.start());
    progress.write.reset();
    ASSERT_OK_AND_ASSIGN(
        std::string made,
        platform::ReadExactly(progress.read.get(),
                              static_cast<std::size_t>(1 + i % 8)));
    ASSERT_OK(p.kill());
    ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
    ASSERT_EQ(code, -9);
    // Until every copy of the write end is closed.
    while (true) {
      absl::StatusOr<std::string> rest =
          platform::ReadSome(progress.read.get(), 4096);
      ASSERT_OK(rest);
      if (rest->empty()) break;
    }
    ASSERT_OK_AND_ASSIGN(std::optional<procspec::Pid> pid, p.pid());
    ASSERT_TRUE(pid.has_value());
    killed.push_back(*pid);
  }
  // A process that forked while it created a Lock left that process behind
  // when it was killed; if this test process is a child subreaper (an earlier
  // test made it one), the orphan is now its child, to be reaped here.
  ASSERT_OK_AND_ASSIGN(std::vector<platform::Pid> now, ChildPids());
  for (platform::Pid pid : now) {
    if (std::find(children_before.begin(), children_before.end(), pid) ==
        children_before.end()) {
      EXPECT_OK(os::ReapPid(pid));
    }
  }
  const std::vector<std::string> left =
      NewDevShmEntriesOf(before, ProcspecDevShmEntries(), killed);
  EXPECT_TRUE(left.empty()) << left.size() << " of " << kKills
                            << " killed children left names in /dev/shm: "
                            << absl::StrJoin(left, ", ");
  for (const std::string& name : left) {
    std::error_code ignored;
    std::filesystem::remove(std::filesystem::path("/dev/shm") / name, ignored);
  }
}

}  // namespace
}  // namespace conformance::robustness
