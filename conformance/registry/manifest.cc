#include "conformance/registry/manifest.h"

#include <algorithm>
#include <initializer_list>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "conformance/registry/file_util.h"
#include "nlohmann/json.hpp"

namespace conformance {
namespace {

using Json = nlohmann::json;

absl::StatusOr<Json> ParseJsonObject(absl::string_view text,
                                     absl::string_view what) {
  Json document;
  try {
    document = Json::parse(text);
  } catch (const Json::parse_error& error) {
    // nlohmann reports syntax errors only by exception.
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is not JSON: ", error.what()));
  }
  if (!document.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be a JSON object"));
  }
  return document;
}

absl::StatusOr<std::string> ReadBackend(const Json& document,
                                        absl::string_view what) {
  auto it = document.find("backend");
  if (it == document.end() || !it->is_string() ||
      it->get<std::string>().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": \"backend\" must be a name"));
  }
  return it->get<std::string>();
}

absl::Status RejectUnknownKeys(const Json& object,
                               std::initializer_list<absl::string_view> known,
                               absl::string_view what) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": unknown key \"", key, "\""));
    }
  }
  return absl::OkStatus();
}

// Prefixes a load error with the file it came from.
template <typename T>
absl::StatusOr<T> WithPath(absl::StatusOr<T> result, const std::string& path) {
  if (result.ok()) return result;
  return absl::Status(result.status().code(),
                      absl::StrCat(path, ": ", result.status().message()));
}

}  // namespace

absl::StatusOr<CapabilityManifest> ParseCapabilityManifest(
    absl::string_view json_text) {
  constexpr absl::string_view kWhat = "capability manifest";
  absl::StatusOr<Json> document = ParseJsonObject(json_text, kWhat);
  if (!document.ok()) return document.status();
  if (absl::Status status =
          RejectUnknownKeys(*document, {"backend", "capabilities"}, kWhat);
      !status.ok()) {
    return status;
  }
  CapabilityManifest manifest;
  absl::StatusOr<std::string> backend = ReadBackend(*document, kWhat);
  if (!backend.ok()) return backend.status();
  manifest.backend = *std::move(backend);
  auto capabilities = document->find("capabilities");
  if (capabilities == document->end() || !capabilities->is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kWhat, ": \"capabilities\" must be an array of names"));
  }
  for (const Json& entry : *capabilities) {
    if (!entry.is_string() ||
        !IsValidCapabilityName(entry.get<std::string>())) {
      return absl::InvalidArgumentError(absl::StrCat(
          kWhat, ": capability ", entry.dump(), " is not a capability name"));
    }
    if (!manifest.capabilities.insert(entry.get<std::string>()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(kWhat, ": ", entry.dump(), " listed twice"));
    }
  }
  return manifest;
}

absl::StatusOr<CapabilityManifest> LoadCapabilityManifest(
    const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  return WithPath(ParseCapabilityManifest(*text), path);
}

absl::Status ValidateManifest(const CapabilityManifest& manifest,
                              const Registry& registry) {
  std::vector<std::string> unknown;
  for (const std::string& capability : manifest.capabilities) {
    if (!registry.HasCapability(capability)) unknown.push_back(capability);
  }
  if (unknown.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("backend ", manifest.backend,
                   " claims capabilities the registry does not ",
                   "declare: ", absl::StrJoin(unknown, ", ")));
}

absl::string_view ExpectedOutcomeName(ExpectedOutcome outcome) {
  switch (outcome) {
    case ExpectedOutcome::kUnsupported:
      return "UNSUPPORTED";
    case ExpectedOutcome::kFail:
      return "FAIL";
  }
  return "UNKNOWN";
}

absl::StatusOr<Expectations> ParseExpectations(absl::string_view json_text) {
  constexpr absl::string_view kWhat = "expectations";
  absl::StatusOr<Json> document = ParseJsonObject(json_text, kWhat);
  if (!document.ok()) return document.status();
  if (absl::Status status =
          RejectUnknownKeys(*document, {"backend", "expected"}, kWhat);
      !status.ok()) {
    return status;
  }
  Expectations expectations;
  absl::StatusOr<std::string> backend = ReadBackend(*document, kWhat);
  if (!backend.ok()) return backend.status();
  expectations.backend = *std::move(backend);
  auto expected = document->find("expected");
  if (expected == document->end() || !expected->is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        kWhat, ": \"expected\" must be an object of clause id -> expectation"));
  }
  for (const auto& [id, entry] : expected->items()) {
    const std::string where = absl::StrCat(kWhat, ": \"", id, "\"");
    if (!IsValidClauseId(id) || !entry.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, " must map a clause id to {\"outcome\", \"reason\"}"));
    }
    if (absl::Status status =
            RejectUnknownKeys(entry, {"outcome", "reason"}, where);
        !status.ok()) {
      return status;
    }
    Expectation expectation;
    auto outcome = entry.find("outcome");
    if (outcome == entry.end() || !outcome->is_string() ||
        (*outcome != "UNSUPPORTED" && *outcome != "FAIL")) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": \"outcome\" must be \"UNSUPPORTED\" or \"FAIL\""));
    }
    expectation.outcome = *outcome == "FAIL" ? ExpectedOutcome::kFail
                                             : ExpectedOutcome::kUnsupported;
    auto reason = entry.find("reason");
    // An expectation without a reason is a failure nobody can judge later.
    if (reason == entry.end() || !reason->is_string() ||
        reason->get<std::string>().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": needs a non-empty \"reason\""));
    }
    expectation.reason = reason->get<std::string>();
    expectations.expected.emplace(id, std::move(expectation));
  }
  return expectations;
}

absl::StatusOr<Expectations> LoadExpectations(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  return WithPath(ParseExpectations(*text), path);
}

absl::Status ValidateExpectations(const Expectations& expectations,
                                  const Registry& registry) {
  std::vector<std::string> unknown;
  for (const auto& [id, expectation] : expectations.expected) {
    if (registry.Find(id) == nullptr) unknown.push_back(id);
  }
  if (unknown.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("expectations of backend ", expectations.backend,
                   " name unknown clauses: ", absl::StrJoin(unknown, ", ")));
}

}  // namespace conformance
