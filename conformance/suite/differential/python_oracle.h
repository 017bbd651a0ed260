// CPython as the oracle of the differential tests: run a Python program that
// prints what it observes as "key=value" facts, do the same in C++, compare
// fact by fact.
//
//   CONFORMANCE_REQUIRE(conformance::RequirePython3());
//   ASSERT_OK_AND_ASSIGN(PythonRun python, RunPython(R"py(
//   def main():
//       p = mp.Process()
//       fact("error.join_not_started", outcome(p.join))
//   )py"));
//   Facts cpp;
//   cpp["error.join_not_started"] = Outcome(procspec::Process().join());
//   ExpectSameFacts(python.facts, cpp);
//
// The program, <prelude><script><guard>, is written to a file in the test's
// temporary directory ($TEST_TMPDIR) and run as python3 <file>: under spawn
// and forkserver CPython's children import it again as a module, so targets
// are the script's module-level functions (no lambdas), and what they need is
// passed as arguments (an mp.Event rather than a pipe's descriptor). The
// prelude imports
// multiprocessing as mp (and os, signal, sys) and defines:
//   fact(key, value)   prints "key=value" (str(value)) and flushes;
//   outcome(fn)        "OK", or "<ExceptionType>: <message>" for what fn
//   raised; masked_repr(p, pid, parent)  repr(p) with the name, " pid=<pid> "
//   and
//                      " parent=<parent> " masked (pass None to keep one).
// The guard selects this suite instance's start method (StartMethod()) and
// calls the script's main() under `if __name__ == '__main__':`.
#ifndef PROCSPEC_CONFORMANCE_SUITE_DIFFERENTIAL_PYTHON_ORACLE_H_
#define PROCSPEC_CONFORMANCE_SUITE_DIFFERENTIAL_PYTHON_ORACLE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "conformance/suite/common/module_testing.h"
#include "platform/testing/os_testing.h"
#include "process/process.h"

namespace conformance::module_testing {

struct PythonRun {
  Facts facts;      // parsed from stdout
  std::string err;  // stderr, verbatim
};

// Runs the program (see above). An error if python3 cannot be run, exits
// unsuccessfully (the message quotes its stderr), runs longer than
// ScaledTimeout(60 s), or prints a line that is not a fact.
absl::StatusOr<PythonRun> RunPython(std::string_view script);

// Runs a Python program as it is (no prelude, no guard): python3 <path>
// <args>..., at most ScaledTimeout(60 s). For the twins of the programs under
// //examples, whose code before the guard is what is compared.
absl::StatusOr<procspec::platform::testing::CommandResult> RunPythonFile(
    const std::string& path, const std::vector<std::string>& args);

// What the prelude's outcome() prints for the same result: "OK", or the
// Python exception type and message, "ValueError: process object is closed".
// A status that stands for no Python error prints as "<code>: <message>",
// which never equals Python's.
std::string Outcome(const absl::Status& status);
template <typename T>
std::string Outcome(const absl::StatusOr<T>& status_or) {
  return Outcome(status_or.status());
}

// The prelude's masked_repr() in C++: `repr` with name='<name>' for the
// object's name and, where given, " pid=<pid> " and " parent=<parent> ".
std::string MaskRepr(std::string repr, const std::string& name,
                     std::optional<procspec::Pid> pid,
                     std::optional<procspec::Pid> parent);

// Expects `cpp` to hold exactly the facts `python` holds, with equal values;
// each difference is reported with its key.
void ExpectSameFacts(const Facts& python, const Facts& cpp);

}  // namespace conformance::module_testing

#endif  // PROCSPEC_CONFORMANCE_SUITE_DIFFERENTIAL_PYTHON_ORACLE_H_
