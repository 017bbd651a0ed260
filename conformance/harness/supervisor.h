// The suite run under supervision: `<suite> --results_file=<path|->` runs the
// tests in a child process of the suite (the same binary) that reports each
// test's start and end on a pipe. A test that runs past its deadline
// (--test_deadline=<seconds>, default 120, times $PROCSPEC_TIMEOUT_SCALE) is
// recorded as FAIL "timed out", the child's process group is killed with
// everything the test started, and the remaining tests run in a fresh child;
// a test during which the child dies is recorded as FAIL the same way. The
// results file (results_file.h) is written at the end; "-" writes it to
// standard output and sends the tests' output to standard error.
#ifndef PROCSPEC_CONFORMANCE_HARNESS_SUPERVISOR_H_
#define PROCSPEC_CONFORMANCE_HARNESS_SUPERVISOR_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "conformance/harness/environment.h"
#include "gtest/gtest.h"

namespace conformance::internal {

struct SupervisorOptions {
  std::string results_file;  // a path, or "-" for standard output
  std::string host_label;    // --host_label: who ran it and where
  // --child_runner: a program the test children run under, e.g.
  // qemu-aarch64-static where the kernel cannot execute the suite itself
  // (no binfmt_misc entry for its machine).
  std::string child_runner;
  absl::Duration test_deadline;
  // The flags the test children get: the harness flags and the gtest ones.
  std::vector<std::string> child_flags;
  std::string gtest_filter;  // as given, "" for every test
};

// The default --test_deadline: two minutes, scaled (timeout.h).
absl::Duration DefaultTestDeadline();

// Runs every test as described above; returns the suite's exit code.
int RunSupervised(const SuiteOptions& suite, const SupervisorOptions& options);

// In a test child: reports each test's start and end, one JSON object per
// line, on descriptor `fd`.
::testing::TestEventListener* NewProgressReporter(int fd);

}  // namespace conformance::internal

#endif  // PROCSPEC_CONFORMANCE_HARNESS_SUPERVISOR_H_
