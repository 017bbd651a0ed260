// Code before the main guard reads the program's arguments, as a Python
// program reads sys.argv at module level. CPython gives a spawned (and a
// forkserver) child its parent's sys.argv, so the child sees the same
// argument; procspec passes the arguments Init recorded. The first argument
// picks the start method. The Python twin is argv_before_init.py.
//
//   method = sys.argv[1]
//   print('before the guard:', method)
//   if __name__ == '__main__':
//       multiprocessing.set_start_method(method)
//       p = Process(target=task, args=('p1',)); p.start(); p.join()
//       print('exitcode', p.exitcode)
#include <cstring>
#include <iostream>
#include <string>
#include <tuple>

#include "process/context.h"
#include "process/init.h"
#include "process/process.h"
#include "process/spawn.h"

namespace {

void task(const std::string& name) {
  std::cout << name << " runing" << std::endl;
}
PROCSPEC_TARGET(task);

}  // namespace

int main(int argc, char** argv) {
  // Deliberately unchecked, as sys.argv[1] is in the twin: a child started
  // without the parent's arguments would read past the end of argv.
  const std::string method(argv[1], std::strlen(argv[1]));
  std::cout << "before the guard: " << method << std::endl;
  procspec::Init(argc, argv);
  if (absl::Status s = procspec::set_start_method(method); !s.ok()) {
    std::cerr << s << std::endl;
    return 2;
  }
  procspec::Process p(task, std::tuple{"p1"});
  if (absl::Status s = p.start(); !s.ok()) {
    std::cerr << s << std::endl;
    return 2;
  }
  if (absl::Status s = p.join(); !s.ok()) {
    std::cerr << s << std::endl;
    return 2;
  }
  std::cout << "exitcode " << p.exitcode()->value_or(-1000) << std::endl;
  return 0;
}
