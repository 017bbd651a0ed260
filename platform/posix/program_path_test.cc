// Where the spawn start method finds this program: argv[0] resolved as CPython
// resolves sys.executable (against the current directory, or on $PATH), which
// the posix backend spawns without looking at /proc.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/posix/internal/posix_io.h"
#include "platform/posix/posix_backend.h"

namespace procspec::platform {
namespace {

using internal::ResolveProgramPath;

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

// A file `name` in `dir` with `mode`.
void MakeFile(const std::string& dir, const std::string& name, mode_t mode) {
  const std::string path = dir + "/" + name;
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0) << path;
  close(fd);
  ASSERT_EQ(chmod(path.c_str(), mode), 0) << path;
}

TEST(ProgramPath, PathWithSlashIsTakenAgainstTheDirectory) {
  EXPECT_EQ(ResolveProgramPath("/usr/bin/prog", "/home/u", "/bin"),
            "/usr/bin/prog");
  EXPECT_EQ(ResolveProgramPath("bin/prog", "/home/u", "/bin"),
            "/home/u/bin/prog");
  EXPECT_EQ(ResolveProgramPath("./prog", "/", std::nullopt), "/./prog");
  EXPECT_EQ(ResolveProgramPath("", "/home/u", "/bin"), "");
}

TEST(ProgramPath, BareNameIsLookedUpOnPath) {
  const std::string dir = TempDir() + "/program_path_bin";
  mkdir(dir.c_str(), 0700);
  MakeFile(dir, "procspec-probe", 0700);
  MakeFile(dir, "procspec-not-executable", 0600);
  EXPECT_EQ(ResolveProgramPath("procspec-probe", "/", "/nonexistent:" + dir),
            dir + "/procspec-probe");
  EXPECT_EQ(ResolveProgramPath("procspec-not-executable", "/", dir), "");
  EXPECT_EQ(ResolveProgramPath("procspec-absent", "/", dir), "");
  // A relative entry (here an empty one: the current directory) is taken
  // against the directory.
  EXPECT_EQ(ResolveProgramPath("procspec-probe", dir, ":/nonexistent"),
            dir + "/./procspec-probe");
}

// The posix backend spawns the path recorded from argv[0], not what /proc
// says (this binary never called procspec::Init: it records one here).
TEST(ProgramPath, PosixBackendSpawnsTheRecordedPath) {
  ASSERT_EQ(ProgramPath(), "");
  RecordProgramPath("/nonexistent/procspec-program");
  EXPECT_EQ(ProgramPath(), "/nonexistent/procspec-program");
  SpawnOptions options;
  options.payload = "unused";
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      posix::PosixBackendInstance().Spawn(options);
  ASSERT_FALSE(child.ok());
  EXPECT_NE(child.status().message().find("/nonexistent/procspec-program"),
            absl::string_view::npos)
      << child.status();
  // Only the first record counts.
  RecordProgramPath("/elsewhere");
  EXPECT_EQ(ProgramPath(), "/nonexistent/procspec-program");
}

}  // namespace
}  // namespace procspec::platform
