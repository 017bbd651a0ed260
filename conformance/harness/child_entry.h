// Named entry points that a re-executed test binary runs instead of its tests.
//
//   CONFORMANCE_CHILD_ENTRY(print_args) {
//     std::printf("%s\n", absl::StrJoin(args, " ").c_str());
//     return 0;  // the process's exit code
//   }
//   ...
//   absl::StatusOr<std::vector<std::string>> argv =
//       conformance::ChildCommand("print_args", {"extra", "args"});
//   ... procspec::platform::testing::RunCommand(*argv) ...
//
// `<suite binary> [harness flags] --child=<name> [args...]` selects the backend
// and start method, then runs the entry with `args` (visible in the body as
// `args`) before gtest is initialised, and exits with its return value. Use it
// when a test needs a fresh process image (exec), e.g. to observe what a
// program does from its first instruction; for a forked child use the backend
// or the process library directly.
#ifndef PROCSPEC_CONFORMANCE_HARNESS_CHILD_ENTRY_H_
#define PROCSPEC_CONFORMANCE_HARNESS_CHILD_ENTRY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace conformance {

using ChildEntry = int (*)(const std::vector<std::string>& args);

// The argv that re-executes this binary into entry `name` with `args`, on the
// same backend and start method.
absl::StatusOr<std::vector<std::string>> ChildCommand(
    absl::string_view name, const std::vector<std::string>& args = {});

namespace internal {
// Returns true; aborts at start-up on a duplicate name (two entries would be
// ambiguous).
bool RegisterChildEntry(const char* name, ChildEntry entry);
// nullptr if no entry is called `name`.
ChildEntry FindChildEntry(absl::string_view name);
}  // namespace internal
}  // namespace conformance

#define CONFORMANCE_CHILD_ENTRY(name)                  \
  static int ConformanceChildEntry_##name(             \
      const std::vector<std::string>& args);           \
  [[maybe_unused]] static const bool                   \
      conformance_child_entry_registered_##name =      \
          ::conformance::internal::RegisterChildEntry( \
              #name, &ConformanceChildEntry_##name);   \
  static int ConformanceChildEntry_##name(             \
      [[maybe_unused]] const std::vector<std::string>& args)

#endif  // PROCSPEC_CONFORMANCE_HARNESS_CHILD_ENTRY_H_
