// Replays the committed seed corpus (fuzz/corpus) and every input a fuzzer
// ever crashed on (fuzz/regressions) through the decoders, in the normal
// build (and under the sanitizer configs CI runs): a regression comes back as
// a crash or a sanitizer report here.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/decoders.h"
#include "fuzz/seeds.h"
#include "gtest/gtest.h"

namespace procspec::fuzz {
namespace {

namespace fs = std::filesystem;

using Decoder = Result (*)(std::string_view);

struct Target {
  std::string name;
  Decoder decode;
};

const Target kTargets[] = {
    {"spawn_bootstrap", &DecodeSpawnStream},
    {"fork_server_request", &DecodeForkServerStream},
    {"message", &DecodeMessageStream},
};

fs::path Runfile(const std::string& relative) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return fs::path(srcdir == nullptr ? "." : srcdir) /
         (workspace == nullptr ? "procspec" : workspace) / relative;
}

// The files under `dir` (none if it does not exist), by name.
std::map<std::string, std::string> FilesIn(const fs::path& dir) {
  std::map<std::string, std::string> files;
  if (!fs::is_directory(dir)) return files;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    files[entry.path().filename().string()] = std::string(
        std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return files;
}

TEST(CorpusReplay, CommittedSeedsAreAccepted) {
  for (const Target& target : kTargets) {
    const std::map<std::string, std::string> seeds =
        FilesIn(Runfile("fuzz/corpus/" + target.name));
    EXPECT_GE(seeds.size(), 7u) << target.name;
    for (const auto& [name, bytes] : seeds) {
      const Result result = target.decode(bytes);
      EXPECT_EQ(result.outcome, Outcome::kAccepted)
          << target.name << "/" << name << ": " << result.reason;
    }
  }
}

// The committed corpus was made by an older build; the encoder of this one
// must still produce bootstraps its decoder accepts.
TEST(CorpusReplay, FreshSeedsAreAccepted) {
  const std::map<std::string, std::map<std::string, std::string>> fresh = {
      {"spawn_bootstrap", SpawnSeeds()},
      {"fork_server_request", ForkServerSeeds()},
      {"message", MessageSeeds()},
  };
  for (const Target& target : kTargets) {
    for (const auto& [name, bytes] : fresh.at(target.name)) {
      const Result result = target.decode(bytes);
      EXPECT_EQ(result.outcome, Outcome::kAccepted)
          << target.name << "/" << name << ": " << result.reason;
    }
  }
}

// Each file a fuzzer crashed on, after its fix: decoded to an error value.
TEST(CorpusReplay, RegressionsAreRejectedCleanly) {
  for (const Target& target : kTargets) {
    for (const auto& [name, bytes] :
         FilesIn(Runfile("fuzz/regressions/" + target.name))) {
      const Result result = target.decode(bytes);
      EXPECT_EQ(result.outcome, Outcome::kRejected)
          << target.name << "/" << name;
      EXPECT_FALSE(result.reason.empty()) << target.name << "/" << name;
    }
  }
}

// Every prefix and every single-byte corruption of each seed: never a crash,
// always an answer (the decoders' cheapest fuzzing, in every build).
TEST(CorpusReplay, TruncatedAndFlippedSeedsNeverCrash) {
  const std::map<std::string, std::map<std::string, std::string>> fresh = {
      {"spawn_bootstrap", SpawnSeeds()},
      {"fork_server_request", ForkServerSeeds()},
      {"message", MessageSeeds()},
  };
  std::size_t rejected = 0, total = 0;
  for (const Target& target : kTargets) {
    for (const auto& [name, bytes] : fresh.at(target.name)) {
      for (std::size_t n = 0; n < bytes.size(); ++n) {
        rejected +=
            target.decode(bytes.substr(0, n)).outcome == Outcome::kRejected;
        std::string flipped = bytes;
        flipped[n] = static_cast<char>(flipped[n] ^ 0xff);
        (void)target.decode(flipped);
        total += 1;
      }
    }
  }
  // A truncated bootstrap is never taken for a whole one.
  EXPECT_EQ(rejected, total);
}

}  // namespace
}  // namespace procspec::fuzz
