/* The floor a user would pick: a minimal statically linked C program (no
 * shared libraries, a handful of mappings) doing the bare process operations,
 * timed inside itself. process_bench runs it in the same run as procspec
 * (bench/process_bench.cc, the "minimal" floors) and reads one number: the
 * total nanoseconds of `count` rounds.
 *
 *   minimal_floor fork COUNT        fork + _exit + waitpid, COUNT times
 *   minimal_floor spawn COUNT       posix_spawn of itself ("exit") + waitpid
 *   minimal_floor many N COUNT      N forks, then N waitpids, COUNT times
 *   minimal_floor exit              ends at once (the spawn floor's child)
 *
 * A leaf of bench/: plain C, nothing of procspec's. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static long long Now(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

static int Reap(pid_t pid) {
  int status;
  while (waitpid(pid, &status, 0) != pid) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

static int ForkOnce(void) {
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  return pid < 0 ? 1 : Reap(pid);
}

static int SpawnOnce(char* self) {
  char* argv[] = {self, "exit", NULL};
  pid_t pid;
  if (posix_spawn(&pid, self, NULL, NULL, argv, environ) != 0) return 1;
  return Reap(pid);
}

static int ForkMany(long n) {
  pid_t* pids = malloc(sizeof(pid_t) * (size_t)n);
  int failed = pids == NULL;
  for (long i = 0; !failed && i < n; ++i) {
    pids[i] = fork();
    if (pids[i] == 0) _exit(0);
    if (pids[i] < 0) failed = 1, n = i;
  }
  for (long i = 0; pids != NULL && i < n; ++i) failed |= Reap(pids[i]);
  free(pids);
  return failed;
}

int main(int argc, char** argv) {
  if (argc >= 2 && strcmp(argv[1], "exit") == 0) _exit(0);
  if (argc < 3) {
    fprintf(stderr, "usage: minimal_floor fork|spawn COUNT | many N COUNT\n");
    return 2;
  }
  const int many = strcmp(argv[1], "many") == 0;
  if (many && argc < 4) return 2;
  const long count = atol(argv[many ? 3 : 2]);
  const long n = many ? atol(argv[2]) : 0;
  int failed = 0;
  const long long start = Now();
  for (long i = 0; !failed && i < count; ++i) {
    if (strcmp(argv[1], "fork") == 0) {
      failed = ForkOnce();
    } else if (strcmp(argv[1], "spawn") == 0) {
      failed = SpawnOnce(argv[0]);
    } else if (many) {
      failed = ForkMany(n);
    } else {
      return 2;
    }
  }
  const long long end = Now();
  if (failed) return 1;
  printf("%lld\n", end - start);
  return 0;
}
