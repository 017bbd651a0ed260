// Which sanitizer runtime this build runs under, for tests that must report a
// construction the runtime itself cannot run as UNSUPPORTED (with its reason)
// instead of failing on it.
#ifndef PROCSPEC_PLATFORM_TESTING_SANITIZER_TESTING_H_
#define PROCSPEC_PLATFORM_TESTING_SANITIZER_TESTING_H_

namespace procspec::platform::testing {

// Whether this build is instrumented by ThreadSanitizer (decided at build
// time). Its runtime ends a child forked from a multi-threaded process at the
// child's first pthread_create ("starting new threads after multi-threaded
// fork is not supported", exit code 66).
bool UnderThreadSanitizer();

}  // namespace procspec::platform::testing

#endif  // PROCSPEC_PLATFORM_TESTING_SANITIZER_TESTING_H_
