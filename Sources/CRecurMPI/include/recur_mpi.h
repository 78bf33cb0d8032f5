#ifndef RECUR_MPI_H
#define RECUR_MPI_H
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The MPI library loaded at run time (dlopen), so Recur builds and runs without MPI installed.
/// Every function returns 0 on success or a non-zero code; `error` receives a one-line message
/// (at most `capacity` bytes, NUL-terminated). Open MPI (pointer handles) and MPICH-ABI libraries
/// (MPICH, Intel MPI, MVAPICH: integer handles) are both understood.

/// Opens `path` (or, when NULL, libmpi.so.40, libmpi.so.12, libmpich.so.12, libmpi.so in turn),
/// resolves the functions and handles, calls MPI_Init (unless already initialised) and makes
/// MPI_COMM_WORLD return errors instead of aborting.
int recur_mpi_start(const char *path, char *error, size_t capacity);

/// Which library was loaded: "Open MPI" or "MPICH ABI" (NULL before `recur_mpi_start`).
const char *recur_mpi_flavor(void);
/// The path or name that was opened (NULL before `recur_mpi_start`).
const char *recur_mpi_library(void);

/// Rank and size of MPI_COMM_WORLD.
int recur_mpi_rank(int *rank, char *error, size_t capacity);
int recur_mpi_size(int *size, char *error, size_t capacity);

/// In-place sum over all ranks of `count` floats / doubles.
int recur_mpi_allreduce_sum_float(float *buffer, long count, char *error, size_t capacity);
int recur_mpi_allreduce_sum_double(double *buffer, long count, char *error, size_t capacity);

/// Rank `root`'s `count` bytes to every rank.
int recur_mpi_broadcast(void *buffer, long count, int root, char *error, size_t capacity);

/// Waits for every rank.
int recur_mpi_barrier(char *error, size_t capacity);

/// Ends every process of the job with `code` (MPI_Abort).
void recur_mpi_abort(int code);

/// MPI_Finalize.
int recur_mpi_finalize(char *error, size_t capacity);

#ifdef __cplusplus
}
#endif
#endif
