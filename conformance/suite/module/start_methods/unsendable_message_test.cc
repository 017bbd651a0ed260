// What cannot be sent to a child is reported with the start method in use:
// "the forkserver start method" under forkserver, not "the spawn start
// method".
#include <string>

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
using ::testing::Not;

// A subclass never registered with PROCSPEC_PROCESS_CLASS.
class NotRegisteredClass : public procspec::Process {
 public:
  explicit NotRegisteredClass(const procspec::Context* context)
      : procspec::Process({.context = context}) {}
  void run() override {}
};

CONFORMANCE_TEST(UnsendableMessage, LambdaTargetNamesTheStartMethodInUse,
                 "module.start_method.unsendable_message_names_method") {
  for (const std::string& method : testing::SendingStartMethods()) {
    SCOPED_TRACE(method);
    ASSERT_OK_AND_ASSIGN(const procspec::Context* context,
                         procspec::get_context(method));
    int captured = 3;
    procspec::Process p([captured] { procspec::Exit(captured); },
                        {.context = context});
    const absl::Status started = p.start();
    EXPECT_EQ(procspec::PythonExceptionType(started), "PicklingError");
    EXPECT_THAT(std::string(started.message()),
                HasSubstr("the " + method + " start method sends only"));
    if (method == "forkserver") {
      EXPECT_THAT(std::string(started.message()), Not(HasSubstr("spawn")));
    }
  }
}

CONFORMANCE_TEST(UnsendableMessage, UnregisteredClassNamesTheStartMethodInUse,
                 "module.start_method.unsendable_message_names_method") {
  // The last start method that sends: forkserver, or spawn where there is no
  // fork (Windows).
  const std::string method = testing::SendingStartMethods().back();
  ASSERT_OK_AND_ASSIGN(const procspec::Context* context,
                       procspec::get_context(method));
  NotRegisteredClass p(context);
  const absl::Status started = p.start();
  EXPECT_EQ(procspec::PythonExceptionType(started), "PicklingError");
  EXPECT_THAT(std::string(started.message()),
              HasSubstr("the " + method + " start method needs the class"));
}

}  // namespace
}  // namespace conformance
