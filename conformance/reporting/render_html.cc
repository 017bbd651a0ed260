#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "conformance/reporting/render.h"

namespace conformance {
namespace {

// Self-contained on purpose: the page is opened from disk or attached to CI,
// with no network.
constexpr char kStyle[] = R"css(
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 84em; color: #1d2327; }
h1 { margin-bottom: .2em; } h2 { margin-top: 2em; border-bottom: 2px solid #ccd; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #d5d8dc; padding: .45em .6em; vertical-align: top; text-align: left; }
th { background: #f2f4f6; }
table.summary { width: auto; } table.summary td { text-align: right; }
td.spec { width: 70%; }
.head code { font-weight: 600; font-size: 1.02em; }
.title { font-weight: 600; margin: .2em 0; }
blockquote { margin: .4em 0; padding: .3em .8em; border-left: 4px solid #8a9ba8; background: #f7f8fa;
             font-family: "Noto Serif CJK SC", "Source Han Serif", serif; }
.silent { color: #6b7780; font-style: italic; margin: .3em 0; }
.spec p { margin: .3em 0; }
.erratum { background: #fff6e0; } .deviation { background: #eef4ff; }
.tests, .requires { color: #4a545c; font-size: .92em; }
.kind { font-size: .8em; padding: .05em .45em; border-radius: .6em; background: #e4e7eb; }
.kind-normative { background: #dbe9ff; } .kind-optional { background: #efe3ff; }
.kind-implementation-defined { background: #e2f4e8; }
td.outcome { font-weight: 700; white-space: nowrap; }
td.outcome .note { font-weight: 400; white-space: normal; font-size: .85em; margin-top: .3em; }
.o-PASS { background: #dff3e4; color: #116329; } .o-FAIL { background: #fde2e1; color: #a40e26; }
.o-XFAIL { background: #fff1d6; color: #7a4b00; } .o-XPASS { background: #ffe8b3; color: #7a4b00; }
.o-UNSUPPORTED { background: #eceff3; color: #4a545c; } .o-NA { background: #f4f1ea; color: #6b6350; } .o-UNTESTED { background: #fff; color: #6b7780; }
.verdict { font-weight: 700; } .verdict.ok { color: #116329; } .verdict.bad { color: #a40e26; }
nav a { margin-right: 1em; }
)css";

std::string Escape(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"&", "&amp;"},
                                    {"<", "&lt;"},
                                    {">", "&gt;"},
                                    {"\"", "&quot;"},
                                    {"'", "&#39;"}});
}

// The CSS class of an outcome: "o-PASS", ..., "o-NA" for N/A.
std::string OutcomeClass(Outcome outcome) {
  return absl::StrCat("o-",
                      absl::StrReplaceAll(OutcomeName(outcome), {{"/", ""}}));
}

std::string AreaAnchor(absl::string_view area) {
  return absl::StrCat("area-", area);
}

std::string SummaryTable(const Report& report) {
  std::string out = "<table class=\"summary\"><tr><th>outcome</th>";
  for (const Column& column : report.columns) {
    absl::StrAppend(&out, "<th>", Escape(column.Label()), "</th>");
  }
  absl::StrAppend(&out, "</tr>\n");
  for (Outcome outcome : kAllOutcomes) {
    const std::string name(OutcomeName(outcome));
    absl::StrAppend(&out, "<tr><th class=\"", OutcomeClass(outcome), "\">",
                    name, "</th>");
    for (const auto& counts : report.summary) {
      auto it = counts.find(outcome);
      absl::StrAppend(&out, "<td>", it == counts.end() ? 0 : it->second,
                      "</td>");
    }
    absl::StrAppend(&out, "</tr>\n");
  }
  absl::StrAppend(&out, "<tr><th>clauses</th>");
  for (std::size_t k = 0; k < report.columns.size(); ++k) {
    absl::StrAppend(&out, "<td>", report.rows.size(), "</td>");
  }
  absl::StrAppend(&out, "</tr></table>\n");
  return out;
}

std::string List(const char* heading, const std::vector<std::string>& items) {
  if (items.empty()) return "";
  std::string out = absl::StrCat("<h3>", heading, "</h3><ul>");
  for (const std::string& item : items)
    absl::StrAppend(&out, "<li>", Escape(item), "</li>");
  return absl::StrCat(out, "</ul>\n");
}

std::string SpecCell(const ClauseRow& row) {
  const Clause& clause = row.clause;
  const std::string kind(ClauseKindName(clause.kind));
  std::string out = absl::StrCat(
      "<td class=\"spec\"><div class=\"head\"><code>", Escape(clause.id),
      "</code> <span class=\"kind kind-", kind, "\">", kind,
      "</span></div><div class=\"title\">", Escape(clause.title), "</div>");
  if (clause.seed.empty()) {
    absl::StrAppend(&out, "<p class=\"silent\">The seed is silent here.</p>");
  } else {
    absl::StrAppend(&out, "<blockquote lang=\"zh\">", Escape(clause.seed),
                    "</blockquote>");
  }
  absl::StrAppend(&out, "<p class=\"cpython\"><b>CPython 3.11:</b> ",
                  Escape(clause.cpython), "</p>");
  if (!clause.erratum.empty()) {
    absl::StrAppend(&out,
                    "<p class=\"erratum\"><b>Erratum (the seed is wrong):</b> ",
                    Escape(clause.erratum), "</p>");
  }
  if (!clause.deviation.empty()) {
    absl::StrAppend(&out,
                    "<p class=\"deviation\"><b>Deviation from CPython:</b> ",
                    Escape(clause.deviation), "</p>");
  }
  for (const auto& [method, note] : clause.start_methods) {
    absl::StrAppend(&out, "<p class=\"start-method\"><b>Under ", Escape(method),
                    ":</b> ", Escape(note), "</p>");
  }
  if (!clause.requires_capabilities.empty()) {
    absl::StrAppend(&out, "<p class=\"requires\">Requires: ",
                    Escape(absl::StrJoin(clause.requires_capabilities, ", ")),
                    "</p>");
  }
  std::vector<std::string> tests;
  for (const TestCitation& citation : row.citations) {
    tests.push_back(absl::StrCat("<code>", Escape(citation.test), "</code> (",
                                 Escape(citation.Location()), ")"));
  }
  if (!tests.empty()) {
    absl::StrAppend(&out, "<p class=\"tests\">Checked by: ",
                    absl::StrJoin(tests, ", "), "</p>");
  } else if (!clause.untested.empty()) {
    absl::StrAppend(
        &out, "<p class=\"tests\">Untested: ", Escape(clause.untested), "</p>");
  }
  return absl::StrCat(out, "</td>");
}

std::string OutcomeCell(const Cell& cell) {
  const std::string name(OutcomeName(cell.outcome));
  std::string out = absl::StrCat("<td class=\"outcome ",
                                 OutcomeClass(cell.outcome), "\">", name);
  if (!cell.note.empty())
    absl::StrAppend(&out, "<div class=\"note\">", Escape(cell.note), "</div>");
  return absl::StrCat(out, "</td>");
}

}  // namespace

std::string RenderHtml(const Report& report) {
  const bool ok = ExitCode(report) == 0;
  std::string out = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
      "<title>procspec conformance report</title><style>", kStyle,
      "</style></head><body>\n", "<h1>procspec conformance report</h1>\n",
      "<p>procspec reproduces Python's <code>multiprocessing.Process</code> "
      "(CPython 3.11) in C++. ",
      "Each row is a clause of the specification: the seed's sentence, the "
      "CPython behaviour that ",
      "makes it precise, and its outcome per backend/start method.</p>\n",
      "<p class=\"verdict ", ok ? "ok" : "bad", "\">",
      ok ? "No normative clause fails."
         : "The run fails: see FAIL cells and problems.",
      "</p>\n", SummaryTable(report), List("Problems", report.problems),
      List("Flags", report.flags), "<nav>");
  std::vector<std::string> areas;
  for (const ClauseRow& row : report.rows) {
    if (areas.empty() || areas.back() != row.clause.area)
      areas.push_back(row.clause.area);
  }
  for (const std::string& area : areas) {
    absl::StrAppend(&out, "<a href=\"#", Escape(AreaAnchor(area)), "\">",
                    Escape(area), "</a>");
  }
  absl::StrAppend(&out, "</nav>\n");
  std::string area;
  for (const ClauseRow& row : report.rows) {
    if (row.clause.area != area) {
      if (!area.empty()) absl::StrAppend(&out, "</tbody></table></section>\n");
      area = row.clause.area;
      absl::StrAppend(&out, "<section id=\"", Escape(AreaAnchor(area)),
                      "\"><h2>", Escape(area),
                      "</h2><table><thead><tr><th>clause</th>");
      for (const Column& column : report.columns) {
        absl::StrAppend(&out, "<th>", Escape(column.Label()), "</th>");
      }
      absl::StrAppend(&out, "</tr></thead><tbody>\n");
    }
    absl::StrAppend(&out, "<tr id=\"", Escape(row.clause.id), "\">",
                    SpecCell(row));
    for (const Cell& cell : row.cells) absl::StrAppend(&out, OutcomeCell(cell));
    absl::StrAppend(&out, "</tr>\n");
  }
  if (!area.empty()) absl::StrAppend(&out, "</tbody></table></section>\n");
  absl::StrAppend(&out, "</body></html>\n");
  return out;
}

}  // namespace conformance
