// Checks that each suite instance really runs the configuration its target
// names; a wiring mistake in conformance/defs.bzl would otherwise credit one
// backend with another's results.
#include <string>

#include "conformance/harness/environment.h"
#include "gtest/gtest.h"
#include "platform/platform.h"

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

TEST(HarnessSelfTest, TheStartMethodIsOneTheLibraryHas) {
  // Only fork exists until the process library gains SetStartMethod (see
  // environment.cc).
  EXPECT_EQ(StartMethod(), "fork");
}

}  // namespace
}  // namespace conformance
