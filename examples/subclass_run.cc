// The seed's second program (创建并开启子进程的方式二): a subclass of Process
// overrides run().
//
// clang-format off
//   class Pro(Process):
//     def __init__(self, name):
//       super().__init__()
//       self.name = name
//     def run(self):
//       print('%s runing' % self.name)
//       time.sleep(random.randint(1, 5))
//       print('%s end' % self.name)
//
//   if __name__ == '__main__':
//     p1 = Pro('p1') ... p4 = Pro('p4')
//     p1.start()  # start会自动调用run (start calls run)
//     ...
//     print('主')
// clang-format on
//
// The seed indents the `if __name__ == '__main__':` block inside the class
// body and prints print(主) unquoted; both are slips (see the registry's
// errata). This is the intended program.
#include <iostream>
#include <string>
#include <utility>

#include "absl/flags/parse.h"
#include "examples/seed_sleep.h"
#include "process/init.h"
#include "process/process.h"
#include "process/spawn.h"

namespace {

class Pro : public procspec::Process {
 public:
  Pro() = default;  // a spawned child makes its copy, then reads it
  explicit Pro(std::string name) { set_name(std::move(name)); }

  // Nothing of its own to send: the name travels with every Process.
  template <class Archive>
  void serialize(Archive& archive) {
    (void)archive;
  }

  void run() override {
    std::cout << name() << " runing" << std::endl;
    procspec::examples::SleepRandomOneToFiveSeconds();
    std::cout << name() << " end" << std::endl;
  }
};
// For the spawn start method (the only one on Windows).
PROCSPEC_PROCESS_CLASS(Pro);

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // The seed's `if __name__ == '__main__':`, which Windows needs: a spawned
  // child (which parsed the same flags above) runs its Pro here and ends.
  procspec::Init(argc, argv);
  Pro p1("p1");
  Pro p2("p2");
  Pro p3("p3");
  Pro p4("p4");

  for (Pro* p : {&p1, &p2, &p3, &p4}) {
    // start() calls run() in the child.
    if (absl::Status status = p->start(); !status.ok()) {
      std::cerr << "start failed: " << status << "\n";
      return 1;
    }
  }
  std::cout << "主" << std::endl;
  return 0;
}
