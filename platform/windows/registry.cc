// The backends of a Windows build: "windows" alone.
#include <atomic>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "platform/platform.h"
#include "platform/windows/windows_backend.h"

namespace procspec::platform {
namespace {

std::atomic<Backend*> selected{nullptr};
constexpr char kEnvironmentVariable[] = "PROCSPEC_BACKEND";

}  // namespace

std::vector<std::string> BackendNames() { return {"windows"}; }

absl::StatusOr<Backend*> GetBackend(std::string_view name) {
  if (name == "windows") return &windows::WindowsBackendInstance();
  return absl::NotFoundError(
      absl::StrCat("unknown backend '", std::string(name),
                   "'; this binary has ", absl::StrJoin(BackendNames(), ", ")));
}

Backend& CurrentBackend() {
  if (Backend* backend = selected.load(std::memory_order_acquire))
    return *backend;
  if (const char* name = std::getenv(kEnvironmentVariable);
      name != nullptr && *name != '\0' && std::string_view(name) != "windows") {
    static std::once_flag warned;
    std::call_once(warned, [&] {
      std::cerr << "procspec: ignoring " << kEnvironmentVariable << "=" << name
                << ": " << GetBackend(name).status().message() << std::endl;
    });
  }
  return windows::WindowsBackendInstance();
}

absl::Status SelectBackend(std::string_view name) {
  absl::StatusOr<Backend*> backend = GetBackend(name);
  if (!backend.ok()) return backend.status();
  selected.store(*backend, std::memory_order_release);
  return absl::OkStatus();
}

absl::StatusOr<PipeEnds> MakePipe() { return CurrentBackend().MakePipe(); }

}  // namespace procspec::platform
