// Under spawn (and forkserver) the target, args and kwargs cross to the child
// by name and by value: one that cannot be sent makes start() fail in the
// parent, before any child exists, and the object stays in its initial state.
#include <optional>
#include <string>
#include <tuple>

#include "conformance/harness/clause.h"
#include "conformance/suite/common/process_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "process/context.h"
#include "process/process.h"
#include "process/system_exit.h"

namespace conformance {
namespace {

using ::testing::HasSubstr;

// A function never registered with PROCSPEC_TARGET.
void NotRegistered() {}

// What the object looks like after a failed start(): still initial.
void ExpectStillInitial(procspec::Process& process) {
  EXPECT_THAT(process.repr(), HasSubstr(" initial>"));
  ASSERT_OK_AND_ASSIGN(std::optional<procspec::Pid> pid, process.pid());
  EXPECT_EQ(pid, std::nullopt);
  ASSERT_OK_AND_ASSIGN(bool alive, process.is_alive());
  EXPECT_FALSE(alive);
  EXPECT_PYTHON_ERROR(process.sentinel(), "ValueError", "process not started");
}

// A lambda with captures (CPython: a lambda cannot be pickled) fails in the
// parent with PicklingError; a second start() meets the same check, not
// "cannot start a process twice": the failed start left nothing behind.
CONFORMANCE_TEST(Unsendable, CapturingLambdaFailsInTheParent,
                 "module.start_method.spawn_unserializable_fails_in_parent") {
  for (const std::string& method : testing::SendingStartMethods()) {
    SCOPED_TRACE(method);
    ASSERT_OK_AND_ASSIGN(const procspec::Context* context,
                         procspec::get_context(method));
    int captured = 3;
    procspec::Process p([captured] { procspec::Exit(captured); },
                        {.context = context});
    const absl::Status first = p.start();
    EXPECT_EQ(procspec::PythonExceptionType(first), "PicklingError") << first;
    ExpectStillInitial(p);
    const absl::Status second = p.start();
    EXPECT_EQ(procspec::PythonExceptionType(second), "PicklingError") << second;
    ExpectStillInitial(p);
  }
}

// A plain function that was not registered fails the same way.
CONFORMANCE_TEST(Unsendable, UnregisteredFunctionFailsInTheParent,
                 "module.start_method.spawn_unserializable_fails_in_parent") {
  ASSERT_OK_AND_ASSIGN(const procspec::Context* spawn,
                       procspec::get_context("spawn"));
  procspec::Process p(NotRegistered, {.context = spawn});
  const absl::Status started = p.start();
  EXPECT_EQ(procspec::PythonExceptionType(started), "PicklingError") << started;
  ExpectStillInitial(p);
}

}  // namespace
}  // namespace conformance
