#include "conformance/registry/citations.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace conformance {

using Json = nlohmann::json;

std::string TestCitation::Location() const {
  return absl::StrCat(file, ":", line);
}

std::string CitationsToJson(const std::vector<TestCitation>& citations) {
  Json tests = Json::array();
  for (const TestCitation& citation : citations) {
    tests.push_back({{"test", citation.test},
                     {"clauses", citation.clauses},
                     {"file", citation.file},
                     {"line", citation.line}});
  }
  return Json{{"tests", std::move(tests)}}.dump(2);
}

absl::StatusOr<std::vector<TestCitation>> ParseCitations(
    absl::string_view json_text) {
  Json document;
  try {
    document = Json::parse(json_text);
  } catch (const Json::parse_error& error) {
    // nlohmann reports syntax errors only by exception.
    return absl::InvalidArgumentError(
        absl::StrCat("citations are not JSON: ", error.what()));
  }
  auto tests = document.is_object() ? document.find("tests") : document.end();
  if (tests == document.end() || !tests->is_array()) {
    return absl::InvalidArgumentError("citations: expected {\"tests\": [...]}");
  }
  std::vector<TestCitation> citations;
  for (const Json& entry : *tests) {
    if (!entry.is_object() || !entry.contains("test") ||
        !entry["test"].is_string() || !entry.contains("clauses") ||
        !entry["clauses"].is_array()) {
      return absl::InvalidArgumentError(
          absl::StrCat("citations: malformed entry ", entry.dump()));
    }
    TestCitation citation;
    citation.test = entry["test"].get<std::string>();
    for (const Json& clause : entry["clauses"]) {
      if (!clause.is_string()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "citations: ", citation.test, " cites a non-string clause"));
      }
      citation.clauses.push_back(clause.get<std::string>());
    }
    if (auto file = entry.find("file");
        file != entry.end() && file->is_string()) {
      citation.file = file->get<std::string>();
    }
    if (auto line = entry.find("line");
        line != entry.end() && line->is_number_integer()) {
      citation.line = line->get<int>();
    }
    citations.push_back(std::move(citation));
  }
  return citations;
}

}  // namespace conformance
