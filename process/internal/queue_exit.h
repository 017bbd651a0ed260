// The exit handling's part for queues (CPython's Finalize(_finalize_join) of
// each Queue's feeder thread).
#ifndef PROCSPEC_PROCESS_INTERNAL_QUEUE_EXIT_H_
#define PROCSPEC_PROCESS_INTERNAL_QUEUE_EXIT_H_

namespace procspec::internal {

// Waits until every feeder thread this process started has written what was
// put and ended, except those whose queue had cancel_join_thread() called.
// Called after a child's run() and at the main process's exit. Idempotent.
void JoinQueueFeedersAtExit();

}  // namespace procspec::internal

#endif  // PROCSPEC_PROCESS_INTERNAL_QUEUE_EXIT_H_
