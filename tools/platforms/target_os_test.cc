// The target platform a build was configured for reaches the compiler: BUILD
// files choose an OS's code with select() on //tools/platforms, and that choice
// must agree with the OS the compiler builds for. Under `--config=windows` this
// runs as a Windows program under Wine.

#include <string>

#include "gtest/gtest.h"

namespace {

// What the compiler predefines for the OS it targets.
std::string CompilerTargetOs() {
#if defined(_WIN32)
  return "windows";
#elif defined(__linux__)
  return "linux";
#else
  return "other";
#endif
}

TEST(TargetOs, SelectAgreesWithTheCompiler) {
  EXPECT_EQ(PROCSPEC_SELECTED_OS, CompilerTargetOs());
}

}  // namespace
