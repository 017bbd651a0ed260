// Checks that each suite instance really runs the configuration its target
// names; a wiring mistake in conformance/defs.bzl would otherwise credit one
// backend with another's results.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "conformance/harness/environment.h"
#include "conformance/suite/common/process_testing.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "process/context.h"

namespace conformance {
namespace {

TEST(HarnessSelfTest, TheBackendInUseIsTheOneOnTheCommandLine) {
  EXPECT_EQ(std::string(procspec::platform::CurrentBackend().name()),
            BackendName())
      << "--backend selected one backend but another is in use "
         "(PROCSPEC_BACKEND?)";
}

TEST(HarnessSelfTest, TheBackendsManifestsWereLoaded) {
  ASSERT_NE(Capabilities(), nullptr)
      << "run with --capabilities=<capabilities.json>";
  EXPECT_EQ(Capabilities()->backend, BackendName());
  // The manifest lists fork exactly where the backend can fork (not on
  // Windows).
  EXPECT_EQ(Capabilities()->Has("fork"),
            procspec::platform::CurrentBackend().SupportsFork());
  ASSERT_NE(BackendExpectations(), nullptr)
      << "run with --expectations=<expectations.json>";
  EXPECT_EQ(BackendExpectations()->backend, BackendName());
  ASSERT_NE(ClauseRegistry(), nullptr) << "run with --registry=<clauses.json>";
  EXPECT_FALSE(ClauseRegistry()->clauses().empty());
}

TEST(HarnessSelfTest, TheStartMethodInUseIsTheOneOnTheCommandLine) {
  EXPECT_EQ(procspec::get_start_method(), std::string(StartMethod()))
      << "--start_method selected one method but Process uses another";
  const std::vector<std::string> all = procspec::get_all_start_methods();
  EXPECT_NE(std::find(all.begin(), all.end(), std::string(StartMethod())),
            all.end());
}

int assert_ok_evaluations = 0;

absl::Status CountedFailure() {
  ++assert_ok_evaluations;
  return absl::InternalError("counted failure");
}

void AssertOkOfCountedFailure() { ASSERT_OK(CountedFailure()) << "and a note"; }

// A failing ASSERT_OK(p.start()) that evaluated its argument again to print
// the message would start a second child.
TEST(HarnessSelfTest, AssertOkEvaluatesItsArgumentOnce) {
  assert_ok_evaluations = 0;
  EXPECT_FATAL_FAILURE(AssertOkOfCountedFailure(), "and a note");
  EXPECT_EQ(assert_ok_evaluations, 1);
}

}  // namespace
}  // namespace conformance
