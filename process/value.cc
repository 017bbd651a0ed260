#include "process/value.h"

#include <string>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace procspec {
namespace {

// Python's repr(str): single quotes, or double quotes when the text holds a
// single quote and no double quote; backslash, the chosen quote, \t \n \r and
// the other ASCII control characters escaped. Non-ASCII UTF-8 is kept as is
// (Python escapes the few non-printable code points above U+007F too).
std::string PythonStringRepr(const std::string& value) {
  const bool has_single = value.find('\'') != std::string::npos;
  const bool has_double = value.find('"') != std::string::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (const char c : value) {
    const unsigned char byte = static_cast<unsigned char>(c);
    if (c == quote || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (byte < 0x20 || byte == 0x7f) {
      out += absl::StrFormat("\\x%02x", byte);
    } else {
      out += c;
    }
  }
  return out + quote;
}

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
    return PythonStringRepr(value);
  }
};

}  // namespace

std::string Value::repr() const { return std::visit(ReprVisitor{}, value_); }

}  // namespace procspec
