// A Lock or Semaphore sent to a child keeps its state there although the
// parent drops its own copy as soon as start() returns: the child holds the
// object from its start, it never looks it up after the parent may have let
// it go.
#include <optional>
#include <tuple>

#include "conformance/harness/clause.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "gtest/gtest.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/synchronize.h"
#include "process/system_exit.h"

namespace conformance {
namespace {

using ::conformance::testing::JoinSoon;
using ::conformance::testing::KillOnExit;

// Takes the Semaphore's two units (exit 1 if it cannot), finds it empty
// (exit 2 if not), finds the Lock held (exit 3 if it is free), releases it
// and takes it again (exit 4 if either fails).
void SyncUseAfterCreatorDropped(procspec::Semaphore semaphore,
                                procspec::Lock lock) {
  if (!semaphore.acquire(false) || !semaphore.acquire(false)) procspec::Exit(1);
  if (semaphore.acquire(false)) procspec::Exit(2);
  if (lock.acquire(false)) procspec::Exit(3);
  if (!lock.release().ok() || !lock.acquire(false)) procspec::Exit(4);
}
PROCSPEC_TARGET(SyncUseAfterCreatorDropped);

CONFORMANCE_TEST(CreatorDropped, ChildKeepsTheStateOfWhatItsParentDropped,
                 "sync.handles.creator_dropped") {
  std::optional<procspec::Process> child;
  {
    ASSERT_OK_AND_ASSIGN(procspec::Semaphore semaphore,
                         procspec::Semaphore::Create(2));
    ASSERT_OK_AND_ASSIGN(procspec::Lock lock, procspec::Lock::Create());
    ASSERT_TRUE(lock.acquire(false));
    child.emplace(SyncUseAfterCreatorDropped, std::tuple{semaphore, lock});
    ASSERT_OK(child->start());
    // start() dropped the Process's copies (as CPython's does); these are
    // the parent's last ones.
  }
  KillOnExit guard(*child);
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(*child));
  EXPECT_EQ(exitcode, 0) << "1: the Semaphore lost its units; 2: it gained "
                            "some; 3: the Lock was free; 4: it was unusable";
}

}  // namespace
}  // namespace conformance
