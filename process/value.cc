#include "process/value.h"

#include <string>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace procspec {
namespace {

struct ReprVisitor {
  std::string operator()(std::nullptr_t) const { return "None"; }
  std::string operator()(bool value) const { return value ? "True" : "False"; }
  std::string operator()(std::int64_t value) const {
    return absl::StrCat(value);
  }
  std::string operator()(double value) const {
    // Python prints the shortest representation that round-trips, always with a
    // dot or an exponent; %.17g round-trips and is close enough for messages.
    std::string text = absl::StrFormat("%.17g", value);
    if (text.find_first_of(".en") == std::string::npos) text += ".0";
    return text;
  }
  std::string operator()(const std::string& value) const {
    std::string out = "'";
    for (char c : value) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    return out + "'";
  }
};

}  // namespace

std::string Value::repr() const { return std::visit(ReprVisitor{}, value_); }

}  // namespace procspec
