#include "conformance/reporting/render.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "nlohmann/json.hpp"

namespace conformance {
namespace {

std::string Pad(absl::string_view text, std::size_t width) {
  std::string padded(text);
  if (padded.size() < width) padded.append(width - padded.size(), ' ');
  return padded;
}

// Markdown table cells cannot hold '|' or newlines.
std::string MarkdownCell(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"|", "\\|"}, {"\n", " "}});
}

std::string SummaryLine(const std::map<Outcome, int>& counts) {
  std::vector<std::string> parts;
  for (Outcome outcome : kAllOutcomes) {
    auto it = counts.find(outcome);
    if (it != counts.end() && it->second > 0) {
      parts.push_back(absl::StrCat(it->second, " ", OutcomeName(outcome)));
    }
  }
  return parts.empty() ? "nothing" : absl::StrJoin(parts, ", ");
}

}  // namespace

std::string RenderText(const Report& report) {
  std::size_t id_width = 6;
  for (const ClauseRow& row : report.rows)
    id_width = std::max(id_width, row.clause.id.size());
  std::size_t cell_width = 12;
  for (const Column& column : report.columns) {
    cell_width = std::max(cell_width, column.Label().size() + 2);
  }
  std::string out = Pad("clause", id_width + 2);
  for (const Column& column : report.columns)
    absl::StrAppend(&out, Pad(column.Label(), cell_width));
  absl::StrAppend(&out, "kind\n");
  for (const ClauseRow& row : report.rows) {
    absl::StrAppend(&out, Pad(row.clause.id, id_width + 2));
    for (const Cell& cell : row.cells) {
      absl::StrAppend(&out, Pad(OutcomeName(cell.outcome), cell_width));
    }
    absl::StrAppend(&out, ClauseKindName(row.clause.kind), "\n");
  }
  absl::StrAppend(&out, "\n");
  for (std::size_t k = 0; k < report.columns.size(); ++k) {
    absl::StrAppend(&out, Pad(report.columns[k].Label(), id_width + 2),
                    SummaryLine(report.summary[k]), "\n");
  }
  for (const ClauseRow& row : report.rows) {
    for (std::size_t k = 0; k < row.cells.size(); ++k) {
      const Cell& cell = row.cells[k];
      if (cell.outcome == Outcome::kFail || cell.outcome == Outcome::kXpass) {
        absl::StrAppend(&out, "\n", OutcomeName(cell.outcome), " ",
                        row.clause.id, " (", ClauseKindName(row.clause.kind),
                        ") on ", report.columns[k].Label(), ": ", cell.note);
      }
    }
  }
  for (const std::string& problem : report.problems)
    absl::StrAppend(&out, "\nPROBLEM ", problem);
  absl::StrAppend(&out, "\n");
  if (!report.robustness.empty()) {
    absl::StrAppend(&out, "\nRobustness\n");
    for (const RobustnessCheck& check : report.robustness) {
      absl::StrAppend(&out, Pad(check.category, 11), Pad(check.name, 30), " ",
                      Pad(check.result, 12), check.detail, "\n");
    }
  }
  return out;
}

std::string RenderMarkdown(const Report& report) {
  std::string out = "# procspec conformance report\n\n";
  absl::StrAppend(&out,
                  "Outcome per clause and (backend/start method). See "
                  "README.md for how to ",
                  "read it.\n\n| column | summary |\n|---|---|\n");
  for (std::size_t k = 0; k < report.columns.size(); ++k) {
    absl::StrAppend(&out, "| ", report.columns[k].Label(), " | ",
                    SummaryLine(report.summary[k]), " |\n");
  }
  if (!report.problems.empty()) {
    absl::StrAppend(&out, "\n## Problems\n\n");
    for (const std::string& problem : report.problems) {
      absl::StrAppend(&out, "- ", MarkdownCell(problem), "\n");
    }
  }
  if (!report.flags.empty()) {
    absl::StrAppend(&out, "\n## Flags\n\n");
    for (const std::string& flag : report.flags)
      absl::StrAppend(&out, "- ", MarkdownCell(flag), "\n");
  }
  if (!report.robustness.empty()) {
    absl::StrAppend(
        &out,
        "\n## Robustness\n\nThe clauses of area `robustness`, "
        "and the latest recorded sanitizer and fuzz runs.\n\n"
        "| check | name | result | what was run |\n|---|---|---|---|"
        "\n");
    for (const RobustnessCheck& check : report.robustness) {
      absl::StrAppend(&out, "| ", check.category, " | `", check.name, "` | ",
                      check.result, " | ", MarkdownCell(check.detail), " |\n");
    }
  }
  std::string area;
  for (const ClauseRow& row : report.rows) {
    if (row.clause.area != area) {
      area = row.clause.area;
      absl::StrAppend(&out, "\n## ", area, "\n\n| clause | kind |");
      for (const Column& column : report.columns)
        absl::StrAppend(&out, " ", column.Label(), " |");
      absl::StrAppend(&out, "\n|---|---|");
      for (std::size_t k = 0; k < report.columns.size(); ++k)
        absl::StrAppend(&out, "---|");
      absl::StrAppend(&out, "\n");
    }
    absl::StrAppend(&out, "| `", row.clause.id, "` ",
                    MarkdownCell(row.clause.title), " | ",
                    ClauseKindName(row.clause.kind), " |");
    for (const Cell& cell : row.cells) {
      absl::StrAppend(&out, " ", OutcomeName(cell.outcome));
      if (cell.outcome != Outcome::kPass && !cell.note.empty()) {
        absl::StrAppend(&out, ": ", MarkdownCell(cell.note));
      }
      absl::StrAppend(&out, " |");
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

std::string RenderJson(const Report& report) {
  using Json = nlohmann::json;
  Json columns = Json::array();
  for (std::size_t k = 0; k < report.columns.size(); ++k) {
    Json summary = Json::object();
    for (const auto& [outcome, count] : report.summary[k]) {
      summary[std::string(OutcomeName(outcome))] = count;
    }
    columns.push_back({{"host", report.columns[k].host},
                       {"backend", report.columns[k].backend},
                       {"start_method", report.columns[k].start_method},
                       {"label", report.columns[k].Label()},
                       {"summary", summary}});
  }
  Json clauses = Json::array();
  for (const ClauseRow& row : report.rows) {
    Json outcomes = Json::object();
    for (std::size_t k = 0; k < row.cells.size(); ++k) {
      Json tests = Json::array();
      for (const TestRef& test : row.cells[k].tests) {
        tests.push_back({{"test", test.test},
                         {"location", test.location},
                         {"status", std::string(TestStatusName(test.status))},
                         {"message", test.message}});
      }
      outcomes[report.columns[k].Label()] = {
          {"outcome", std::string(OutcomeName(row.cells[k].outcome))},
          {"note", row.cells[k].note},
          {"tests", tests}};
    }
    Json tests = Json::array();
    for (const TestCitation& citation : row.citations) {
      tests.push_back(
          {{"test", citation.test}, {"location", citation.Location()}});
    }
    clauses.push_back({{"id", row.clause.id},
                       {"area", row.clause.area},
                       {"title", row.clause.title},
                       {"kind", std::string(ClauseKindName(row.clause.kind))},
                       {"seed", row.clause.seed},
                       {"cpython", row.clause.cpython},
                       {"erratum", row.clause.erratum},
                       {"deviation", row.clause.deviation},
                       {"requires", row.clause.requires_capabilities},
                       {"start_methods", row.clause.start_methods},
                       {"tests", tests},
                       {"outcomes", outcomes}});
  }
  Json robustness = Json::array();
  for (const RobustnessCheck& check : report.robustness) {
    robustness.push_back({{"category", check.category},
                          {"name", check.name},
                          {"result", check.result},
                          {"detail", check.detail}});
  }
  Json document = {{"columns", columns},    {"robustness", robustness},
                   {"clauses", clauses},    {"problems", report.problems},
                   {"flags", report.flags}, {"exit_code", ExitCode(report)}};
  return document.dump(2) + "\n";
}

}  // namespace conformance
