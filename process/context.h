// Start methods and contexts: multiprocessing.set_start_method,
// get_start_method, get_all_start_methods and get_context (CPython 3.11).
//
// clang-format off
//   ```c++
//   #include <tuple>
//
//   #include "process/context.h"
//   #include "process/process.h"
//
//   void task(int n) { (void)n; }
//   PROCSPEC_TARGET(task);
//
//   int main(int argc, char** argv) {
//     procspec::Init(argc, argv);
//     // Once, in the main guard: the default for Process objects.
//     if (!procspec::set_start_method("spawn").ok()) return 1;
//     // Or per Process: a SpawnProcess-N (CPython's ctx.Process).
//     const procspec::Context* ctx = *procspec::get_context("spawn");
//     procspec::Process p(task, std::tuple{1}, {.context = ctx});
//     if (!p.start().ok() || !p.join().ok()) return 1;
//     return 0;
//   }
//   ```
// clang-format on
//
// "fork" (the default on POSIX and Linux, as CPython 3.11 on Linux), "spawn"
// (a fresh run of the program; see spawn.h for what it can send) and
// "forkserver" (children forked by a server process that procspec::Init forks
// early, or that the first forkserver start() starts as a fresh run of the
// program; it sends what spawn sends). Where the backend cannot fork
// (Windows) spawn is the only start method and the default, as in CPython on
// Windows: "fork" and "forkserver" are unknown there ("cannot find context
// for 'fork'").
#ifndef PROCSPEC_PROCESS_CONTEXT_H_
#define PROCSPEC_PROCESS_CONTEXT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace procspec {

namespace internal {
class Popen;
}  // namespace internal

// A start method's context (CPython's ForkContext, SpawnContext, ...). The
// objects live for the whole program; get_context() returns them.
class Context {
 public:
  explicit Context(const internal::Popen& popen);
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // "fork", "spawn", "forkserver": the name its Popen gives.
  std::string get_start_method() const;

  // For procspec itself: how this start method makes a child (CPython's
  // ctx.Process._Popen).
  const internal::Popen& popen() const { return popen_; }

 private:
  const internal::Popen& popen_;
};

// The start methods this build supports, the default first.
std::vector<std::string> get_all_start_methods();

// The context for `method`; ValueError "cannot find context for 'xyz'" for an
// unknown one. nullopt: the current default (which fixes it, as CPython does).
absl::StatusOr<const Context*> get_context(
    std::optional<std::string_view> method = std::nullopt);

// Fixes the start method that Process objects without a context use.
// RuntimeError "context has already been set" if it was fixed before (by a
// call, or by a start() or get_start_method() that used the default), unless
// `force`. `force` with nullopt unsets it. ValueError for an unknown method.
absl::Status set_start_method(std::optional<std::string_view> method,
                              bool force = false);

// The start method in use (fixing the default if none was set), or nullopt
// with `allow_none` when none has been fixed yet.
std::optional<std::string> get_start_method(bool allow_none = false);

}  // namespace procspec

#endif  // PROCSPEC_PROCESS_CONTEXT_H_
