#include "process/testing/child_targets.h"

#include <stdexcept>

#include "platform/platform.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"

namespace procspec::testing {

int g_global = 1;

void ExitWith(int code) { Exit(code); }
PROCSPEC_TARGET(ExitWith);

void ExitWithSum(int a, std::string text, const Kwargs& kwargs) {
  Exit(a + static_cast<int>(text.size()) +
       static_cast<int>(kwargs.at("x").as<std::int64_t>()));
}
PROCSPEC_TARGET(ExitWithSum);

void Throw() { throw std::runtime_error("boom"); }
PROCSPEC_TARGET(Throw);

void ExitWithGlobal() { Exit(g_global); }
PROCSPEC_TARGET(ExitWithGlobal);

void CheckSelf(std::string name, bool daemon, std::int64_t parent_pid,
               std::string parent_name, std::string authkey) {
  Process& self = current_process();
  if (self.name() != name) Exit(10);
  if (self.daemon() != daemon) Exit(11);
  if (parent_process() == nullptr) Exit(12);
  if (parent_process()->pid() != parent_pid) Exit(13);
  if (parent_process()->name() != parent_name) Exit(14);
  if (self.authkey() != authkey) Exit(15);
  if (!parent_process()->is_alive()) Exit(16);
  if (*self.pid() != platform::CurrentPid()) Exit(17);
  Exit(0);
}
PROCSPEC_TARGET(CheckSelf);

}  // namespace procspec::testing
