// The report in four forms: a plain-text matrix for the terminal, and Markdown,
// JSON and a self-contained HTML page (inline CSS, no external assets) under
// report/.
#ifndef PROCSPEC_CONFORMANCE_REPORTING_RENDER_H_
#define PROCSPEC_CONFORMANCE_REPORTING_RENDER_H_

#include <string>

#include "conformance/reporting/matrix.h"

namespace conformance {

std::string RenderText(const Report& report);
std::string RenderMarkdown(const Report& report);
std::string RenderJson(const Report& report);
// The page reads as the specification: clauses grouped by area, each with its
// seed quote, CPython behaviour, kind, errata and deviation, the tests that
// check it, and its outcomes.
std::string RenderHtml(const Report& report);

}  // namespace conformance

#endif  // PROCSPEC_CONFORMANCE_REPORTING_RENDER_H_
