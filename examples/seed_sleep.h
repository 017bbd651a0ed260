// The seed's examples sleep a random 1-5 s in each child to show that the
// children run at the same time. --time_scale shortens that for tests (0 skips
// it). The sleep is the example's content, not synchronisation.
#ifndef PROCSPEC_EXAMPLES_SEED_SLEEP_H_
#define PROCSPEC_EXAMPLES_SEED_SLEEP_H_

#include <chrono>
#include <random>
#include <thread>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"

ABSL_DECLARE_FLAG(double, time_scale);

namespace procspec::examples {

// time.sleep(random.randint(1, 5)), scaled by --time_scale.
inline void SleepRandomOneToFiveSeconds() {
  // Each child draws its own: no state is shared after the fork.
  std::random_device device;
  std::uniform_int_distribution<int> seconds(1, 5);
  const double scaled = seconds(device) * absl::GetFlag(FLAGS_time_scale);
  std::this_thread::sleep_for(std::chrono::duration<double>(scaled));
}

}  // namespace procspec::examples

#endif  // PROCSPEC_EXAMPLES_SEED_SLEEP_H_
