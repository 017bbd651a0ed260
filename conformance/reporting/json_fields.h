// Reading the JSON documents the reports take in (gtest's output, results
// files): a syntax error as a Status, and a field that is absent or of another
// type read as empty, so that a malformed document never throws.
#ifndef PROCSPEC_CONFORMANCE_REPORTING_JSON_FIELDS_H_
#define PROCSPEC_CONFORMANCE_REPORTING_JSON_FIELDS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace conformance {

// `text` as JSON, or InvalidArgument "<what> not JSON: <parser's message>".
absl::StatusOr<nlohmann::json> ParseJson(absl::string_view text,
                                         absl::string_view what);

// object[key] if it is a string, else "".
std::string StringField(const nlohmann::json& object, const char* key);

// The strings of the array object[key] (other items and a missing key: none).
std::vector<std::string> StringList(const nlohmann::json& object,
                                    const char* key);

}  // namespace conformance

#endif  // PROCSPEC_CONFORMANCE_REPORTING_JSON_FIELDS_H_
