// Spawn start + join on Windows beside its floor, in the same run: a bare
// CreateProcessW of this program (which exits at once) and a wait for it.
//   ./bazelw run --config=windows -c opt //bench:windows_spawn_bench -- [iterations]
// Prints one line per measurement: the mean and the median in milliseconds.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/floor_windows.h"
#include "platform/platform.h"
#include "process/init.h"
#include "process/process.h"

namespace {

void Nothing() {}
PROCSPEC_TARGET(Nothing);

constexpr std::string_view kBareChild = "--bare-child";

void Report(const char* name, const std::function<bool()>& once,
            int iterations) {
  std::vector<double> millis;
  for (int i = 0; i < iterations; ++i) {
    const auto start = std::chrono::steady_clock::now();
    if (!once()) {
      std::fprintf(stderr, "%s failed\n", name);
      std::exit(1);
    }
    millis.push_back(std::chrono::duration<double, std::milli>(
                         std::chrono::steady_clock::now() - start)
                         .count());
  }
  double sum = 0;
  for (double m : millis) sum += m;
  std::sort(millis.begin(), millis.end());
  std::printf("%-40s n=%-4d mean %7.2f ms  median %7.2f ms\n", name,
              iterations, sum / iterations, millis[millis.size() / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  // The floor's child: nothing but a start and an exit.
  if (argc > 1 && argv[1] == kBareChild) return 0;
  procspec::Init(argc, argv);
  const int iterations = argc > 1 ? std::max(1, std::atoi(argv[1])) : 50;
  const std::string self = procspec::platform::ProgramPath();
  // Interleaved rounds would mix the two; each runs alone, floor first, after
  // one warm-up of each.
  (void)procspec::bench::floor::CreateProcessAndWait(self, std::string(kBareChild));
  Report("bare CreateProcessW + wait", [&] {
    return procspec::bench::floor::CreateProcessAndWait(
               self, std::string(kBareChild)) == 0;
  }, iterations);
  Report("procspec spawn start() + join()", [] {
    procspec::Process p(Nothing, std::tuple{});
    if (!p.start().ok() || !p.join().ok()) return false;
    return p.exitcode().value() == 0;
  }, iterations);
  return 0;
}
