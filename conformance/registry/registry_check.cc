// Validates the real registry and every backend's manifests (the files the
// report trusts).
//
// Arguments (set by conformance_registry_test in conformance/defs.bzl):
//   --registry=<clauses.json>
//   --capabilities=<backend>:<capabilities.json>   (once per backend)
//   --expectations=<backend>:<expectations.json>   (once per backend)
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "conformance/registry/manifest.h"
#include "conformance/registry/registry.h"
#include "gtest/gtest.h"
#include "platform/testing/status_matchers.h"

namespace conformance {
namespace {

struct BackendFile {
  std::string backend;
  std::string path;
};

struct Options {
  std::string registry_path;
  std::vector<BackendFile> capability_files;
  std::vector<BackendFile> expectation_files;
};

// Heap-allocated and never destroyed: globals must be trivially destructible.
Options& Flags() {
  static Options* options = new Options;
  return *options;
}

Registry LoadOrDie() {
  absl::StatusOr<Registry> registry = Registry::Load(Flags().registry_path);
  // Every other check needs the registry; without it, stop with the parser's
  // full message.
  if (!registry.ok()) {
    ADD_FAILURE() << registry.status().message();
    return Registry();
  }
  return *std::move(registry);
}

TEST(RegistryTest, TheRegistryIsValid) {
  ASSERT_FALSE(Flags().registry_path.empty())
      << "run with --registry=<clauses.json>";
  absl::StatusOr<Registry> registry = Registry::Load(Flags().registry_path);
  ASSERT_TRUE(registry.ok()) << registry.status().message();
  EXPECT_FALSE(registry->capabilities().empty());
}

TEST(RegistryTest, EveryCapabilityManifestIsValid) {
  ASSERT_FALSE(Flags().capability_files.empty())
      << "run with --capabilities=<backend>:<path>";
  Registry registry = LoadOrDie();
  for (const BackendFile& file : Flags().capability_files) {
    absl::StatusOr<CapabilityManifest> manifest =
        LoadCapabilityManifest(file.path);
    ASSERT_OK(manifest);
    EXPECT_EQ(manifest->backend, file.backend)
        << file.path << " names the wrong backend";
    EXPECT_TRUE(ValidateManifest(*manifest, registry).ok())
        << ValidateManifest(*manifest, registry);
  }
}

TEST(RegistryTest, EveryExpectationsFileIsValid) {
  ASSERT_FALSE(Flags().expectation_files.empty())
      << "run with --expectations=<backend>:<path>";
  Registry registry = LoadOrDie();
  for (const BackendFile& file : Flags().expectation_files) {
    absl::StatusOr<Expectations> expectations = LoadExpectations(file.path);
    ASSERT_OK(expectations);
    EXPECT_EQ(expectations->backend, file.backend)
        << file.path << " names the wrong backend";
    EXPECT_TRUE(ValidateExpectations(*expectations, registry).ok())
        << ValidateExpectations(*expectations, registry);
  }
}

// Reads "--flag=backend:path".
bool ParseBackendFile(absl::string_view arg, absl::string_view flag,
                      std::vector<BackendFile>& out) {
  if (!absl::ConsumePrefix(&arg, flag)) return false;
  std::pair<std::string, std::string> parts =
      absl::StrSplit(arg, absl::MaxSplits(':', 1));
  out.push_back({parts.first, parts.second});
  return true;
}

}  // namespace
}  // namespace conformance

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--registry=")) {
      conformance::Flags().registry_path = std::string(arg);
    } else if (!conformance::ParseBackendFile(
                   arg,
                   "--capabilities=", conformance::Flags().capability_files) &&
               !conformance::ParseBackendFile(
                   arg,
                   "--expectations=", conformance::Flags().expectation_files)) {
      std::fprintf(stderr, "registry_test: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  return RUN_ALL_TESTS();
}
