#ifndef RECUR_RUNTIME_H
#define RECUR_RUNTIME_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Whether the calling thread records the autodiff tape (per thread; default on).
int recur_grad_recording_enabled(void);
void recur_set_grad_recording_enabled(int enabled);

/// A process-wide, strictly increasing id (thread-safe).
int64_t recur_next_node_id(void);

#ifdef __cplusplus
}
#endif
#endif
