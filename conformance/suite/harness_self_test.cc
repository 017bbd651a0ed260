// Checks that each suite instance really runs the configuration its target
// names; a wiring mistake in conformance/defs.bzl would otherwise credit one
// backend with another's results.
#include <algorithm>
#include <string>
#include <vector>

#include "conformance/harness/environment.h"
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
  EXPECT_TRUE(Capabilities()->Has("fork"))
      << "every backend must at least fork";
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

}  // namespace
}  // namespace conformance
