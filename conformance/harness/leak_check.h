// Fails a test that leaves a descriptor open or a child process (running or
// zombie) behind.
//
// Installed by suite_main.cc. Before each test it snapshots this process's open
// descriptors and direct children; after the test, anything new is reported as
// a failure of that test, naming the descriptor and what it refers to, or the
// child's pid, state and command. Leaked children are then killed and reaped so
// that they cannot make later tests fail or hang; leaked descriptors are left
// alone (closing a descriptor some object still owns would turn one leak into a
// double close), and are not reported again because each test has its own
// snapshot. Each half runs where the OS can be inspected: Windows can list a
// process's children (a Toolhelp snapshot) but not its handles, so there only
// children are checked.
#ifndef PROCSPEC_CONFORMANCE_HARNESS_LEAK_CHECK_H_
#define PROCSPEC_CONFORMANCE_HARNESS_LEAK_CHECK_H_

#include <vector>

#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"

namespace conformance {

class LeakCheckListener : public ::testing::EmptyTestEventListener {
 public:
  void OnTestStart(const ::testing::TestInfo& test) override;
  void OnTestEnd(const ::testing::TestInfo& test) override;

 private:
  void CheckDescriptors(const ::testing::TestInfo& test);
  void CheckChildren(const ::testing::TestInfo& test);

  // false once the OS could not list descriptors (or children): that half
  // of the check is off, which is said once.
  bool check_descriptors_ = true;
  bool check_children_ = true;
  std::vector<procspec::platform::NativeHandle> descriptors_before_;
  std::vector<procspec::platform::Pid> children_before_;
};

}  // namespace conformance

#endif  // PROCSPEC_CONFORMANCE_HARNESS_LEAK_CHECK_H_
