// Which descriptors a child starts with. A descriptor the program opened
// without close-on-exec reaches a fork child (as with os.fork), but neither a
// spawned child nor a fork server nor any child a fork server forks: those get
// exactly what they are passed (CPython: _posixsubprocess with close_fds=True
// and pass_fds), plus the library's own.
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
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

namespace conformance::robustness {
namespace {

namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;
using ::conformance::testing::JoinSoon;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::ReadToEnd;
using ::procspec::InheritedHandle;

// A file of this test's own, opened without close-on-exec: its name tells its
// descriptor from any other in a child's list.
std::string LeakedPath(const std::string& tag) {
  return absl::StrCat(os::GetEnv("TEST_TMPDIR").value_or("/tmp"),
                      "/procspec-inheritable-", tag, "-",
                      platform::CurrentPid());
}

// Writes "<descriptor> <what it is>" lines for every descriptor it has.
void RobustnessListDescriptors(InheritedHandle out) {
  absl::StatusOr<std::vector<platform::NativeHandle>> open =
      os::OpenDescriptors();
  std::string text;
  if (!open.ok()) {
    text = absl::StrCat("error ", open.status().ToString(), "\n");
  } else {
    for (platform::NativeHandle fd : *open)
      absl::StrAppend(&text, fd, " ", os::DescribeDescriptor(fd), "\n");
  }
  (void)platform::WriteAll(out.get(), text);
}
PROCSPEC_TARGET(RobustnessListDescriptors);

// Starts a RobustnessListDescriptors child under `method`; its list.
std::string ChildDescriptors(const char* method) {
  absl::StatusOr<platform::PipeEnds> pipe = platform::MakePipe();
  if (!pipe.ok()) return pipe.status().ToString();
  procspec::Process child(RobustnessListDescriptors,
                          std::tuple{InheritedHandle(pipe->write.get())},
                          {.context = *procspec::get_context(method)});
  KillOnExit guard(child);
  if (absl::Status s = child.start(); !s.ok()) return s.ToString();
  pipe->write.reset();
  absl::StatusOr<std::string> text = ReadToEnd(pipe->read.get());
  absl::StatusOr<int> code = JoinSoon(child);
  if (!code.ok()) return code.status().ToString();
  if (*code != 0) return absl::StrCat("exit code ", *code);
  return text.ok() ? *text : text.status().ToString();
}

// The instance's start method, from the test process: fork passes the
// descriptor on, spawn and forkserver do not.
CONFORMANCE_TEST(DescriptorInheritance, OnlyPassedDescriptorsReachChildren,
                 "robustness.descriptors.only_passed") {
  const std::string path = LeakedPath("test");
  ASSERT_OK_AND_ASSIGN(platform::NativeHandle leaked,
                       os::OpenInheritable(path));
  platform::UniqueHandle closer(leaked);
  const std::string method(StartMethod());
  const std::string listing = ChildDescriptors(method.c_str());
  EXPECT_FALSE(absl::StartsWith(listing, "error")) << listing;
  EXPECT_EQ(absl::StrContains(listing, path), method == "fork")
      << method << " child's descriptors:\n"
      << listing;
}

// In a helper forked from the test: opens an inheritable descriptor, then
// starts its own fork server (forked by Init, so the server starts with the
// descriptor, or spawned by the first start()) and a forkserver child, and
// sends that child's list on.
void RobustnessServerDescriptors(InheritedHandle out, std::string path,
                                 bool fork_server_at_init) {
  absl::StatusOr<platform::NativeHandle> leaked = os::OpenInheritable(path);
  if (!leaked.ok()) {
    (void)platform::WriteAll(out.get(), "error " + leaked.status().ToString());
    return;
  }
  if (fork_server_at_init)
    procspec::Init(0, nullptr, {.start_forkserver = true});
  (void)platform::WriteAll(out.get(), ChildDescriptors("forkserver"));
}
PROCSPEC_TARGET(RobustnessServerDescriptors);

void ExpectServerDropsDescriptor(bool fork_server_at_init) {
  const std::string path =
      LeakedPath(fork_server_at_init ? "forked-server" : "spawned-server");
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds pipe, platform::MakePipe());
  procspec::Process helper(
      RobustnessServerDescriptors,
      std::tuple{InheritedHandle(pipe.write.get()), path, fork_server_at_init},
      {.context = *procspec::get_context("fork")});
  KillOnExit guard(helper);
  ASSERT_OK(helper.start());
  pipe.write.reset();
  ASSERT_OK_AND_ASSIGN(std::string listing, ReadToEnd(pipe.read.get()));
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(helper));
  EXPECT_EQ(exitcode, 0);
  EXPECT_FALSE(absl::StartsWith(listing, "error")) << listing;
  EXPECT_FALSE(absl::StrContains(listing, "exit code")) << listing;
  EXPECT_FALSE(absl::StrContains(listing, path))
      << "forkserver child's descriptors:\n"
      << listing;
}

CONFORMANCE_TEST(DescriptorInheritance, ForkedServerDropsInheritedDescriptors,
                 "robustness.descriptors.only_passed") {
  ExpectServerDropsDescriptor(/*fork_server_at_init=*/true);
}

CONFORMANCE_TEST(DescriptorInheritance, SpawnedServerGetsOnlyItsChannel,
                 "robustness.descriptors.only_passed") {
  ExpectServerDropsDescriptor(/*fork_server_at_init=*/false);
}

}  // namespace
}  // namespace conformance::robustness
