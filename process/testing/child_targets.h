// Registered targets shared by the tests of the start methods that send their
// target by name (spawn, forkserver). Each reports through its exit code.
#ifndef PROCSPEC_PROCESS_TESTING_CHILD_TARGETS_H_
#define PROCSPEC_PROCESS_TESTING_CHILD_TARGETS_H_

#include <cstdint>
#include <string>

#include "process/value.h"

namespace procspec::testing {

// Changed by a test's parent before start(); a child that does not share the
// parent's memory at that moment sees the initial value, 1.
extern int g_global;

// Exits with `code`.
void ExitWith(int code);
// Exits with a + text.size() + kwargs["x"].
void ExitWithSum(int a, std::string text, const Kwargs& kwargs);
// Throws std::runtime_error("boom").
void Throw();
// Exits with the value of g_global it sees.
void ExitWithGlobal();
// Exits 0 if this process sees itself as the parent described it, else with
// a code (10..17) naming the first attribute that differs.
void CheckSelf(std::string name, bool daemon, std::int64_t parent_pid,
               std::string parent_name, std::string authkey);

}  // namespace procspec::testing

#endif  // PROCSPEC_PROCESS_TESTING_CHILD_TARGETS_H_
