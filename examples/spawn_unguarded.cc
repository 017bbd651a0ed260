// The seed's Windows rule, broken on purpose: no main guard. Under spawn the
// child is a fresh run of this program, reaches start() again before any guard
// and fails with CPython's RuntimeError ("An attempt has been made to start a
// new process before the current process has finished its bootstrapping
// phase. ..."), exit code 1; the parent's start() succeeds and it sees
// exitcode 1. Nothing recurses. With the argument "fork" the same program
// works, as in CPython.
//
//   def task(name): print('%s runing' % name)
//   print('main() entered')
//   multiprocessing.set_start_method(sys.argv[1] if len(sys.argv) > 1 else
//   'spawn') p = Process(target=task, args=('p1',)); p.start(); p.join()
//   print('exitcode', p.exitcode)
#include <iostream>
#include <string>
#include <tuple>

#include "process/context.h"
#include "process/process.h"
#include "process/spawn.h"

namespace {

void task(const std::string& name) {
  std::cout << name << " runing" << std::endl;
}
PROCSPEC_TARGET(task);

}  // namespace

int main(int argc, char** argv) {
  std::cout << "main() entered" << std::endl;
  const std::string method = argc > 1 ? argv[1] : "spawn";
  if (absl::Status s = procspec::set_start_method(method); !s.ok()) {
    std::cerr << s << std::endl;
    return 2;
  }
  procspec::Process p(task, std::tuple{"p1"});
  if (absl::Status s = p.start(); !s.ok()) {
    std::cerr << s << std::endl;
    return 2;
  }
  (void)p.join();
  std::cout << "exitcode " << p.exitcode()->value_or(-1000) << std::endl;
  return 0;
}
