// InheritedHandle: descriptors as Process arguments under every start method
// and backend. This binary has its own main(), which calls procspec::Init, so
// that spawned children (fresh runs of it) and the fork server run targets.
// Children report through pipes and exit codes.
#include "process/inherited_handle.h"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "platform/testing/status_matchers.h"
#include "process/context.h"
#include "process/errors.h"
#include "process/init.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"

namespace procspec {
namespace {

using ::testing::HasSubstr;

// Writes "<its descriptor number> <text>" to `out`; exit code 3 on failure.
void WriteNumberAndText(InheritedHandle out, std::string text) {
  if (!platform::WriteAll(out.get(), absl::StrCat(out.get(), " ", text)).ok())
    Exit(3);
}
PROCSPEC_TARGET(WriteNumberAndText);

// Exit code 0 if the passed descriptors are open and close-on-exec in this
// process; then blocks until the parent writes to `release`.
void CheckCopiesThenBlock(InheritedHandle out, InheritedHandle release) {
  for (const InheritedHandle& handle : {out, release}) {
    absl::StatusOr<bool> cloexec =
        platform::testing::IsCloseOnExec(handle.get());
    if (!cloexec.ok()) Exit(10);
    if (!*cloexec) Exit(11);
  }
  if (!platform::WriteAll(out.get(), "R").ok()) Exit(12);
  absl::StatusOr<std::string> got = platform::ReadSome(release.get(), 1);
  if (!got.ok() || *got != "G") Exit(13);
}
PROCSPEC_TARGET(CheckCopiesThenBlock);

// The same handle twice is passed once; an invalid handle stays invalid.
void CheckSameAndInvalid(InheritedHandle a, InheritedHandle b,
                         InheritedHandle none) {
  if (a.get() != b.get()) Exit(20);
  if (none.valid()) Exit(21);
  if (!platform::WriteAll(a.get(), "ok").ok()) Exit(22);
}
PROCSPEC_TARGET(CheckSameAndInvalid);

void TakeHandles(std::vector<InheritedHandle> handles) {
  for (const InheritedHandle& handle : handles)
    if (!handle.valid()) Exit(30);
}
PROCSPEC_TARGET(TakeHandles);

// A registered Process class with a descriptor in its state.
class Reporter : public Process {
 public:
  Reporter() = default;
  Reporter(InheritedHandle out, std::string text)
      : out_(out), text_(std::move(text)) {}
  void run() override {
    if (!platform::WriteAll(out_.get(), text_).ok()) Exit(3);
  }
  template <class Archive>
  void serialize(Archive& archive) {
    archive(out_, text_);
  }

 private:
  InheritedHandle out_;
  std::string text_;
};
PROCSPEC_PROCESS_CLASS(Reporter);

std::string ReadAll(platform::NativeHandle handle) {
  std::string all;
  while (true) {
    absl::StatusOr<std::string> chunk = platform::ReadSome(handle, 4096);
    if (!chunk.ok() || chunk->empty()) return all;
    all += *chunk;
  }
}

int JoinExitcode(Process& p) {
  if (!p.join().ok()) return -1000;
  absl::StatusOr<std::optional<int>> code = p.exitcode();
  return code.ok() && code->has_value() ? **code : -1001;
}

struct Param {
  std::string backend;
  std::string method;
};

class InheritedHandleTest : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(platform::SelectBackend(GetParam().backend).ok());
    context_ = *get_context(GetParam().method);
  }
  bool IsFork() const { return GetParam().method == "fork"; }
  const Context* context_ = nullptr;
};

TEST_P(InheritedHandleTest, TheChildWritesThroughItsCopy) {
  absl::StatusOr<platform::PipeEnds> pipe = platform::MakePipe();
  ASSERT_OK(pipe);
  const platform::NativeHandle parent_number = pipe->write.get();
  Process p(WriteNumberAndText,
            std::tuple{InheritedHandle(pipe->write.get()), "hello"},
            {.context = context_});
  ASSERT_OK(p.start());
  pipe->write.reset();
  const std::string got = ReadAll(pipe->read.get());
  EXPECT_EQ(JoinExitcode(p), 0);
  const std::size_t space = got.find(' ');
  ASSERT_NE(space, std::string::npos) << got;
  EXPECT_EQ(got.substr(space + 1), "hello");
  std::int64_t child_number = -1;
  ASSERT_TRUE(absl::SimpleAtoi(got.substr(0, space), &child_number)) << got;
  // Under fork it is the same descriptor; otherwise the child's own copy.
  if (IsFork()) {
    EXPECT_EQ(child_number, parent_number);
  }
}

TEST_P(InheritedHandleTest, CopiesAreCloseOnExecAndNothingElseLeaks) {
  absl::StatusOr<platform::PipeEnds> out = platform::MakePipe();
  absl::StatusOr<platform::PipeEnds> release = platform::MakePipe();
  absl::StatusOr<platform::PipeEnds> secret = platform::MakePipe();
  ASSERT_TRUE(out.ok() && release.ok() && secret.ok());
  Process p(CheckCopiesThenBlock,
            std::tuple{InheritedHandle(out->write.get()),
                       InheritedHandle(release->read.get())},
            {.context = context_});
  ASSERT_OK(p.start());
  out->write.reset();
  release->read.reset();
  EXPECT_EQ(platform::ReadSome(out->read.get(), 1).value_or(""), "R");
  // The child runs, blocked on `release`. Under spawn and forkserver it holds
  // no copy of the secret pipe: closing ours gives end of file at once.
  // (Under fork it inherited every descriptor, as CPython's fork does.)
  if (!IsFork()) {
    secret->write.reset();
    absl::StatusOr<std::vector<std::size_t>> ready = platform::WaitReadable(
        {secret->read.get()}, absl::Now() + absl::Seconds(30));
    ASSERT_OK(ready);
    EXPECT_EQ(ready->size(), 1u) << "the child holds a descriptor not passed";
    EXPECT_EQ(platform::ReadSome(secret->read.get(), 1).value_or("x"), "");
  }
  EXPECT_TRUE(platform::WriteAll(release->write.get(), "G").ok());
  EXPECT_EQ(JoinExitcode(p), 0)
      << "10: a copy is not open; 11: a copy is inheritable";
}

TEST_P(InheritedHandleTest, SameHandleTwiceAndInvalidHandle) {
  absl::StatusOr<platform::PipeEnds> pipe = platform::MakePipe();
  ASSERT_OK(pipe);
  InheritedHandle write(pipe->write.get());
  Process p(CheckSameAndInvalid, std::tuple{write, write, InheritedHandle()},
            {.context = context_});
  ASSERT_OK(p.start());
  pipe->write.reset();
  EXPECT_EQ(ReadAll(pipe->read.get()), "ok");
  EXPECT_EQ(JoinExitcode(p), 0);
}

TEST_P(InheritedHandleTest, RegisteredClassStateCarriesAHandle) {
  absl::StatusOr<platform::PipeEnds> pipe = platform::MakePipe();
  ASSERT_OK(pipe);
  Reporter p(InheritedHandle(pipe->write.get()), "from the class");
  ASSERT_OK(p.start());
  pipe->write.reset();
  EXPECT_EQ(ReadAll(pipe->read.get()), "from the class");
  EXPECT_EQ(JoinExitcode(p), 0);
}

// Every backend this build has, with each start method it has: fork, spawn
// and forkserver for linux and posix; spawn alone for windows.
std::vector<Param> BackendsAndMethods() {
  std::vector<Param> params;
  for (const std::string& backend : platform::BackendNames()) {
    absl::StatusOr<platform::Backend*> found = platform::GetBackend(backend);
    const bool fork = found.ok() && (*found)->SupportsFork();
    for (const char* method : {"fork", "spawn", "forkserver"}) {
      if (fork || std::string(method) == "spawn")
        params.push_back({backend, method});
    }
  }
  return params;
}

INSTANTIATE_TEST_SUITE_P(AllBackendsAndMethods, InheritedHandleTest,
                         ::testing::ValuesIn(BackendsAndMethods()),
                         [](const ::testing::TestParamInfo<Param>& info) {
                           return info.param.backend + "_" + info.param.method;
                         });

TEST(InheritedHandleSerialization, OutsideABootstrapItCannotBeSent) {
  try {
    (void)spawn_internal::Save(InheritedHandle(1));
    FAIL() << "serialized outside a bootstrap";
  } catch (const std::runtime_error& error) {
    EXPECT_THAT(error.what(), HasSubstr("only be sent as an argument"));
  }
}

TEST(InheritedHandleSerialization, TooManyHandlesAreAPicklingError) {
  std::vector<platform::PipeEnds> pipes;
  std::vector<InheritedHandle> handles;
  while (handles.size() <= kMaxInheritedHandles) {
    absl::StatusOr<platform::PipeEnds> pipe = platform::MakePipe();
    ASSERT_OK(pipe);
    handles.emplace_back(pipe->read.get());
    handles.emplace_back(pipe->write.get());
    pipes.push_back(*std::move(pipe));
  }
  Process p(TakeHandles, std::tuple{handles},
            {.context = *get_context("spawn")});
  const absl::Status started = p.start();
  EXPECT_EQ(PythonExceptionType(started), "PicklingError") << started;
  EXPECT_THAT(std::string(started.message()), HasSubstr("at most"));
  // Still startable, as after any PicklingError.
  handles.resize(2);
  Process q(TakeHandles, std::tuple{handles},
            {.context = *get_context("spawn")});
  ASSERT_OK(q.start());
  EXPECT_EQ(JoinExitcode(q), 0);
}

}  // namespace
}  // namespace procspec

int main(int argc, char** argv) {
  procspec::Init(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
