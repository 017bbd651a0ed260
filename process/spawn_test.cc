// The spawn start method, start-method selection and the main guard, on every
// backend. This binary has its own main(), which calls procspec::Init: each
// spawned child is a fresh run of it. Children report through exit codes.
#include "process/spawn.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "platform/internal/port.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "platform/testing/status_matchers.h"
#include "process/context.h"
#include "process/errors.h"
#include "process/init.h"
#include "process/internal/bootstrap.h"
#include "process/process.h"
#include "process/system_exit.h"
#include "process/testing/child_targets.h"

namespace procspec {
namespace {

using testing::CheckSelf;
using testing::ExitWith;
using testing::ExitWithGlobal;
using testing::ExitWithSum;
using testing::g_global;
using ::testing::HasSubstr;
using testing::Throw;

// Set by main() before the guard: in a spawned child, by the child itself.
platform::Pid g_prologue_pid = 0;

void ExitZeroIfPrologueRanHere() {
  Exit(g_prologue_pid == platform::CurrentPid() ? 0 : 3);
}
PROCSPEC_TARGET(ExitZeroIfPrologueRanHere);

// Exit code 0 unless this process holds an inheritable descriptor that its
// parent did not hold inheritable (`allowed`).
void CheckNoInheritedDescriptors(std::vector<std::int64_t> allowed) {
  absl::StatusOr<std::vector<platform::NativeHandle>> open =
      platform::testing::OpenDescriptors();
  if (!open.ok()) Exit(30);
  for (platform::NativeHandle fd : *open) {
    if (fd <= 2) continue;
    absl::StatusOr<bool> cloexec = platform::testing::IsCloseOnExec(fd);
    if (!cloexec.ok() || *cloexec) continue;  // closed meanwhile, or private
    if (std::find(allowed.begin(), allowed.end(), fd) == allowed.end())
      Exit(31);
  }
  Exit(0);
}
PROCSPEC_TARGET(CheckNoInheritedDescriptors);

// A spawned child that spawns: its exit code is the grandchild's.
void SpawnGrandchild(int code) {
  Process child(ExitWith, std::tuple{code}, {.context = *get_context("spawn")});
  if (!child.start().ok()) Exit(40);
  if (!child.join().ok()) Exit(41);
  Exit(**child.exitcode());
}
PROCSPEC_TARGET(SpawnGrandchild);

// Not registered.
void Unregistered() {}

struct NotSerializable {
  int value = 0;
};
void TakesNotSerializable(NotSerializable) {}
PROCSPEC_TARGET(ExitWith);  // registering twice is harmless

class Pro : public Process {
 public:
  Pro() = default;
  explicit Pro(int code) : code_(code) {}
  void run() override {
    if (name() != "pro") Exit(50);
    Exit(code_);
  }
  template <class Archive>
  void serialize(Archive& archive) {
    archive(code_);
  }

 private:
  int code_ = 0;
};
PROCSPEC_PROCESS_CLASS(Pro);

class UnregisteredPro : public Process {
 public:
  explicit UnregisteredPro(Options options) : Process(std::move(options)) {}
  void run() override {}
};

// Two functions with one bare name in two namespaces: two targets, keyed by
// their qualified names.
namespace first {
void SameName(int code) { Exit(code); }
PROCSPEC_TARGET(SameName);
}  // namespace first
namespace second {
void SameName(int code) { Exit(code + 1); }
PROCSPEC_TARGET(SameName);
}  // namespace second

// Two different functions registered under one key, as a compiler that does
// not spell qualified names would leave them: the child could not tell them
// apart.
void ClashFirst(int code) { Exit(code); }
void ClashSecond(int code) { Exit(code + 1); }
[[maybe_unused]] const bool kClashRegistered = [] {
  spawn_internal::RegisterTarget(
      reinterpret_cast<spawn_internal::ErasedFunction>(&ClashFirst), "Clash",
      "first.cc:1", &spawn_internal::Invoke<&ClashFirst>);
  spawn_internal::RegisterTarget(
      reinterpret_cast<spawn_internal::ErasedFunction>(&ClashSecond), "Clash",
      "second.cc:2", &spawn_internal::Invoke<&ClashSecond>);
  return true;
}();

const Context* Spawn() { return *get_context("spawn"); }
const Context* Fork() { return *get_context("fork"); }
// Whether this build's OS has the fork start method (Windows has spawn only):
// the comparisons with fork below run where it exists.
bool HasFork() { return platform::CurrentBackend().SupportsFork(); }
// Whether this is a Windows build, whose handles are not file descriptors a
// shell can redirect and whose open handles cannot be listed.
bool IsWindowsBuild() {
  const std::vector<std::string> names = platform::BackendNames();
  return std::find(names.begin(), names.end(), "windows") != names.end();
}

class SpawnTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(platform::SelectBackend(GetParam()).ok());
  }

  // Starts and joins `process`, returns its exit code.
  static int Run(Process& process) {
    absl::Status started = process.start();
    EXPECT_OK(started);
    if (!started.ok()) return -1000;
    EXPECT_OK(process.join());
    absl::StatusOr<std::optional<int>> code = process.exitcode();
    return code.ok() && code->has_value() ? **code : -1001;
  }
};

TEST(StartMethodTest, SelectionFollowsCPython) {
  // CPython's lists and defaults: fork first on Linux, spawn alone on Windows.
  const std::string default_method = HasFork() ? "fork" : "spawn";
  EXPECT_EQ(get_all_start_methods(),
            HasFork()
                ? (std::vector<std::string>{"fork", "spawn", "forkserver"})
                : (std::vector<std::string>{"spawn"}));
  absl::StatusOr<const Context*> bad = get_context("xyz");
  EXPECT_EQ(bad.status().message(), "cannot find context for 'xyz'");
  EXPECT_EQ(PythonExceptionType(bad.status()), "ValueError");
  EXPECT_EQ((*get_context("spawn"))->get_start_method(), "spawn");

  ASSERT_OK(set_start_method(std::nullopt, /*force=*/true));
  EXPECT_EQ(get_start_method(/*allow_none=*/true), std::nullopt);
  EXPECT_EQ(get_start_method(), default_method);  // the default, now fixed
  absl::Status again = set_start_method("spawn");
  EXPECT_EQ(again.message(), "context has already been set");
  EXPECT_EQ(PythonExceptionType(again), "RuntimeError");
  ASSERT_OK(set_start_method("spawn", /*force=*/true));
  EXPECT_EQ(get_start_method(), "spawn");
  EXPECT_EQ((*get_context())->get_start_method(), "spawn");
  EXPECT_EQ(set_start_method("xyz", true).message(),
            "cannot find context for 'xyz'");
  ASSERT_OK(set_start_method(std::nullopt, /*force=*/true));
}

TEST_P(SpawnTest, RunsRegisteredTargetWithConvertedArgsAndKwargs) {
  Process p(ExitWithSum, std::tuple{3, "four"},
            {.kwargs = {{"x", 5}}, .context = Spawn()});
  EXPECT_EQ(Run(p), 12);
}

TEST_P(SpawnTest, ExitCodesAreThoseOfFork) {
  Process exits(ExitWith, std::tuple{256 + 7}, {.context = Spawn()});
  EXPECT_EQ(Run(exits), 7);
  Process throws(Throw, {.context = Spawn()});
  EXPECT_EQ(Run(throws), 1);
  Process empty({.context = Spawn()});
  EXPECT_EQ(Run(empty), 0);
}

TEST_P(SpawnTest, UnexpectedKwargsFailInTheChild) {
  Process p(ExitWith, std::tuple{0},
            {.kwargs = {{"x", 1}}, .context = Spawn()});
  EXPECT_EQ(Run(p), 1);
}

TEST_P(SpawnTest, ChildSeesTheParentsAttributes) {
  // The target's args name what the child must see.
  Process q(CheckSelf,
            std::tuple{std::string("worker"), true,
                       static_cast<std::int64_t>(platform::CurrentPid()),
                       std::string("MainProcess"), current_process().authkey()},
            {.name = "worker", .daemon = true, .context = Spawn()});
  EXPECT_EQ(Run(q), 0);
}

TEST_P(SpawnTest, GlobalsAreNotInherited) {
  g_global = 42;
  Process spawned(ExitWithGlobal, {.context = Spawn()});
  EXPECT_EQ(Run(spawned), 1);
  if (HasFork()) {
    Process forked(ExitWithGlobal, {.context = Fork()});
    EXPECT_EQ(Run(forked), 42);
  }
  g_global = 1;
}

TEST_P(SpawnTest, CodeBeforeTheGuardRunsAgainOnlyUnderSpawn) {
  Process spawned(ExitZeroIfPrologueRanHere, {.context = Spawn()});
  EXPECT_EQ(Run(spawned), 0);
  if (HasFork()) {
    Process forked(ExitZeroIfPrologueRanHere, {.context = Fork()});
    EXPECT_EQ(Run(forked), 3);
  }
}

TEST_P(SpawnTest, RegisteredSubclassIsRestored) {
  Pro pro(9);
  pro.set_name("pro");
  Pro fresh;  // default state: its own code, not the sender's
  EXPECT_EQ(Run(pro), 0 + 9);
  (void)fresh;
}

TEST_P(SpawnTest, SpawnedChildCanSpawn) {
  Process p(SpawnGrandchild, std::tuple{5}, {.context = Spawn()});
  EXPECT_EQ(Run(p), 5);
}

TEST_P(SpawnTest, OnlyTheBootstrapDescriptorsCrossTheExec) {
  std::vector<std::int64_t> inheritable;
  absl::StatusOr<std::vector<platform::NativeHandle>> open =
      platform::testing::OpenDescriptors();
  if (IsWindowsBuild() &&
      open.status().code() == absl::StatusCode::kUnimplemented)
    GTEST_SKIP() << open.status();
  ASSERT_OK(open);
  for (platform::NativeHandle fd : *open) {
    absl::StatusOr<bool> cloexec = platform::testing::IsCloseOnExec(fd);
    if (cloexec.ok() && !*cloexec) inheritable.push_back(fd);
  }
  Process p(CheckNoInheritedDescriptors, std::tuple{inheritable},
            {.context = Spawn()});
  EXPECT_EQ(Run(p), 0);
  ASSERT_OK(p.close());
  absl::StatusOr<std::vector<platform::NativeHandle>> after =
      platform::testing::OpenDescriptors();
  ASSERT_OK(after);
  EXPECT_EQ(*after, *open);  // nothing leaked in the parent either
}

TEST_P(SpawnTest, UnsendableTargetFailsInTheParentAndStaysStartable) {
  int captured = 3;
  Process lambda([captured] { Exit(captured); }, {.context = Spawn()});
  absl::Status started = lambda.start();
  EXPECT_EQ(PythonExceptionType(started), "PicklingError");
  EXPECT_THAT(started.message(), HasSubstr("PROCSPEC_TARGET"));
  EXPECT_THAT(lambda.repr(), HasSubstr(" initial"));
  EXPECT_EQ(*lambda.pid(), std::nullopt);

  Process unregistered(Unregistered, {.context = Spawn()});
  EXPECT_THAT(unregistered.start().message(), HasSubstr("not registered"));

  NotSerializable value;
  Process bad_arg(TakesNotSerializable, std::tuple{value},
                  {.context = Spawn()});
  EXPECT_THAT(bad_arg.start().message(), HasSubstr("argument 0"));
  static_assert(!kSpawnable<decltype(&TakesNotSerializable),
                            std::tuple<NotSerializable>>);
  static_assert(kSpawnable<decltype(&ExitWith), std::tuple<int>>);

  UnregisteredPro pro({.context = *get_context("spawn")});
  absl::Status pro_started = pro.start();
  EXPECT_THAT(pro_started.message(),
              HasSubstr("PROCSPEC_PROCESS_CLASS(UnregisteredPro)"));

  // The same object starts once the default context is fork (CPython: once
  // the target is fixed).
  ASSERT_OK(set_start_method("spawn", /*force=*/true));
  Process later([captured] { Exit(captured); });
  EXPECT_EQ(PythonExceptionType(later.start()), "PicklingError");
  ASSERT_OK(set_start_method(std::nullopt, /*force=*/true));
  if (!HasFork()) return;
  ASSERT_OK(set_start_method("fork", /*force=*/true));
  EXPECT_EQ(Run(later), 3);
  ASSERT_OK(set_start_method(std::nullopt, /*force=*/true));
}

TEST_P(SpawnTest, BadBootstrapEndsTheChildWithExitCodeOne) {
  for (const std::string& payload :
       {std::string("garbage"), std::string(""),
        absl::StrCat("PSPAWN01", std::string(16, 'a'), "body",
                     std::string(16, 'b')),
        absl::StrCat("PSPAWN01", std::string(16, 'a'), "body",
                     std::string(16, 'a'))}) {
    platform::SpawnOptions options;
    options.payload = payload;
    absl::StatusOr<std::unique_ptr<platform::ChildProcess>> child =
        platform::CurrentBackend().Spawn(options);
    ASSERT_OK(child);
    absl::StatusOr<std::optional<platform::ExitStatus>> status =
        (*child)->Wait(absl::InfiniteFuture());
    ASSERT_TRUE(status.ok() && status->has_value());
    EXPECT_EQ((*status)->exitcode(), 1) << payload;
  }
}

TEST_P(SpawnTest, MarkerWithoutAPipeIsRejectedClearly) {
  absl::StatusOr<std::string> self = platform::testing::CurrentExecutable();
  ASSERT_OK(self);
  absl::StatusOr<platform::testing::CommandResult> result;
  if (IsWindowsBuild()) {
    // No env(1): the marker is set here for the one run and removed again.
    platform::testing::SetEnv(platform::kSpawnMarkerVariable, "99");
    result =
        platform::testing::RunCommand({*self}, absl::Now() + absl::Seconds(60));
    platform::internal::UnsetEnvironmentVariable(
        platform::kSpawnMarkerVariable);
  } else {
    result = platform::testing::RunCommand(
        {"/usr/bin/env", absl::StrCat(platform::kSpawnMarkerVariable, "=99"),
         *self},
        absl::Now() + absl::Seconds(60));
  }
  ASSERT_OK(result);
  EXPECT_EQ(result->status.exitcode(), 1);
  EXPECT_THAT(result->err, HasSubstr("cannot bootstrap"));
}

// A valid bootstrap (what a parent would send for ExitWith(7)) that reaches a
// spawned program through a descriptor other than its parent's pipe: from a
// file, by a shell that sets the marker itself. Only the key in the marker
// decides whether it runs.
TEST_P(SpawnTest, BootstrapNotFromTheParentIsRejected) {
  if (IsWindowsBuild()) {
    GTEST_SKIP() << "a shell redirects a file to descriptor 3, which a Windows "
                    "program does not see as a handle";
  }
  absl::StatusOr<std::string> self = platform::testing::CurrentExecutable();
  ASSERT_OK(self);
  Process process(ExitWith, std::tuple{7});
  std::string token;
  std::vector<platform::NativeHandle> handles;
  absl::StatusOr<std::string> payload =
      internal::Bootstrap::SpawnPayload(process, "spawn", &token, &handles);
  ASSERT_OK(payload);
  const std::string key(32, 'a'), other_key(32, 'b');
  // The key, the header (platform/internal/wire.h: no sentinel, no parent
  // watch), the payload.
  const std::string stream = absl::StrCat(
      key, "procspec-spawn 1 ", GetParam(), " ", platform::CurrentPid(), " 0 ",
      payload->size(), " - -1 -1\n", *payload);
  const std::optional<std::string> tmp =
      platform::testing::GetEnv("TEST_TMPDIR");
  ASSERT_TRUE(tmp.has_value());
  const std::string file = absl::StrCat(*tmp, "/foreign_bootstrap");
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << stream;
    ASSERT_TRUE(out.good());
  }
  auto run_with_marker = [&](const std::string& marker) {
    return platform::testing::RunCommand(
        {"/usr/bin/env",
         absl::StrCat(platform::kSpawnMarkerVariable, "=", marker), "/bin/sh",
         "-c", "exec \"$0\" 3<\"$1\"", *self, file},
        absl::Now() + absl::Seconds(60));
  };
  // The control: with the key the bytes start with, the bootstrap runs.
  absl::StatusOr<platform::testing::CommandResult> result =
      run_with_marker(absl::StrCat("3:", key));
  ASSERT_OK(result);
  EXPECT_EQ(result->status.exitcode(), 7) << result->err;

  result = run_with_marker(absl::StrCat("3:", other_key));
  ASSERT_OK(result);
  EXPECT_EQ(result->status.exitcode(), 1);
  EXPECT_THAT(result->err,
              HasSubstr("cannot bootstrap: the bootstrap does not come from "
                        "this process's parent"));

  result = run_with_marker("3");  // no key at all
  ASSERT_OK(result);
  EXPECT_EQ(result->status.exitcode(), 1);
  EXPECT_THAT(result->err, HasSubstr("cannot bootstrap"));
}

// Same-named functions in two namespaces are two targets: the child runs the
// one it was given.
TEST_P(SpawnTest, SameNameInTwoNamespacesRunsEachOwnFunction) {
  Process spawned_first(first::SameName, std::tuple{5}, {.context = Spawn()});
  EXPECT_EQ(Run(spawned_first), 5);
  Process spawned_second(second::SameName, std::tuple{5}, {.context = Spawn()});
  EXPECT_EQ(Run(spawned_second), 6);
}

// A key registered for two functions is an error at start() that says where
// both are, never the wrong function running in the child; fork needs no
// registration and runs each.
TEST_P(SpawnTest, TwoTargetsUnderOneKeyAreAnErrorNotTheWrongFunction) {
  for (auto* target : {&ClashFirst, &ClashSecond}) {
    Process p(target, std::tuple{5}, {.context = Spawn()});
    absl::Status started = p.start();
    EXPECT_EQ(PythonExceptionType(started), "PicklingError") << started;
    EXPECT_THAT(started.message(),
                HasSubstr("2 different PROCSPEC_TARGET registrations use the "
                          "name 'Clash' (first.cc:1, second.cc:2)"))
        << started;
    EXPECT_THAT(p.repr(), HasSubstr(" initial"));
  }
  if (!HasFork()) return;
  Process forked_first(ClashFirst, std::tuple{5}, {.context = Fork()});
  EXPECT_EQ(Run(forked_first), 5);
  Process forked_second(ClashSecond, std::tuple{5}, {.context = Fork()});
  EXPECT_EQ(Run(forked_second), 6);
}

TEST(TargetKey, IsTheQualifiedNameTheCompilerSpells) {
  EXPECT_EQ(spawn_internal::TargetKey(
                "std::string_view f() [with auto F = ns::task; "
                "std::string_view = std::basic_string_view<char>]",
                "task", "dir/file.cc:12"),
            "ns::task");
  EXPECT_EQ(spawn_internal::TargetKey("std::string_view f() [F = &ns::task]",
                                      "task", "dir/file.cc:12"),
            "ns::task");
}

TEST(TargetKey, AddsTheFileForInternalLinkage) {
  EXPECT_EQ(spawn_internal::TargetKey("f() [with auto F = {anonymous}::task]",
                                      "task", "dir/file.cc:12"),
            "{anonymous}::task@dir/file.cc");
  EXPECT_EQ(
      spawn_internal::TargetKey("f() [F = &ns::(anonymous namespace)::task]",
                                "task", "dir/file.cc:12"),
      "ns::(anonymous namespace)::task@dir/file.cc");
}

TEST(TargetKey, IsTheWrittenNameWhereTheSignatureSaysNothing) {
  EXPECT_EQ(spawn_internal::TargetKey("", "task", "dir/file.cc:12"), "task");
}

INSTANTIATE_TEST_SUITE_P(AllBackends, SpawnTest,
                         ::testing::ValuesIn(platform::BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace procspec

int main(int argc, char** argv) {
  procspec::g_prologue_pid = procspec::platform::CurrentPid();
  procspec::Init(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
