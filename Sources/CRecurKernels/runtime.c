// Small thread-safe runtime state for the Swift layer: per-thread gradient recording and node ids.
#include "recur_runtime.h"

static __thread int grad_disabled = 0;
static int64_t node_counter = 0;

int recur_grad_recording_enabled(void) { return !grad_disabled; }
void recur_set_grad_recording_enabled(int enabled) { grad_disabled = !enabled; }
int64_t recur_next_node_id(void) { return __atomic_add_fetch(&node_counter, 1, __ATOMIC_RELAXED); }
