// Start+join of an empty target under the forkserver start method, against the
// floor of any fork-based start: a bare fork + _exit + waitpid. Interleaved,
// 200 iterations each; prints the medians. The server is forked by Init.
//   bazel run -c opt //process:forkserver_bench [-- --backend=posix]
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
  // Selected before Init, so that Init forks that backend's server.
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--backend=", 10) == 0 &&
        !procspec::platform::SelectBackend(argv[i] + 10).ok()) {
      return 2;
    }
  }
  procspec::Init(argc, argv, {.start_forkserver = true});
  const int iterations = 200;
  const procspec::Context* forkserver = *procspec::get_context("forkserver");
  std::vector<absl::Duration> served, bare;
  for (int i = 0; i < iterations; ++i) {
    absl::Time start = absl::Now();
    procspec::Process p(Empty, {.context = forkserver});
    if (!p.start().ok() || !p.join().ok() || **p.exitcode() != 0) return 1;
    served.push_back(absl::Now() - start);

    start = absl::Now();
    absl::StatusOr<procspec::platform::ExitStatus> status =
        procspec::platform::testing::ForkExitAndWait();
    if (!status.ok() || status->exitcode() != 0) return 1;
    bare.push_back(absl::Now() - start);
  }
  const absl::Duration served_median = Median(served);
  const absl::Duration bare_median = Median(bare);
  std::cout << "backend " << procspec::platform::CurrentBackend().name() << ", "
            << iterations << " iterations\n"
            << "forkserver start+join (median): " << served_median << "\n"
            << "bare fork+_exit+waitpid (median): " << bare_median << "\n"
            << "ratio: " << absl::FDivDuration(served_median, bare_median)
            << std::endl;
  return 0;
}
