#include "process/context.h"

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "platform/platform.h"
#include "process/errors.h"
#include "process/internal/popen.h"

namespace procspec {
namespace {

const Context& ForkContext() {
  static const Context* const context = new Context(internal::ForkPopen());
  return *context;
}

const Context& SpawnContext() {
  static const Context* const context = new Context(internal::SpawnPopen());
  return *context;
}

const Context& ForkServerContext() {
  static const Context* const context =
      new Context(internal::ForkServerPopen());
  return *context;
}

// CPython 3.11 on Linux lists them in this order.
const Context* const* AllContexts() {
  static const Context* const contexts[] = {&ForkContext(), &SpawnContext(),
                                            &ForkServerContext(), nullptr};
  return contexts;
}

// Whether the backend in use can fork: CPython's contexts on Windows are
// spawn alone, because Windows has no fork().
bool CanFork() { return platform::CurrentBackend().SupportsFork(); }

// As CPython 3.11: fork on POSIX and Linux, spawn where there is no fork
// (Windows).
const Context& DefaultContext() {
  return CanFork() ? ForkContext() : SpawnContext();
}

// Constant-initialized: std::mutex has a constexpr constructor.
std::mutex g_mu;
const Context* g_actual ABSL_GUARDED_BY(g_mu) = nullptr;

// Where the backend cannot fork, "fork" and "forkserver" are unknown, as in
// CPython on Windows ("cannot find context for 'fork'").
const Context* Concrete(std::string_view method) {
  for (const Context* const* c = AllContexts(); *c != nullptr; ++c) {
    if ((*c)->get_start_method() != method) continue;
    if ((*c)->popen().needs_fork() && !CanFork()) return nullptr;
    return *c;
  }
  return nullptr;
}

// CPython's repr() of a str, enough for method names.
std::string Quoted(std::string_view text) {
  return absl::StrCat("'", std::string(text), "'");
}

}  // namespace

Context::Context(const internal::Popen& popen) : popen_(popen) {}

std::string Context::get_start_method() const {
  return std::string(popen_.method());
}

// CPython 3.11 on Linux lists them in this order; on Windows spawn alone.
std::vector<std::string> get_all_start_methods() {
  std::vector<std::string> methods;
  for (const Context* const* c = AllContexts(); *c != nullptr; ++c) {
    if ((*c)->popen().needs_fork() && !CanFork()) continue;
    methods.push_back((*c)->get_start_method());
  }
  return methods;
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
