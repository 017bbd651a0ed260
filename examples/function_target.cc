// The seed's first program (创建并开启子进程的方式一): four processes from a
// function target.
//
// clang-format off
//   def task(name):
//     print('%s runing' % name)
//     time.sleep(random.randint(1, 5))
//     print('%s run end' % name)
//
//   if __name__ == '__main__':
//     p1 = Process(target=task, args=('p1',))  # 必须加','号 (the comma is required)
//     ... p1.start() ... p4.start()
//     print("主")
// clang-format on
//
// "主" ("main") is printed right after the four start() calls, usually before
// any child finishes. The parent does not join: as in CPython, a normal exit
// joins the children first.
#include <iostream>
#include <string>
#include <tuple>

#include "absl/flags/parse.h"
#include "examples/seed_sleep.h"
#include "process/init.h"
#include "process/process.h"
#include "process/spawn.h"

namespace {

void task(const std::string& name) {
  std::cout << name << " runing" << std::endl;
  procspec::examples::SleepRandomOneToFiveSeconds();
  std::cout << name << " run end" << std::endl;
}
// For the spawn start method (the only one on Windows): a spawned child finds
// the target by name.
PROCSPEC_TARGET(task);

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // The seed's `if __name__ == '__main__':`, which Windows needs: a spawned
  // child (which parsed the same flags above) runs its target here and ends.
  procspec::Init(argc, argv);
  // args is a tuple: std::tuple{"p1"} is Python's ('p1',). A bare "p1" does
  // not compile.
  procspec::Process p1(task, std::tuple{"p1"});
  procspec::Process p2(task, std::tuple{"p2"});
  procspec::Process p3(task, std::tuple{"p3"});
  procspec::Process p4(task, std::tuple{"p4"});

  for (procspec::Process* p : {&p1, &p2, &p3, &p4}) {
    if (absl::Status status = p->start(); !status.ok()) {
      std::cerr << "start failed: " << status << "\n";
      return 1;
    }
  }
  std::cout << "主" << std::endl;
  return 0;
}
