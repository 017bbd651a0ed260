// A Process made with an explicit context is CPython's ctx.Process: named
// ForkProcess-N, SpawnProcess-N or ForkServerProcess-N, with that class name
// in its repr, in the parent and in the child. Without a context it is
// Process-N, as multiprocessing.Process is.
#include <algorithm>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "process/context.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"

namespace conformance {
namespace {

using ::conformance::testing::JoinSoon;
using ::conformance::testing::KillOnExit;
using ::testing::StartsWith;

void ContextNameNoop() {}
PROCSPEC_TARGET(ContextNameNoop);

// Exit 0 if the child's own name and repr carry `class_name`; 10 if the name
// does not, 11 if the repr does not.
void ExpectOwnClass(std::string class_name) {
  procspec::Process& me = procspec::current_process();
  if (!absl::StartsWith(me.name(), class_name + "-")) procspec::Exit(10);
  if (!absl::StartsWith(me.repr(), "<" + class_name + " name='" + class_name))
    procspec::Exit(11);
}
PROCSPEC_TARGET(ExpectOwnClass);

struct Case {
  const char* method;
  const char* class_name;
};
constexpr Case kCases[] = {{"fork", "ForkProcess"},
                           {"spawn", "SpawnProcess"},
                           {"forkserver", "ForkServerProcess"}};

CONFORMANCE_TEST(ContextName, ContextProcessIsNamedAfterItsContext,
                 "process.name.context_class") {
  const std::vector<std::string> methods = procspec::get_all_start_methods();
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.method);
    // Only the contexts this build has (spawn alone on Windows).
    if (std::find(methods.begin(), methods.end(), c.method) == methods.end())
      continue;
    ASSERT_OK_AND_ASSIGN(const procspec::Context* context,
                         procspec::get_context(c.method));
    procspec::Process p(ContextNameNoop, {.context = context});
    EXPECT_THAT(p.name(), StartsWith(absl::StrCat(c.class_name, "-")));
    EXPECT_THAT(p.repr(), StartsWith(absl::StrCat("<", c.class_name, " name='",
                                                  c.class_name, "-")));
    procspec::Process named(ContextNameNoop,
                            {.name = "given", .context = context});
    EXPECT_THAT(named.repr(),
                StartsWith(absl::StrCat("<", c.class_name, " name='given'")));
  }
}

// multiprocessing.Process has the default context: Process-N. The default
// context named explicitly (get_context() without a method, CPython's actual
// context) is a concrete one, and names its class.
CONFORMANCE_TEST(ContextName, DefaultContextKeepsProcess,
                 "process.name.context_class") {
  procspec::Process plain(ContextNameNoop);
  EXPECT_THAT(plain.name(), StartsWith("Process-"));
  EXPECT_THAT(plain.repr(), StartsWith("<Process name='Process-"));
  ASSERT_OK_AND_ASSIGN(const procspec::Context* current,
                       procspec::get_context());
  const std::string method(StartMethod());
  for (const Case& c : kCases) {
    if (method != c.method) continue;
    procspec::Process p(ContextNameNoop, {.context = current});
    EXPECT_THAT(p.name(), StartsWith(absl::StrCat(c.class_name, "-")));
  }
}

// The child sees the same class name in its own name and repr, under this
// instance's start method.
CONFORMANCE_TEST(ContextName, ChildSeesItsContextClass,
                 "process.name.context_class") {
  const std::string method(StartMethod());
  for (const Case& c : kCases) {
    if (method != c.method) continue;
    ASSERT_OK_AND_ASSIGN(const procspec::Context* context,
                         procspec::get_context(c.method));
    procspec::Process p(ExpectOwnClass, std::tuple{std::string(c.class_name)},
                        {.context = context});
    KillOnExit reaper(p);
    ASSERT_OK(p.start());
    ASSERT_OK_AND_ASSIGN(int code, JoinSoon(p));
    EXPECT_EQ(code, 0) << "10: the child's name, 11: its repr";
  }
  procspec::Process plain(ExpectOwnClass, std::tuple{std::string("Process")});
  KillOnExit reaper(plain);
  ASSERT_OK(plain.start());
  ASSERT_OK_AND_ASSIGN(int code, JoinSoon(plain));
  EXPECT_EQ(code, 0) << "10: the child's name, 11: its repr";
}

}  // namespace
}  // namespace conformance
