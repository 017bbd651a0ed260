#include "conformance/reporting/report_files.h"

#include <cstdio>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "conformance/registry/file_util.h"
#include "conformance/reporting/render.h"

namespace conformance {

int InputError(absl::string_view program, const absl::Status& status) {
  std::fprintf(stderr, "%s: %s\n", std::string(program).c_str(),
               std::string(status.message()).c_str());
  return kInputError;
}

absl::Status WriteReportFiles(const Report& report,
                              const std::filesystem::path& directory,
                              absl::string_view stem) {
  for (const auto& [extension, contents] :
       {std::pair<const char*, std::string>{".md", RenderMarkdown(report)},
        {".json", RenderJson(report)},
        {".html", RenderHtml(report)}}) {
    const std::string path =
        (directory / absl::StrCat(stem, extension)).string();
    if (absl::Status status = WriteFile(path, contents); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

void PrintVerdict(absl::string_view program,
                  const std::filesystem::path& directory,
                  absl::string_view stem, int exit_code) {
  const std::string name(program);
  std::printf("\n%s: wrote %s/%s.{md,json,html}\n", name.c_str(),
              directory.string().c_str(), std::string(stem).c_str());
  std::printf("%s: %s\n", name.c_str(),
              exit_code == 0
                  ? "OK (no normative clause fails)"
                  : "FAILED (a normative clause fails, or problems)");
}

}  // namespace conformance
