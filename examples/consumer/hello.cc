// A user's program: two children under each start method, their exit codes
// printed by the parent. Built from a workspace of its own that uses procspec
// as an external repository.
#include <cstdio>
#include <optional>
#include <string>
#include <tuple>

#include "absl/status/status.h"
#include "process/init.h"
#include "process/process.h"
#include "process/system_exit.h"

// sys.exit(code): a target's return value is ignored, as in Python.
void ExitWith(int code) { procspec::Exit(code); }
PROCSPEC_TARGET(ExitWith);

int main(int argc, char** argv) {
  procspec::Init(argc, argv);
  for (const std::string method : {"fork", "spawn", "forkserver"}) {
    absl::StatusOr<const procspec::Context*> context =
        procspec::get_context(method);
    if (!context.ok()) return 1;
    procspec::Process p(ExitWith, std::tuple{7}, {.context = *context});
    if (absl::Status started = p.start(); !started.ok()) {
      std::fprintf(stderr, "%s\n", started.ToString().c_str());
      return 1;
    }
    if (absl::Status joined = p.join(); !joined.ok()) return 1;
    absl::StatusOr<std::optional<int>> exitcode = p.exitcode();
    if (!exitcode.ok() || !exitcode->has_value()) return 1;
    std::printf("%s: exitcode %d\n", method.c_str(), **exitcode);
    if (**exitcode != 7) return 1;
  }
  return 0;
}
