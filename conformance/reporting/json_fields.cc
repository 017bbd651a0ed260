#include "conformance/reporting/json_fields.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace conformance {

using Json = nlohmann::json;

absl::StatusOr<Json> ParseJson(absl::string_view text, absl::string_view what) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& error) {
    // nlohmann reports syntax errors only by exception.
    return absl::InvalidArgumentError(
        absl::StrCat(what, " not JSON: ", error.what()));
  }
}

std::string StringField(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

std::vector<std::string> StringList(const Json& object, const char* key) {
  std::vector<std::string> list;
  auto it = object.find(key);
  if (it == object.end() || !it->is_array()) return list;
  for (const Json& item : *it) {
    if (item.is_string()) list.push_back(item.get<std::string>());
  }
  return list;
}

}  // namespace conformance
