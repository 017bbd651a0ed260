// Unit tests of the registry, manifest and citation parsers on canned
// documents.
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "conformance/registry/citations.h"
#include "conformance/registry/manifest.h"
#include "conformance/registry/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "platform/testing/status_matchers.h"

namespace conformance {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kCapabilities[] =
    R"("capabilities": {"fork": "can fork", "signals": "can kill"})";

std::string RegistryWith(const std::string& clauses) {
  return absl::StrCat("{", kCapabilities, ", \"clauses\": [", clauses, "]}");
}

std::string ClauseJson(const std::string& id, const std::string& extra = "") {
  return absl::StrCat(
      R"({"id": ")", id, R"(", "area": "process", "title": "t", "seed": "座",)",
      R"( "cpython": "c", "kind": "normative", "requires": ["fork"])", extra,
      "}");
}

TEST(RegistryParseTest, ParsesAValidRegistry) {
  absl::StatusOr<Registry> registry = Registry::Parse(RegistryWith(ClauseJson(
      "process.join.timeout", R"(, "erratum": "e", "untested": "later")")));
  ASSERT_OK(registry);
  ASSERT_EQ(registry->clauses().size(), 1u);
  const Clause* clause = registry->Find("process.join.timeout");
  ASSERT_NE(clause, nullptr);
  EXPECT_EQ(clause->seed, "座");
  EXPECT_EQ(clause->kind, ClauseKind::kNormative);
  EXPECT_THAT(clause->requires_capabilities, ElementsAre("fork"));
  EXPECT_EQ(clause->erratum, "e");
  EXPECT_EQ(clause->deviation, "");
  EXPECT_EQ(clause->untested, "later");
  EXPECT_TRUE(registry->HasCapability("signals"));
  EXPECT_FALSE(registry->HasCapability("proc_fs"));
  EXPECT_EQ(registry->Find("process.join.other"), nullptr);
}

struct BadCase {
  std::string name;
  std::string document;
  std::string message;
};

class RegistryRejectsTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(RegistryRejectsTest, WithAMessageNamingTheProblem) {
  absl::StatusOr<Registry> registry = Registry::Parse(GetParam().document);
  ASSERT_FALSE(registry.ok());
  EXPECT_EQ(registry.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(registry.status().message(), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RegistryRejectsTest,
    ::testing::Values(
        BadCase{"NotJson", "{", "not JSON"},
        BadCase{"DuplicateId",
                RegistryWith(ClauseJson("process.a.b") + "," +
                             ClauseJson("process.a.b")),
                "duplicate id \"process.a.b\""},
        BadCase{"TwoComponentId", RegistryWith(ClauseJson("process.join")),
                "id must be <area>.<topic>.<behaviour>"},
        BadCase{"UpperCaseId", RegistryWith(ClauseJson("process.Join.timeout")),
                "id must be <area>.<topic>.<behaviour>"},
        BadCase{"IdOutsideItsArea", RegistryWith(ClauseJson("queue.put.block")),
                "must start with its area \"process.\""},
        BadCase{"UnknownKind",
                RegistryWith(
                    R"({"id": "process.a.b", "area": "process", "title": "t",)"
                    R"( "seed": "", "cpython": "c", "kind": "must"})"),
                "kind \"must\" is not one of"},
        BadCase{"UndeclaredCapability",
                RegistryWith(
                    R"({"id": "process.a.b", "area": "process", "title": "t",)"
                    R"( "seed": "", "cpython": "c", "kind": "optional",)"
                    R"( "requires": ["teleport"]})"),
                "requires undeclared capability \"teleport\""},
        BadCase{"NonStringErratum",
                RegistryWith(ClauseJson("process.a.b", R"(, "erratum": 1)")),
                "\"erratum\" must be a string"},
        BadCase{
            "NonStringDeviation",
            RegistryWith(ClauseJson("process.a.b", R"(, "deviation": null)")),
            "\"deviation\" must be a string"},
        BadCase{"MisspelledField",
                RegistryWith(ClauseJson("process.a.b", R"(, "untestd": "x")")),
                "unknown field \"untestd\""},
        BadCase{"MissingTitle",
                RegistryWith(
                    R"({"id": "process.a.b", "area": "process", "seed": "",)"
                    R"( "cpython": "c", "kind": "normative"})"),
                "missing \"title\""},
        BadCase{"BadCapabilityName",
                R"({"capabilities": {"Fork": "x"}, "clauses": []})",
                "capability \"Fork\": name must match"},
        BadCase{"MissingClauses", R"({"capabilities": {}})",
                "\"clauses\" must be an array"},
        BadCase{"StartMethodsNotAnObject",
                RegistryWith(ClauseJson("process.a.b",
                                        R"(, "start_methods": ["spawn"])")),
                "\"start_methods\" must be an object"},
        BadCase{"UnknownStartMethod",
                RegistryWith(ClauseJson(
                    "process.a.b",
                    R"(, "start_methods": {"vfork": "not_applicable: x"})")),
                "unknown start method \"vfork\""},
        BadCase{"StartMethodNoteWithoutItsKind",
                RegistryWith(ClauseJson(
                    "process.a.b",
                    R"(, "start_methods": {"spawn": "cannot be seen"})")),
                "start_methods.spawn must be \"not_applicable: <reason>\""},
        BadCase{"NotApplicableWithoutAReason",
                RegistryWith(ClauseJson(
                    "process.a.b",
                    R"(, "start_methods": {"spawn": "not_applicable: "})")),
                "start_methods.spawn must be"}),
    [](const ::testing::TestParamInfo<BadCase>& info) {
      return info.param.name;
    });

TEST(RegistryParseTest, ParsesNotesPerStartMethod) {
  absl::StatusOr<Registry> registry = Registry::Parse(RegistryWith(ClauseJson(
      "process.start.foreign",
      R"(, "start_methods": {"spawn": "not_applicable: nothing to send",)"
      R"( "forkserver": "differs: the server reaps"})")));
  ASSERT_OK(registry);
  const Clause* clause = registry->Find("process.start.foreign");
  ASSERT_NE(clause, nullptr);
  EXPECT_EQ(clause->start_methods.size(), 2u);
  EXPECT_EQ(NotApplicableReason(*clause, "spawn"), "nothing to send");
  EXPECT_EQ(NotApplicableReason(*clause, "forkserver"), "");  // differs only
  EXPECT_EQ(NotApplicableReason(*clause, "fork"), "");
}

TEST(RegistryParseTest, ReportsEveryProblemAtOnce) {
  absl::StatusOr<Registry> registry = Registry::Parse(
      RegistryWith(ClauseJson("process.a.b", R"(, "erratum": 1)") + "," +
                   ClauseJson("x.y")));
  ASSERT_FALSE(registry.ok());
  EXPECT_THAT(registry.status().message(),
              HasSubstr("\"erratum\" must be a string"));
  EXPECT_THAT(registry.status().message(),
              HasSubstr("clauses[1] (x.y): id must be"));
}

TEST(ManifestParseTest, ParsesCapabilities) {
  absl::StatusOr<CapabilityManifest> manifest = ParseCapabilityManifest(
      R"({"backend": "linux", "capabilities": ["fork", "signals"]})");
  ASSERT_OK(manifest);
  EXPECT_EQ(manifest->backend, "linux");
  EXPECT_TRUE(manifest->Has("fork"));
  EXPECT_FALSE(manifest->Has("proc_fs"));
}

TEST(ManifestParseTest, RejectsDuplicatesAndMissingBackend) {
  EXPECT_FALSE(
      ParseCapabilityManifest(R"({"backend": "x", "capabilities": ["a", "a"]})")
          .ok());
  EXPECT_FALSE(ParseCapabilityManifest(R"({"capabilities": []})").ok());
}

TEST(ManifestParseTest, ValidatesCapabilitiesAgainstTheRegistry) {
  absl::StatusOr<Registry> registry = Registry::Parse(RegistryWith(""));
  ASSERT_OK(registry);
  CapabilityManifest manifest{"linux", {"fork", "telepathy"}};
  absl::Status status = ValidateManifest(manifest, *registry);
  EXPECT_THAT(status.message(), HasSubstr("telepathy"));
  manifest.capabilities.erase("telepathy");
  EXPECT_OK(ValidateManifest(manifest, *registry));
}

TEST(ExpectationsParseTest, ParsesAndValidates) {
  absl::StatusOr<Expectations> expectations = ParseExpectations(
      R"({"backend": "posix", "expected": {"process.a.b": {"outcome": "FAIL", "reason": "r"},)"
      R"( "process.c.d": {"outcome": "UNSUPPORTED", "reason": "no pidfd"}}})");
  ASSERT_OK(expectations);
  ASSERT_NE(expectations->Find("process.a.b"), nullptr);
  EXPECT_EQ(expectations->Find("process.a.b")->outcome, ExpectedOutcome::kFail);
  EXPECT_EQ(expectations->Find("process.c.d")->outcome,
            ExpectedOutcome::kUnsupported);
  EXPECT_EQ(expectations->Find("process.c.d")->reason, "no pidfd");

  absl::StatusOr<Registry> registry =
      Registry::Parse(RegistryWith(ClauseJson("process.a.b")));
  ASSERT_OK(registry);
  EXPECT_THAT(ValidateExpectations(*expectations, *registry).message(),
              HasSubstr("process.c.d"));
}

TEST(ExpectationsParseTest, RequiresAnOutcomeAndAReason) {
  EXPECT_FALSE(
      ParseExpectations(
          R"({"backend": "b", "expected": {"a.b.c": {"outcome": "PASS", "reason": "r"}}})")
          .ok());
  EXPECT_FALSE(
      ParseExpectations(
          R"({"backend": "b", "expected": {"a.b.c": {"outcome": "FAIL"}}})")
          .ok());
}

TEST(CitationsTest, RoundTrips) {
  std::vector<TestCitation> citations = {
      {"Join.Timeout",
       {"process.join.timeout", "process.join.none"},
       "suite/join_test.cc",
       12}};
  absl::StatusOr<std::vector<TestCitation>> parsed =
      ParseCitations(CitationsToJson(citations));
  ASSERT_OK(parsed);
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ((*parsed)[0].test, "Join.Timeout");
  EXPECT_THAT((*parsed)[0].clauses,
              ElementsAre("process.join.timeout", "process.join.none"));
  EXPECT_EQ((*parsed)[0].Location(), "suite/join_test.cc:12");
}

}  // namespace
}  // namespace conformance
