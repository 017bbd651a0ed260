// Start+join of an empty target under the spawn start method, against a bare
// posix_spawn+waitpid of the same binary (issue 4: at most 1.5x). Interleaved,
// 200 iterations each; prints the medians.
//   bazel run -c opt //process:spawn_bench
#include <algorithm>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "process/context.h"
#include "process/process.h"
#include "process/spawn.h"

namespace {

void Empty() {}
PROCSPEC_TARGET(Empty);

absl::Duration Median(std::vector<absl::Duration> samples) {
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  procspec::Init(argc, argv);
  // The bare baseline's child: the same binary, returning at once.
  if (argc > 1 && std::strcmp(argv[1], "--exit") == 0) return 0;
  int iterations = 200;
  absl::StatusOr<std::string> self =
      procspec::platform::testing::CurrentExecutable();
  if (!self.ok()) return 1;
  const procspec::Context* spawn = *procspec::get_context("spawn");
  std::vector<absl::Duration> spawned, bare;
  for (int i = 0; i < iterations; ++i) {
    absl::Time start = absl::Now();
    procspec::Process p(Empty, {.context = spawn});
    if (!p.start().ok() || !p.join().ok() || **p.exitcode() != 0) return 1;
    spawned.push_back(absl::Now() - start);

    start = absl::Now();
    absl::StatusOr<procspec::platform::ExitStatus> status =
        procspec::platform::testing::SpawnAndWait({*self, "--exit"});
    if (!status.ok() || status->exitcode() != 0) return 1;
    bare.push_back(absl::Now() - start);
  }
  const absl::Duration spawned_median = Median(spawned);
  const absl::Duration bare_median = Median(bare);
  std::cout << "backend " << procspec::platform::CurrentBackend().name() << ", "
            << iterations << " iterations\n"
            << "spawn start+join (median): " << spawned_median << "\n"
            << "bare posix_spawn+waitpid (median): " << bare_median << "\n"
            << "ratio: " << absl::FDivDuration(spawned_median, bare_median)
            << std::endl;
  return 0;
}
