#include "conformance/suite/common/examples.h"

#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "conformance/harness/environment.h"
#include "conformance/harness/timeout.h"

namespace conformance::testing {

namespace os = ::procspec::platform::testing;

absl::StatusOr<std::string> FindExample(const std::string& name) {
  const std::string relative = absl::StrCat("procspec/examples/", name);
  std::vector<std::filesystem::path> candidates;
  for (const char* variable : {"TEST_SRCDIR", "RUNFILES_DIR"}) {
    if (std::optional<std::string> root = os::GetEnv(variable);
        root.has_value() && !root->empty()) {
      candidates.push_back(std::filesystem::path(*root) / relative);
    }
  }
  std::error_code error;
  const std::filesystem::path cwd = std::filesystem::current_path(error);
  if (!error) {
    candidates.push_back(cwd / "examples" / name);
    candidates.push_back(cwd / relative);
  }
  if (absl::StatusOr<std::string> self = os::CurrentExecutable(); self.ok()) {
    candidates.push_back(std::filesystem::path(*self + ".runfiles") / relative);
  }
  std::string tried;
  for (const std::filesystem::path& candidate : candidates) {
    // A Windows build's programs end in ".exe".
    for (const std::string suffix : {"", ".exe"}) {
      const std::filesystem::path file = candidate.string() + suffix;
      if (std::filesystem::is_regular_file(file, error)) return file.string();
    }
    absl::StrAppend(&tried, " ", candidate.string());
  }
  return absl::NotFoundError(
      absl::StrCat("example binary ", name, " not found; tried", tried));
}

absl::StatusOr<os::CommandResult> RunExample(
    const std::string& name, const std::vector<std::string>& args) {
  absl::StatusOr<std::string> path = FindExample(name);
  if (!path.ok()) return path.status();
  std::vector<std::string> argv = {*path};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::optional<std::string> saved = os::GetEnv("PROCSPEC_BACKEND");
  os::SetEnv("PROCSPEC_BACKEND", std::string(BackendName()));
  absl::StatusOr<os::CommandResult> result =
      os::RunCommand(argv, absl::Now() + ScaledTimeout(absl::Seconds(60)));
  os::SetEnv("PROCSPEC_BACKEND", saved.value_or(""));
  return result;
}

}  // namespace conformance::testing
