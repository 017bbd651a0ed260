#include "process/context.h"

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "process/errors.h"

namespace procspec {
namespace {

const Context& ForkContext() {
  static const Context* const context = new Context("fork");
  return *context;
}

const Context& SpawnContext() {
  static const Context* const context = new Context("spawn");
  return *context;
}

const Context& ForkServerContext() {
  static const Context* const context = new Context("forkserver");
  return *context;
}

// The default for the platforms procspec has backends for (POSIX, Linux),
// as CPython 3.11 on Linux. A Windows build would default to spawn.
const Context& DefaultContext() { return ForkContext(); }

// Constant-initialized: std::mutex has a constexpr constructor.
std::mutex g_mu;
const Context* g_actual ABSL_GUARDED_BY(g_mu) = nullptr;

const Context* Concrete(std::string_view method) {
  if (method == "fork") return &ForkContext();
  if (method == "spawn") return &SpawnContext();
  if (method == "forkserver") return &ForkServerContext();
  return nullptr;
}

// CPython's repr() of a str, enough for method names.
std::string Quoted(std::string_view text) {
  return absl::StrCat("'", std::string(text), "'");
}

}  // namespace

// CPython 3.11 on Linux lists them in this order.
std::vector<std::string> get_all_start_methods() {
  return {"fork", "spawn", "forkserver"};
}

absl::StatusOr<const Context*> get_context(
    std::optional<std::string_view> method) {
  if (!method.has_value()) {
    std::lock_guard<std::mutex> lock(g_mu);
    if (g_actual == nullptr) g_actual = &DefaultContext();
    return g_actual;
  }
  const Context* context = Concrete(*method);
  if (context == nullptr) {
    return ValueError(
        absl::StrCat("cannot find context for ", Quoted(*method)));
  }
  return context;
}

absl::Status set_start_method(std::optional<std::string_view> method,
                              bool force) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_actual != nullptr && !force)
    return RuntimeError("context has already been set");
  if (!method.has_value() && force) {
    g_actual = nullptr;
    return absl::OkStatus();
  }
  const Context* context = method.has_value() ? Concrete(*method) : nullptr;
  if (context == nullptr) {
    return ValueError(absl::StrCat(
        "cannot find context for ",
        method.has_value() ? Quoted(*method) : std::string("None")));
  }
  g_actual = context;
  return absl::OkStatus();
}

std::optional<std::string> get_start_method(bool allow_none) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_actual == nullptr) {
    if (allow_none) return std::nullopt;
    g_actual = &DefaultContext();
  }
  return g_actual->get_start_method();
}

}  // namespace procspec
