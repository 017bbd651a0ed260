#include "conformance/harness/leak_check.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace conformance {
namespace {

namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;

template <typename T>
bool Contains(const std::vector<T>& values, const T& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// Kills (if still running) and reaps a leaked child; returns what happened, for
// the message.
std::string KillAndReap(const os::ChildInfo& child) {
  if (child.state == os::ProcessState::kRunning) {
    absl::Status killed = os::SignalPid(
        child.pid, platform::SignalNumber(platform::Signal::kKill));
    if (!killed.ok())
      return absl::StrCat("could not kill it: ", killed.ToString());
  }
  absl::StatusOr<platform::ExitStatus> reaped = os::ReapPid(child.pid);
  if (!reaped.ok())
    return absl::StrCat("could not reap it: ", reaped.status().ToString());
  return child.state == os::ProcessState::kRunning
             ? "the harness killed and reaped it"
             : "the harness reaped it";
}

}  // namespace

void LeakCheckListener::OnTestStart(const ::testing::TestInfo&) {
  // Without a snapshot there is nothing to compare; say so once rather than
  // fail every test.
  auto disable = [](bool& check, const char* what,
                    const absl::Status& status) {
    check = false;
    std::fprintf(stderr, "conformance: leak check of %s disabled: %s\n", what,
                 status.ToString().c_str());
  };
  if (check_descriptors_) {
    absl::StatusOr<std::vector<platform::NativeHandle>> descriptors =
        os::OpenDescriptors();
    if (descriptors.ok()) {
      descriptors_before_ = *std::move(descriptors);
    } else {
      disable(check_descriptors_, "descriptors", descriptors.status());
    }
  }
  if (check_children_) {
    absl::StatusOr<std::vector<os::ChildInfo>> children = os::ListChildren();
    if (children.ok()) {
      children_before_.clear();
      for (const os::ChildInfo& child : *children)
        children_before_.push_back(child.pid);
    } else {
      disable(check_children_, "child processes", children.status());
    }
  }
}

void LeakCheckListener::OnTestEnd(const ::testing::TestInfo& test) {
  // OnTestEnd runs while the test is still current (before gtest's printer
  // reports it, since OnTestEnd listeners run in reverse order), so these
  // failures belong to the test.
  if (check_descriptors_) CheckDescriptors(test);
  if (check_children_) CheckChildren(test);
}

void LeakCheckListener::CheckDescriptors(const ::testing::TestInfo& test) {
  absl::StatusOr<std::vector<platform::NativeHandle>> descriptors =
      os::OpenDescriptors();
  if (!descriptors.ok()) {
    ADD_FAILURE_AT(test.file(), test.line())
        << "leak check: cannot list descriptors: " << descriptors.status();
    return;
  }
  for (platform::NativeHandle handle : *descriptors) {
    if (Contains(descriptors_before_, handle)) continue;
    ADD_FAILURE_AT(test.file(), test.line())
        << "leaked descriptor " << handle << " ("
        << os::DescribeDescriptor(handle)
        << "): opened during the test and still open after it";
  }
}

void LeakCheckListener::CheckChildren(const ::testing::TestInfo& test) {
  absl::StatusOr<std::vector<os::ChildInfo>> children = os::ListChildren();
  if (!children.ok()) {
    ADD_FAILURE_AT(test.file(), test.line())
        << "leak check: cannot list child processes: " << children.status();
    return;
  }
  for (const os::ChildInfo& child : *children) {
    if (Contains(children_before_, child.pid)) continue;
    const std::string outcome = KillAndReap(child);
    ADD_FAILURE_AT(test.file(), test.line())
        << "leaked child process " << child.pid << " ("
        << os::ProcessStateName(child.state) << ", command \"" << child.command
        << "\"): still a child of the test after it ended; " << outcome;
  }
}

}  // namespace conformance
