// The seed's Windows rule (在windows中process()必须放到#if __name__ ==
// '__main__':下) in C++, guarded form: under the spawn start method every child
// is a fresh run of this program, so main() begins with the main guard,
// procspec::Init.
//
//   def task(name): print('%s runing' % name)
//   print('before the guard')           # runs again in every spawned child
//   if __name__ == '__main__':
//     multiprocessing.set_start_method(sys.argv[1] if len(sys.argv) > 1
//                                      else 'spawn')
//     p1 = Process(target=task, args=('p1',)); p2 = ...
//     p1.start(); p2.start(); p1.join(); p2.join()
//     print('主')
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
  std::cout << "before the guard" << std::endl;
  procspec::Init(argc, argv);  // a spawned child runs task here and exits
  // With the argument "fork" the prologue runs once: forked children do not
  // run main() again.
  const std::string method = argc > 1 ? argv[1] : "spawn";
  if (absl::Status s = procspec::set_start_method(method); !s.ok()) {
    std::cerr << s << std::endl;
    return 1;
  }
  procspec::Process p1(task, std::tuple{"p1"});
  procspec::Process p2(task, std::tuple{"p2"});
  for (procspec::Process* p : {&p1, &p2}) {
    if (absl::Status s = p->start(); !s.ok()) {
      std::cerr << s << std::endl;
      return 1;
    }
  }
  for (procspec::Process* p : {&p1, &p2}) (void)p->join();
  std::cout << "主" << std::endl;
  return 0;
}
