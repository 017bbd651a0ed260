#include "conformance/registry/registry.h"

#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "conformance/registry/file_util.h"
#include "nlohmann/json.hpp"

namespace conformance {
namespace {

using Json = nlohmann::json;

constexpr absl::string_view kTopLevelKeys[] = {"capabilities", "clauses"};
constexpr absl::string_view kClauseKeys[] = {
    "id",       "area",    "title",     "seed",     "cpython",      "kind",
    "requires", "erratum", "deviation", "untested", "start_methods"};

constexpr absl::string_view kNotApplicablePrefix = "not_applicable: ";
constexpr absl::string_view kDiffersPrefix = "differs: ";

bool IsIdentifier(absl::string_view word) {
  if (word.empty() || !absl::ascii_islower(word.front())) return false;
  for (char c : word) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_')
      return false;
  }
  return true;
}

template <std::size_t N>
bool Contains(const absl::string_view (&keys)[N], absl::string_view key) {
  for (absl::string_view known : keys) {
    if (known == key) return true;
  }
  return false;
}

// Collects every problem in the document so that one run reports all of them.
class Parser {
 public:
  absl::StatusOr<Registry> Finish(Registry registry) {
    if (problems_.empty()) return registry;
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid clause registry:\n  ", absl::StrJoin(problems_, "\n  ")));
  }

  void Problem(std::string text) { problems_.push_back(std::move(text)); }

  // Reads string field `key` of `object` into `out`. A missing optional field
  // reads as "".
  void ReadString(const Json& object, absl::string_view where, const char* key,
                  bool required, bool non_empty, std::string& out) {
    auto it = object.find(key);
    if (it == object.end()) {
      if (required) Problem(absl::StrCat(where, ": missing \"", key, "\""));
      return;
    }
    if (!it->is_string()) {
      Problem(absl::StrCat(where, ": \"", key, "\" must be a string"));
      return;
    }
    out = it->get<std::string>();
    if (non_empty && out.empty())
      Problem(absl::StrCat(where, ": \"", key, "\" is empty"));
  }

 private:
  std::vector<std::string> problems_;
};

void ParseCapabilities(const Json& capabilities, Parser& parser,
                       std::map<std::string, std::string>& out) {
  if (!capabilities.is_object()) {
    parser.Problem("\"capabilities\" must be an object of name -> description");
    return;
  }
  for (const auto& [name, description] : capabilities.items()) {
    if (!IsValidCapabilityName(name)) {
      parser.Problem(absl::StrCat("capability \"", name,
                                  "\": name must match [a-z][a-z0-9_]*"));
    }
    if (!description.is_string() || description.get<std::string>().empty()) {
      parser.Problem(absl::StrCat("capability \"", name,
                                  "\": needs a non-empty description"));
      continue;
    }
    out.emplace(name, description.get<std::string>());
  }
}

void ParseKind(const Json& object, absl::string_view where, Parser& parser,
               ClauseKind& kind) {
  std::string name;
  parser.ReadString(object, where, "kind", /*required=*/true,
                    /*non_empty=*/true, name);
  if (name.empty()) return;
  for (ClauseKind candidate :
       {ClauseKind::kNormative, ClauseKind::kImplementationDefined,
        ClauseKind::kOptional}) {
    if (ClauseKindName(candidate) == name) {
      kind = candidate;
      return;
    }
  }
  parser.Problem(absl::StrCat(
      where, ": kind \"", name,
      "\" is not one of normative, implementation-defined, optional"));
}

void ParseRequires(const Json& object, absl::string_view where,
                   const std::map<std::string, std::string>& capabilities,
                   Parser& parser, std::vector<std::string>& out) {
  auto it = object.find("requires");
  if (it == object.end()) return;  // requires nothing
  if (!it->is_array()) {
    parser.Problem(absl::StrCat(
        where, ": \"requires\" must be an array of capability names"));
    return;
  }
  std::set<std::string> seen;
  for (const Json& entry : *it) {
    if (!entry.is_string()) {
      parser.Problem(
          absl::StrCat(where, ": \"requires\" entries must be strings"));
      continue;
    }
    std::string name = entry.get<std::string>();
    if (!capabilities.contains(name)) {
      parser.Problem(absl::StrCat(where, ": requires undeclared capability \"",
                                  name, "\""));
    }
    if (!seen.insert(name).second) {
      parser.Problem(absl::StrCat(where, ": requires \"", name, "\" twice"));
    }
    out.push_back(std::move(name));
  }
}

void ParseStartMethods(const Json& object, absl::string_view where,
                       Parser& parser,
                       std::map<std::string, std::string>& out) {
  auto it = object.find("start_methods");
  if (it == object.end()) return;  // the same under every start method
  if (!it->is_object()) {
    parser.Problem(absl::StrCat(
        where,
        ": \"start_methods\" must be an object of start method -> note"));
    return;
  }
  for (const auto& [method, note] : it->items()) {
    if (!Contains(kKnownStartMethods, method)) {
      parser.Problem(absl::StrCat(where,
                                  ": start_methods: unknown start method \"",
                                  method, "\" (fork, spawn, forkserver)"));
      continue;
    }
    const std::string text = note.is_string() ? note.get<std::string>() : "";
    absl::string_view rest = text;
    if (!(absl::ConsumePrefix(&rest, kNotApplicablePrefix) ||
          absl::ConsumePrefix(&rest, kDiffersPrefix)) ||
        absl::StripAsciiWhitespace(rest).empty()) {
      parser.Problem(absl::StrCat(
          where, ": start_methods.", method,
          " must be \"not_applicable: <reason>\" or \"differs: <text>\""));
      continue;
    }
    out.emplace(method, text);
  }
}

void ParseClause(const Json& object, std::size_t position,
                 const std::map<std::string, std::string>& capabilities,
                 Parser& parser, Clause& clause) {
  std::string where = absl::StrCat("clauses[", position, "]");
  if (!object.is_object()) {
    parser.Problem(absl::StrCat(where, ": must be an object"));
    return;
  }
  parser.ReadString(object, where, "id", true, true, clause.id);
  if (!clause.id.empty()) {
    where = absl::StrCat(where, " (", clause.id, ")");
    if (!IsValidClauseId(clause.id)) {
      parser.Problem(absl::StrCat(
          where, ": id must be <area>.<topic>.<behaviour>, each part ",
          "[a-z][a-z0-9_]*"));
    }
  }
  for (const auto& [key, value] : object.items()) {
    if (!Contains(kClauseKeys, key)) {
      parser.Problem(absl::StrCat(where, ": unknown field \"", key, "\""));
    }
  }
  parser.ReadString(object, where, "area", true, true, clause.area);
  if (!clause.area.empty() && !clause.id.empty() &&
      !absl::StartsWith(clause.id, absl::StrCat(clause.area, "."))) {
    parser.Problem(absl::StrCat(where, ": id must start with its area \"",
                                clause.area, ".\""));
  }
  parser.ReadString(object, where, "title", true, true, clause.title);
  parser.ReadString(object, where, "seed", true, false, clause.seed);
  parser.ReadString(object, where, "cpython", true, true, clause.cpython);
  ParseKind(object, where, parser, clause.kind);
  ParseRequires(object, where, capabilities, parser,
                clause.requires_capabilities);
  parser.ReadString(object, where, "erratum", false, false, clause.erratum);
  parser.ReadString(object, where, "deviation", false, false, clause.deviation);
  parser.ReadString(object, where, "untested", false, false, clause.untested);
  ParseStartMethods(object, where, parser, clause.start_methods);
}

}  // namespace

absl::string_view ClauseKindName(ClauseKind kind) {
  switch (kind) {
    case ClauseKind::kNormative:
      return "normative";
    case ClauseKind::kImplementationDefined:
      return "implementation-defined";
    case ClauseKind::kOptional:
      return "optional";
  }
  return "unknown";
}

std::string NotApplicableReason(const Clause& clause,
                                absl::string_view start_method) {
  auto it = clause.start_methods.find(std::string(start_method));
  if (it == clause.start_methods.end()) return "";
  absl::string_view reason = it->second;
  if (!absl::ConsumePrefix(&reason, kNotApplicablePrefix)) return "";
  return std::string(reason);
}

bool IsValidCapabilityName(absl::string_view name) {
  return IsIdentifier(name);
}

bool IsValidClauseId(absl::string_view id) {
  std::vector<absl::string_view> parts = absl::StrSplit(id, '.');
  if (parts.size() < 3) return false;
  for (absl::string_view part : parts) {
    if (!IsIdentifier(part)) return false;
  }
  return true;
}

absl::StatusOr<Registry> Registry::Parse(absl::string_view json_text) {
  Json document;
  try {
    document = Json::parse(json_text);
  } catch (const Json::parse_error& error) {
    // nlohmann reports syntax errors only by exception; everything else below
    // is checked.
    return absl::InvalidArgumentError(
        absl::StrCat("clause registry is not JSON: ", error.what()));
  }
  Parser parser;
  Registry registry;
  if (!document.is_object()) {
    parser.Problem("the registry must be a JSON object");
    return parser.Finish(std::move(registry));
  }
  for (const auto& [key, value] : document.items()) {
    if (!Contains(kTopLevelKeys, key))
      parser.Problem(absl::StrCat("unknown key \"", key, "\""));
  }
  if (auto it = document.find("capabilities"); it != document.end()) {
    ParseCapabilities(*it, parser, registry.capabilities_);
  } else {
    parser.Problem("missing \"capabilities\"");
  }
  auto clauses = document.find("clauses");
  if (clauses == document.end() || !clauses->is_array()) {
    parser.Problem("\"clauses\" must be an array");
    return parser.Finish(std::move(registry));
  }
  for (std::size_t i = 0; i < clauses->size(); ++i) {
    Clause clause;
    ParseClause((*clauses)[i], i, registry.capabilities_, parser, clause);
    if (clause.id.empty()) continue;
    if (!registry.index_.emplace(clause.id, registry.clauses_.size()).second) {
      parser.Problem(
          absl::StrCat("clauses[", i, "]: duplicate id \"", clause.id, "\""));
      continue;
    }
    registry.clauses_.push_back(std::move(clause));
  }
  return parser.Finish(std::move(registry));
}

absl::StatusOr<Registry> Registry::Load(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<Registry> registry = Parse(*text);
  if (!registry.ok()) {
    return absl::Status(registry.status().code(),
                        absl::StrCat(path, ": ", registry.status().message()));
  }
  return registry;
}

const Clause* Registry::Find(absl::string_view id) const {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &clauses_[it->second];
}

bool Registry::HasCapability(absl::string_view name) const {
  return capabilities_.find(std::string(name)) != capabilities_.end();
}

}  // namespace conformance
