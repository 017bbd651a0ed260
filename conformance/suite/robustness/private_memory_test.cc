// Shared memory and the pipes between processes are not accessible to other
// users: the descriptors a Lock and a Queue create (shared memory, pipes) have
// no group or other permission bits, and nothing of this process is in
// /dev/shm while they exist, while a child uses them, and after. (Socket pairs,
// used by the fork server, have no name at all: no other process can open
// them.)
#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "conformance/harness/clause.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/robustness/robustness_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "process/process.h"
#include "process/queue.h"
#include "process/synchronize.h"
#include "process/system_exit.h"

namespace conformance::robustness {
namespace {

namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;

// The descriptors opened since `before` that are not sockets, with their
// permission bits (stat through /proc/self/fd/N, which reaches the object
// itself: a memfd, an unlinked shm_open object, a pipe).
struct Opened {
  std::string description;
  std::filesystem::perms perms;
};
std::vector<Opened> OpenedSince(
    const std::vector<platform::NativeHandle>& before) {
  std::vector<Opened> opened;
  absl::StatusOr<std::vector<platform::NativeHandle>> now =
      os::OpenDescriptors();
  if (!now.ok()) return opened;
  for (platform::NativeHandle fd : *now) {
    if (std::find(before.begin(), before.end(), fd) != before.end()) continue;
    const std::string description = os::DescribeDescriptor(fd);
    if (absl::StartsWith(description, "socket:")) continue;
    std::error_code error;
    const std::filesystem::file_status status =
        std::filesystem::status(absl::StrCat("/proc/self/fd/", fd), error);
    if (error) continue;  // closed meanwhile (e.g. /proc's own directory)
    opened.push_back({description, status.permissions()});
  }
  return opened;
}

constexpr std::filesystem::perms kGroupOrOther =
    std::filesystem::perms::group_all | std::filesystem::perms::others_all;

// Takes the lock and a queue item in a child: exit 10 + step on a failure.
void PrivateMemoryUser(procspec::Lock lock, procspec::Queue q) {
  if (!lock.acquire()) procspec::Exit(10);
  if (!lock.release().ok()) procspec::Exit(11);
  absl::StatusOr<int> item = q.get<int>();
  if (!item.ok() || *item != 5) procspec::Exit(12);
}
PROCSPEC_TARGET(PrivateMemoryUser);

CONFORMANCE_TEST(Security, SharedMemoryIsNotAccessibleToOtherUsers,
                 "robustness.security.private_memory") {
  const std::vector<platform::Pid> self = {platform::CurrentPid()};
  const std::vector<std::string> shm_before = ProcspecDevShmEntries();
  ASSERT_OK_AND_ASSIGN(std::vector<platform::NativeHandle> before,
                       os::OpenDescriptors());
  {
    ASSERT_OK_AND_ASSIGN(procspec::Lock lock, procspec::Lock::Create());
    ASSERT_OK_AND_ASSIGN(procspec::Queue q, procspec::Queue::Create());
    const std::vector<Opened> opened = OpenedSince(before);
    // At least the lock's and the queue's shared memory and the queue's pipe.
    EXPECT_GE(opened.size(), 3u);
    for (const Opened& o : opened) {
      EXPECT_EQ(o.perms & kGroupOrOther, std::filesystem::perms::none)
          << o.description << " has mode 0" << std::oct
          << static_cast<unsigned>(o.perms);
    }
    EXPECT_EQ(NewDevShmEntriesOf(shm_before, ProcspecDevShmEntries(), self),
              std::vector<std::string>());
    procspec::Process child(PrivateMemoryUser, std::tuple{lock, q});
    ASSERT_OK(child.start());
    ASSERT_OK(q.put(5));
    ASSERT_OK_AND_ASSIGN(int exitcode, testing::JoinAndGetExitcode(child));
    EXPECT_EQ(exitcode, 0);
    std::vector<platform::Pid> makers = self;
    absl::StatusOr<std::optional<procspec::Pid>> pid = child.pid();
    if (pid.ok() && pid->has_value()) makers.push_back(**pid);
    EXPECT_EQ(NewDevShmEntriesOf(shm_before, ProcspecDevShmEntries(), makers),
              std::vector<std::string>());
    q.close();
    ASSERT_OK(q.join_thread());
  }
  EXPECT_EQ(NewDevShmEntriesOf(shm_before, ProcspecDevShmEntries(), self),
            std::vector<std::string>());
}

}  // namespace
}  // namespace conformance::robustness
