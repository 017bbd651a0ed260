// The capability manifests and expectation files of the backends are
// well-formed and agree with what the backends report.
#include <fstream>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "platform/platform.h"
#include "platform/testing/status_matchers.h"

namespace procspec::platform {
namespace {

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
}

// The backend capabilities conformance/clauses.json declares. The test host's
// ("proc_fs", "child_subreaper", "pid_namespace": testing::HostCapabilities)
// and "python3_differential" are decided at run time by the harness and never
// listed in a backend's manifest.
const std::set<std::string>& KnownCapabilities() {
  static const auto* known = new std::set<std::string>{
      "fork",     "shared_memory", "connection",      "terminate",
      "signals",  "sentinel",      "parent_watch",    "die_with_parent",
      "thread_count"};
  return *known;
}

class ManifestTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ManifestTest, CapabilitiesAreKnownUniqueAndTruthful) {
  const nlohmann::json manifest =
      ReadJson("platform/" + GetParam() + "/capabilities.json");
  ASSERT_TRUE(manifest.is_object()) << manifest.dump();
  EXPECT_EQ(manifest.value("backend", ""), GetParam());
  ASSERT_TRUE(manifest["capabilities"].is_array());
  std::set<std::string> seen;
  for (const nlohmann::json& capability : manifest["capabilities"]) {
    ASSERT_TRUE(capability.is_string()) << capability.dump();
    const std::string name = capability.get<std::string>();
    EXPECT_TRUE(KnownCapabilities().count(name))
        << "unknown capability " << name;
    EXPECT_TRUE(seen.insert(name).second) << "listed twice: " << name;
  }
  absl::StatusOr<Backend*> backend = GetBackend(GetParam());
  ASSERT_OK(backend);
  EXPECT_EQ(seen.count("fork") == 1, (*backend)->SupportsFork());
  EXPECT_EQ(seen.count("die_with_parent") == 1,
            (*backend)->SupportsDieWithParent());
  EXPECT_EQ(seen.count("thread_count") == 1,
            (*backend)->ThreadCount().has_value());
}

TEST_P(ManifestTest, ExpectationsAreWellFormed) {
  const nlohmann::json expectations =
      ReadJson("platform/" + GetParam() + "/expectations.json");
  ASSERT_TRUE(expectations.is_object()) << expectations.dump();
  EXPECT_EQ(expectations.value("backend", ""), GetParam());
  ASSERT_TRUE(expectations["expected"].is_object());
  for (const auto& [clause, expectation] : expectations["expected"].items()) {
    const std::string outcome = expectation.value("outcome", "");
    EXPECT_TRUE(outcome == "UNSUPPORTED" || outcome == "FAIL")
        << clause << ": " << outcome;
    EXPECT_FALSE(expectation.value("reason", "").empty())
        << clause << " gives no reason";
  }
}

INSTANTIATE_TEST_SUITE_P(AllBackends, ManifestTest,
                         ::testing::ValuesIn(BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace procspec::platform
