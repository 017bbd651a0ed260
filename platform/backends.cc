// The backends compiled into this binary, and the choice of the current one.
// The list is the OS's (internal/port.h: CompiledBackends, defined in the OS's
// folder), best first.
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
#include "platform/internal/port.h"
#include "platform/platform.h"

namespace procspec::platform {
namespace {

using internal::CompiledBackend;
using internal::CompiledBackends;

// Set by SelectBackend; null until then. Backends live for ever, so a plain
// pointer is enough.
std::atomic<Backend*> selected{nullptr};

constexpr char kEnvironmentVariable[] = "PROCSPEC_BACKEND";

}  // namespace

std::vector<std::string> BackendNames() {
  std::vector<std::string> names;
  for (const CompiledBackend& backend : CompiledBackends())
    names.emplace_back(backend.name);
  return names;
}

absl::StatusOr<Backend*> GetBackend(std::string_view name) {
  for (const CompiledBackend& backend : CompiledBackends()) {
    if (backend.name == name) return &backend.instance();
  }
  return absl::NotFoundError(
      absl::StrCat("unknown backend '", std::string(name),
                   "'; this binary has ", absl::StrJoin(BackendNames(), ", ")));
}

Backend& CurrentBackend() {
  if (Backend* backend = selected.load(std::memory_order_acquire))
    return *backend;
  // Read each time until a backend is selected, so that a test may change the
  // variable.
  if (const char* name = std::getenv(kEnvironmentVariable);
      name != nullptr && *name != '\0') {
    if (absl::StatusOr<Backend*> backend = GetBackend(name); backend.ok())
      return **backend;
    static std::once_flag warned;
    std::call_once(warned, [&] {
      std::cerr << "procspec: ignoring " << kEnvironmentVariable << "=" << name
                << ": " << GetBackend(name).status().message() << std::endl;
    });
  }
  return CompiledBackends().front().instance();
}

absl::Status SelectBackend(std::string_view name) {
  absl::StatusOr<Backend*> backend = GetBackend(name);
  if (!backend.ok()) return backend.status();
  selected.store(*backend, std::memory_order_release);
  return absl::OkStatus();
}

absl::StatusOr<PipeEnds> MakePipe() { return CurrentBackend().MakePipe(); }

}  // namespace procspec::platform
