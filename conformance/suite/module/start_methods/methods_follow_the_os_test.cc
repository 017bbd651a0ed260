// The start methods a build offers follow its OS, as CPython's do: where the
// backend can fork, fork, spawn and forkserver with fork the default (CPython
// 3.11 on Linux); where it cannot (Windows), spawn alone, as the default, and
// "fork" and "forkserver" are unknown names.
#include <optional>
#include <string>
#include <vector>

#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/suite/common/process_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "process/context.h"
#include "process/errors.h"

namespace conformance {
namespace {

using ::testing::ElementsAre;

bool BackendCanFork() { return Capabilities()->Has("fork"); }

// Restores the instance's start method however the test ends.
class RestoreStartMethod {
 public:
  RestoreStartMethod() : saved_(procspec::get_start_method()) {}
  ~RestoreStartMethod() {
    (void)procspec::set_start_method(saved_, /*force=*/true);
  }

 private:
  std::optional<std::string> saved_;
};

CONFORMANCE_TEST(StartMethodsFollowTheOs, AllStartMethods,
                 "module.start_method.methods_follow_the_os") {
  if (BackendCanFork()) {
    EXPECT_THAT(procspec::get_all_start_methods(),
                ElementsAre("fork", "spawn", "forkserver"));
  } else {
    EXPECT_THAT(procspec::get_all_start_methods(), ElementsAre("spawn"));
  }
}

CONFORMANCE_TEST(StartMethodsFollowTheOs, TheDefault,
                 "module.start_method.methods_follow_the_os") {
  RestoreStartMethod restore;
  ASSERT_OK(procspec::set_start_method(std::nullopt, /*force=*/true));
  EXPECT_EQ(procspec::get_start_method(/*allow_none=*/true), std::nullopt);
  EXPECT_EQ(procspec::get_start_method(), BackendCanFork() ? "fork" : "spawn");
  // get_start_method() fixed it.
  EXPECT_EQ(procspec::set_start_method("spawn").message(),
            "context has already been set");
}

CONFORMANCE_TEST(StartMethodsFollowTheOs, ForkIsUnknownWithoutFork,
                 "module.start_method.methods_follow_the_os") {
  RestoreStartMethod restore;
  const std::optional<std::string> in_use = procspec::get_start_method();
  for (const std::string method : {"fork", "forkserver"}) {
    SCOPED_TRACE(method);
    absl::StatusOr<const procspec::Context*> context =
        procspec::get_context(method);
    const absl::Status set = procspec::set_start_method(method, /*force=*/true);
    if (BackendCanFork()) {
      ASSERT_OK(context.status());
      EXPECT_EQ((*context)->get_start_method(), method);
      EXPECT_OK(set);
      ASSERT_OK(procspec::set_start_method(in_use, /*force=*/true));
      continue;
    }
    const std::string message = "cannot find context for '" + method + "'";
    EXPECT_EQ(procspec::PythonExceptionType(context.status()), "ValueError");
    EXPECT_EQ(context.status().message(), message);
    EXPECT_EQ(procspec::PythonExceptionType(set), "ValueError");
    EXPECT_EQ(set.message(), message);
    // A failed set_start_method changes nothing.
    EXPECT_EQ(procspec::get_start_method(), in_use);
  }
}

}  // namespace
}  // namespace conformance
