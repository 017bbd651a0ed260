// Signal numbers and CPython's names for them.
#include <signal.h>

#include <string>

#include "platform/platform.h"

namespace procspec::platform {

int SignalNumber(Signal signal) {
  switch (signal) {
    case Signal::kTerminate:
      return SIGTERM;
    case Signal::kKill:
      return SIGKILL;
    case Signal::kInterrupt:
      return SIGINT;
  }
  return SIGTERM;
}

std::string SignalName(int signal_number) {
  struct Named {
    int number;
    const char* name;
  };
  // The names of Python's signal.Signals. Where two names share a number
  // (SIGIOT, SIGCLD, SIGPOLL) Python shows the one defined first, which is the
  // one listed here; the others are left out. Signals outside POSIX are listed
  // where the OS has them.
  static const Named kNames[] = {
      {SIGHUP, "SIGHUP"},       {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"},
      {SIGILL, "SIGILL"},       {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"},
      {SIGBUS, "SIGBUS"},       {SIGFPE, "SIGFPE"},   {SIGKILL, "SIGKILL"},
      {SIGUSR1, "SIGUSR1"},     {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
      {SIGPIPE, "SIGPIPE"},     {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"},
#ifdef SIGSTKFLT
      {SIGSTKFLT, "SIGSTKFLT"},
#endif
      {SIGCHLD, "SIGCHLD"},     {SIGCONT, "SIGCONT"}, {SIGSTOP, "SIGSTOP"},
      {SIGTSTP, "SIGTSTP"},     {SIGTTIN, "SIGTTIN"}, {SIGTTOU, "SIGTTOU"},
      {SIGURG, "SIGURG"},       {SIGXCPU, "SIGXCPU"}, {SIGXFSZ, "SIGXFSZ"},
      {SIGVTALRM, "SIGVTALRM"}, {SIGPROF, "SIGPROF"},
#ifdef SIGWINCH
      {SIGWINCH, "SIGWINCH"},
#endif
#ifdef SIGIO
      {SIGIO, "SIGIO"},
#endif
#ifdef SIGPWR
      {SIGPWR, "SIGPWR"},
#endif
      {SIGSYS, "SIGSYS"},
#ifdef SIGEMT
      {SIGEMT, "SIGEMT"},
#endif
#ifdef SIGINFO
      {SIGINFO, "SIGINFO"},
#endif
  };
  for (const Named& named : kNames) {
    if (named.number == signal_number) return named.name;
  }
  // Real-time signals: Python names only the two ends of the range.
  if (signal_number == SIGRTMIN) return "SIGRTMIN";
  if (signal_number == SIGRTMAX) return "SIGRTMAX";
  return "";
}

}  // namespace procspec::platform
