#include "conformance/reporting/robustness.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace conformance {
namespace {

// A run whose results Bazel took from its cache ran nothing of its own; say so
// rather than let "in 0 s" pass for a run.
std::string CachedNote(int cached) {
  if (cached == 0) return "";
  return absl::StrCat(", ", cached, " of them cached from an earlier run");
}

using Json = nlohmann::json;

RobustnessCheck ClauseCheck(const Report& report, const ClauseRow& row) {
  std::map<Outcome, int> counts;
  for (const Cell& cell : row.cells) ++counts[cell.outcome];
  auto has = [&](Outcome outcome) { return counts.count(outcome) > 0; };
  std::string result;
  if (has(Outcome::kFail)) {
    result = "FAIL";
  } else if (has(Outcome::kPass) || has(Outcome::kXpass)) {
    result = "PASS";
  } else if (has(Outcome::kXfail)) {
    result = "XFAIL";
  } else if (has(Outcome::kUnsupported)) {
    result = "UNSUPPORTED";
  } else {
    result = "UNTESTED";
  }
  std::vector<std::string> parts;
  for (Outcome outcome : kAllOutcomes) {
    if (has(outcome)) {
      parts.push_back(
          absl::StrCat(OutcomeName(outcome), " on ", counts[outcome]));
    }
  }
  return {"clause", row.clause.id, result,
          absl::StrCat(row.clause.title, " (",
                       parts.empty() ? "no column" : absl::StrJoin(parts, ", "),
                       " of ", report.columns.size(), " columns)")};
}

std::string Provenance(const Json& record) {
  return absl::StrCat(record.value("command", std::string("?")), ", ",
                      record.value("date", std::string("?")), ", commit ",
                      record.value("commit", std::string("?")));
}

// The checks of one record, or a "record" check saying why there are none.
std::vector<RobustnessCheck> RecordChecks(const RobustnessRecord& record) {
  if (!record.contents.ok()) {
    return {{"record", record.path, "NO RECORD",
             std::string(record.contents.status().message())}};
  }
  std::vector<RobustnessCheck> checks;
  try {
    const Json json = Json::parse(*record.contents);
    const std::string kind = json.at("kind").get<std::string>();
    if (kind == "sanitizers") {
      for (const Json& run : json.at("runs")) {
        const int failed = run.at("failed").get<int>();
        const int passed = run.at("passed").get<int>();
        const std::string config = run.at("config").get<std::string>();
        // The plain run and the Windows lane are CI runs; every other
        // config is a sanitizer's.
        const bool ci_run = config == "plain" || config == "windows";
        checks.push_back(
            {ci_run ? "ci run" : "sanitizer", config,
             failed == 0 && passed > 0 && run.value("exit_code", 0) == 0
                 ? "PASS"
                 : "FAIL",
             absl::StrCat(passed, " test targets passed, ", failed,
                          " failed, in ", run.at("seconds").get<int>(), " s",
                          CachedNote(run.value("cached", 0)), " (",
                          Provenance(json), ")")});
      }
    } else if (kind == "fuzz") {
      for (const Json& target : json.at("targets")) {
        const std::string result = target.at("result").get<std::string>();
        checks.push_back(
            {"fuzz", target.at("target").get<std::string>(),
             result == "pass" ? "PASS" : "CRASH",
             absl::StrCat(target.at("executions").get<long long>(),
                          " executions in ", target.at("seconds").get<int>(),
                          " s, coverage ", target.value("coverage", 0), " (",
                          json.value("build", std::string("?")), "; ",
                          Provenance(json), ")")});
      }
    } else {
      return {{"record", record.path, "MALFORMED",
               absl::StrCat("unknown kind '", kind, "'")}};
    }
  } catch (const Json::exception& error) {
    return {{"record", record.path, "MALFORMED", error.what()}};
  }
  if (checks.empty()) {
    return {{"record", record.path, "EMPTY", "the record lists no run"}};
  }
  return checks;
}

}  // namespace

std::vector<RobustnessCheck> BuildRobustness(
    const Report& report, const std::vector<RobustnessRecord>& records) {
  std::vector<RobustnessCheck> checks;
  for (const ClauseRow& row : report.rows) {
    if (row.clause.area == kRobustnessArea)
      checks.push_back(ClauseCheck(report, row));
  }
  if (checks.empty()) {
    checks.push_back({"clause", kRobustnessArea, "NONE",
                      absl::StrCat("the registry has no clause in area '",
                                   kRobustnessArea, "'")});
  }
  for (const RobustnessRecord& record : records) {
    for (RobustnessCheck& check : RecordChecks(record))
      checks.push_back(std::move(check));
  }
  return checks;
}

}  // namespace conformance
