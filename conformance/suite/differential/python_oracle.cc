#include "conformance/suite/differential/python_oracle.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "conformance/harness/environment.h"
#include "conformance/harness/timeout.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "process/errors.h"

namespace conformance::module_testing {
namespace {

constexpr char kPrelude[] = R"py(
import multiprocessing as mp
import os
import signal
import sys


def fact(key, value):
    # One write(2) per fact (atomic on a pipe below PIPE_BUF): parent and
    # children report to the same stdout, and print() may split a line into
    # two writes (it does when stdout is unbuffered, e.g. PYTHONUNBUFFERED=1).
    sys.stdout.flush()
    os.write(1, f"{key}={value}\n".encode())


def stop_fork_server():
    # Stops and reaps the fork server this process started, if any. Without
    # it a child's own server outlives the child, re-parented to the test
    # process (a child subreaper) and left there as a zombie.
    from multiprocessing import forkserver
    forkserver._forkserver._stop()


def outcome(fn):
    try:
        fn()
    except Exception as e:
        return f"{type(e).__name__}: {e}"
    return "OK"


def masked_repr(p, pid, parent):
    r = repr(p).replace(f"name='{p.name}'", "name='<name>'")
    if pid is not None:
        r = r.replace(f" pid={pid} ", " pid=<pid> ")
    if parent is not None:
        r = r.replace(f" parent={parent} ", " parent=<parent> ")
    return r

)py";

// The guard, with this instance's start method. After main() it stops the
// helper processes spawn and forkserver start (the fork server, the resource
// tracker) and reaps them, so that none outlives the program as an orphan
// (re-parented to this test process once it is a child subreaper).
std::string Guard() {
  return absl::StrCat(R"py(

if __name__ == '__main__':
    mp.set_start_method(')py",
                      std::string(StartMethod()), R"py(')
    main()
    import gc
    from multiprocessing import resource_tracker
    gc.collect()  # runs the finalizers of what main() left
    stop_fork_server()
    resource_tracker._resource_tracker._stop()
)py");
}

// A path for the next program in the test's temporary directory.
std::string ScriptPath() {
  static int count = 0;
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr && *dir != '\0' ? dir : "/tmp",
                      "/python_oracle_", procspec::platform::CurrentPid(), "_",
                      ++count, ".py");
}

absl::Status WriteScript(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

// The interpreter `python3` names, asked for once per process: where
// `python3` on PATH is a shim (pyenv's is a shell script that runs several
// programs first, ~120 ms), every run would pay for the shim again. Falls
// back to "python3" when the interpreter cannot say.
const std::string& Python3() {
  static const std::string* const path = [] {
    absl::StatusOr<procspec::platform::testing::CommandResult> result =
        procspec::platform::testing::RunCommand(
            {"python3", "-c", "import sys; print(sys.executable)"},
            absl::Now() + ScaledTimeout(absl::Seconds(60)));
    std::string executable;
    if (result.ok() && !result->status.signaled && result->status.value == 0) {
      executable = std::string(absl::StripAsciiWhitespace(result->out));
    }
    return new std::string(executable.empty() ? "python3" : executable);
  }();
  return *path;
}

}  // namespace

absl::StatusOr<PythonRun> RunPython(std::string_view script) {
  const std::string path = ScriptPath();
  if (absl::Status written = WriteScript(
          path, absl::StrCat(kPrelude, std::string(script), Guard()));
      !written.ok()) {
    return written;
  }
  absl::StatusOr<procspec::platform::testing::CommandResult> result =
      procspec::platform::testing::RunCommand(
          {Python3(), path}, absl::Now() + ScaledTimeout(absl::Seconds(60)));
  std::remove(path.c_str());
  if (!result.ok()) return result.status();
  if (result->status.signaled || result->status.value != 0) {
    return absl::InternalError(
        absl::StrCat("python3 exited with ", result->status.exitcode(),
                     "; stderr:\n", result->err, "\nstdout:\n", result->out));
  }
  std::vector<std::string> lines;
  for (absl::string_view line :
       absl::StrSplit(result->out, '\n', absl::SkipEmpty())) {
    lines.emplace_back(line);
  }
  absl::StatusOr<Facts> facts = ParseFacts(lines);
  if (!facts.ok()) return facts.status();
  return PythonRun{*std::move(facts), result->err};
}

absl::StatusOr<procspec::platform::testing::CommandResult> RunPythonFile(
    const std::string& path, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {Python3(), path};
  argv.insert(argv.end(), args.begin(), args.end());
  return procspec::platform::testing::RunCommand(
      argv, absl::Now() + ScaledTimeout(absl::Seconds(60)));
}

std::string Outcome(const absl::Status& status) {
  if (status.ok()) return "OK";
  const std::string type = procspec::PythonExceptionType(status);
  if (type.empty()) {
    return absl::StrCat(absl::StatusCodeToString(status.code()), ": ",
                        std::string(status.message()));
  }
  return absl::StrCat(type, ": ", std::string(status.message()));
}

std::string MaskRepr(std::string repr, const std::string& name,
                     std::optional<procspec::Pid> pid,
                     std::optional<procspec::Pid> parent) {
  absl::StrReplaceAll({{absl::StrCat("name='", name, "'"), "name='<name>'"}},
                      &repr);
  if (pid.has_value()) {
    absl::StrReplaceAll({{absl::StrCat(" pid=", *pid, " "), " pid=<pid> "}},
                        &repr);
  }
  if (parent.has_value()) {
    absl::StrReplaceAll(
        {{absl::StrCat(" parent=", *parent, " "), " parent=<parent> "}}, &repr);
  }
  return repr;
}

void ExpectSameFacts(const Facts& python, const Facts& cpp) {
  for (const auto& [key, value] : python) {
    auto found = cpp.find(key);
    if (found == cpp.end()) {
      ADD_FAILURE() << "procspec reported no fact \"" << key
                    << "\"; CPython: " << value;
      continue;
    }
    EXPECT_EQ(found->second, value)
        << "fact \"" << key << "\" differs: procspec (left) vs CPython (right)";
  }
  for (const auto& [key, value] : cpp) {
    if (python.count(key) == 0) {
      ADD_FAILURE() << "CPython reported no fact \"" << key
                    << "\"; procspec: " << value;
    }
  }
}

}  // namespace conformance::module_testing
