// The MPI functions Recur needs, resolved with dlopen/dlsym at run time.
//
// Two handle conventions exist. Open MPI's handles are pointers to exported globals
// (MPI_COMM_WORLD is &ompi_mpi_comm_world, MPI_IN_PLACE is (void *)1); the MPICH ABI (MPICH,
// Intel MPI, MVAPICH) uses 32-bit integer constants (MPI_COMM_WORLD 0x44000000, MPI_IN_PLACE
// (void *)-1). The constants below are those of Open MPI 4.1's and MPICH 4.0's mpi.h.
#include "recur_mpi.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum flavor { FLAVOR_NONE, FLAVOR_OPENMPI, FLAVOR_MPICH };

// MPICH ABI constants (mpich/mpi.h).
#define MPICH_COMM_WORLD 0x44000000
#define MPICH_BYTE 0x4c00010d
#define MPICH_FLOAT 0x4c00040a
#define MPICH_DOUBLE 0x4c00080b
#define MPICH_SUM 0x58000003
#define MPICH_ERRORS_RETURN 0x54000001
#define MPICH_IN_PLACE ((void *)-1)
// Open MPI (openmpi/mpi.h).
#define OMPI_IN_PLACE ((void *)1)

#define MAX_ERROR_STRING 512  // MPICH's MPI_MAX_ERROR_STRING; Open MPI's is 256.
#define CHUNK (1L << 30)      // MPI counts are int: larger buffers go in pieces.

static struct {
  enum flavor flavor;
  void *library;
  const char *name;
  // Handles: pointers for Open MPI, integers for MPICH (stored in the same word).
  intptr_t comm_world, byte_type, float_type, double_type, op_sum, errors_return;
  void *in_place;
  int (*init)(int *, char ***);
  int (*initialized)(int *);
  int (*finalize)(void);
  int (*error_string)(int, char *, int *);
  // Functions taking handles: one pointer per convention.
  union { int (*ompi)(void *, int *); int (*mpich)(int, int *); } comm_rank, comm_size;
  union { int (*ompi)(const void *, void *, int, void *, void *, void *); int (*mpich)(const void *, void *, int, int, int, int); } allreduce;
  union { int (*ompi)(void *, int, void *, int, void *); int (*mpich)(void *, int, int, int, int); } bcast;
  union { int (*ompi)(void *); int (*mpich)(int); } barrier;
  union { int (*ompi)(void *, int); int (*mpich)(int, int); } abort_;
  union { int (*ompi)(void *, void *); int (*mpich)(int, int); } set_errhandler;
} mpi;

static void say(char *error, size_t capacity, const char *format, ...) {
  if (error == NULL || capacity == 0) return;
  va_list args;
  va_start(args, format);
  vsnprintf(error, capacity, format, args);
  va_end(args);
}

// Describes MPI error `code` of `what` in `error`; returns `code`.
static int failed(int code, const char *what, char *error, size_t capacity) {
  char text[MAX_ERROR_STRING + 1] = "";
  int length = 0;
  if (mpi.error_string == NULL || mpi.error_string(code, text, &length) != 0) snprintf(text, sizeof text, "error %d", code);
  say(error, capacity, "%s failed: %s", what, text);
  return code;
}

static void *symbol(const char *name, int *missing, char *error, size_t capacity) {
  void *s = dlsym(mpi.library, name);
  if (s == NULL && *missing == 0) {
    *missing = 1;
    say(error, capacity, "the MPI library %s has no symbol %s", mpi.name, name);
  }
  return s;
}

static int open_library(const char *path, char *error, size_t capacity) {
  // RTLD_GLOBAL: Open MPI's plug-ins (dlopened by libmpi) resolve their symbols against it.
  if (path != NULL) {
    mpi.library = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (mpi.library == NULL) {
      say(error, capacity, "cannot load the MPI library %s: %s", path, dlerror());
      return 1;
    }
    mpi.name = path;
    return 0;
  }
  static const char *const candidates[] = {"libmpi.so.40", "libmpi.so.12", "libmpich.so.12", "libmpi.so"};
  for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++) {
    mpi.library = dlopen(candidates[i], RTLD_NOW | RTLD_GLOBAL);
    if (mpi.library != NULL) {
      mpi.name = candidates[i];
      return 0;
    }
  }
  say(error, capacity, "no MPI library found (tried libmpi.so.40, libmpi.so.12, libmpich.so.12, libmpi.so)");
  return 1;
}

int recur_mpi_start(const char *path, char *error, size_t capacity) {
  if (mpi.flavor != FLAVOR_NONE) return 0;
  if (open_library(path, error, capacity) != 0) return 1;
  int missing = 0;
  mpi.init = (int (*)(int *, char ***))symbol("MPI_Init", &missing, error, capacity);
  mpi.initialized = (int (*)(int *))symbol("MPI_Initialized", &missing, error, capacity);
  mpi.finalize = (int (*)(void))symbol("MPI_Finalize", &missing, error, capacity);
  mpi.error_string = (int (*)(int, char *, int *))symbol("MPI_Error_string", &missing, error, capacity);
  *(void **)&mpi.comm_rank = symbol("MPI_Comm_rank", &missing, error, capacity);
  *(void **)&mpi.comm_size = symbol("MPI_Comm_size", &missing, error, capacity);
  *(void **)&mpi.allreduce = symbol("MPI_Allreduce", &missing, error, capacity);
  *(void **)&mpi.bcast = symbol("MPI_Bcast", &missing, error, capacity);
  *(void **)&mpi.barrier = symbol("MPI_Barrier", &missing, error, capacity);
  *(void **)&mpi.abort_ = symbol("MPI_Abort", &missing, error, capacity);
  *(void **)&mpi.set_errhandler = symbol("MPI_Comm_set_errhandler", &missing, error, capacity);
  if (missing) return 1;
  if (dlsym(mpi.library, "ompi_mpi_comm_world") != NULL) {
    mpi.flavor = FLAVOR_OPENMPI;
    const char *names[] = {"ompi_mpi_comm_world", "ompi_mpi_byte", "ompi_mpi_float", "ompi_mpi_double", "ompi_mpi_op_sum", "ompi_mpi_errors_return"};
    intptr_t *slots[] = {&mpi.comm_world, &mpi.byte_type, &mpi.float_type, &mpi.double_type, &mpi.op_sum, &mpi.errors_return};
    for (int i = 0; i < 6; i++) *slots[i] = (intptr_t)symbol(names[i], &missing, error, capacity);
    if (missing) return 1;
    mpi.in_place = OMPI_IN_PLACE;
  } else {
    mpi.flavor = FLAVOR_MPICH;
    mpi.comm_world = MPICH_COMM_WORLD;
    mpi.byte_type = MPICH_BYTE;
    mpi.float_type = MPICH_FLOAT;
    mpi.double_type = MPICH_DOUBLE;
    mpi.op_sum = MPICH_SUM;
    mpi.errors_return = MPICH_ERRORS_RETURN;
    mpi.in_place = MPICH_IN_PLACE;
  }
  int already = 0, code = mpi.initialized(&already);
  if (code != 0) return failed(code, "MPI_Initialized", error, capacity);
  if (!already && (code = mpi.init(NULL, NULL)) != 0) return failed(code, "MPI_Init", error, capacity);
  code = mpi.flavor == FLAVOR_OPENMPI ? mpi.set_errhandler.ompi((void *)mpi.comm_world, (void *)mpi.errors_return)
                                      : mpi.set_errhandler.mpich((int)mpi.comm_world, (int)mpi.errors_return);
  if (code != 0) return failed(code, "MPI_Comm_set_errhandler", error, capacity);
  return 0;
}

const char *recur_mpi_flavor(void) {
  return mpi.flavor == FLAVOR_OPENMPI ? "Open MPI" : mpi.flavor == FLAVOR_MPICH ? "MPICH ABI" : NULL;
}

const char *recur_mpi_library(void) { return mpi.flavor == FLAVOR_NONE ? NULL : mpi.name; }


static int not_started(char *error, size_t capacity) {
  say(error, capacity, "MPI is not started");
  return 1;
}

int recur_mpi_rank(int *rank, char *error, size_t capacity) {
  if (mpi.flavor == FLAVOR_NONE) return not_started(error, capacity);
  int code = mpi.flavor == FLAVOR_OPENMPI ? mpi.comm_rank.ompi((void *)mpi.comm_world, rank) : mpi.comm_rank.mpich((int)mpi.comm_world, rank);
  return code == 0 ? 0 : failed(code, "MPI_Comm_rank", error, capacity);
}

int recur_mpi_size(int *size, char *error, size_t capacity) {
  if (mpi.flavor == FLAVOR_NONE) return not_started(error, capacity);
  int code = mpi.flavor == FLAVOR_OPENMPI ? mpi.comm_size.ompi((void *)mpi.comm_world, size) : mpi.comm_size.mpich((int)mpi.comm_world, size);
  return code == 0 ? 0 : failed(code, "MPI_Comm_size", error, capacity);
}

static int allreduce_sum(void *buffer, long count, size_t width, intptr_t type, char *error, size_t capacity) {
  if (mpi.flavor == FLAVOR_NONE) return not_started(error, capacity);
  for (long start = 0; start < count; start += CHUNK) {
    int n = (int)(count - start < CHUNK ? count - start : CHUNK);
    char *p = (char *)buffer + (size_t)start * width;
    int code = mpi.flavor == FLAVOR_OPENMPI
                   ? mpi.allreduce.ompi(mpi.in_place, p, n, (void *)type, (void *)mpi.op_sum, (void *)mpi.comm_world)
                   : mpi.allreduce.mpich(mpi.in_place, p, n, (int)type, (int)mpi.op_sum, (int)mpi.comm_world);
    if (code != 0) return failed(code, "MPI_Allreduce", error, capacity);
  }
  return 0;
}

int recur_mpi_allreduce_sum_float(float *buffer, long count, char *error, size_t capacity) {
  return allreduce_sum(buffer, count, sizeof(float), mpi.float_type, error, capacity);
}

int recur_mpi_allreduce_sum_double(double *buffer, long count, char *error, size_t capacity) {
  return allreduce_sum(buffer, count, sizeof(double), mpi.double_type, error, capacity);
}

int recur_mpi_broadcast(void *buffer, long count, int root, char *error, size_t capacity) {
  if (mpi.flavor == FLAVOR_NONE) return not_started(error, capacity);
  for (long start = 0; start < count; start += CHUNK) {
    int n = (int)(count - start < CHUNK ? count - start : CHUNK);
    char *p = (char *)buffer + start;
    int code = mpi.flavor == FLAVOR_OPENMPI ? mpi.bcast.ompi(p, n, (void *)mpi.byte_type, root, (void *)mpi.comm_world)
                                            : mpi.bcast.mpich(p, n, (int)mpi.byte_type, root, (int)mpi.comm_world);
    if (code != 0) return failed(code, "MPI_Bcast", error, capacity);
  }
  return 0;
}

int recur_mpi_barrier(char *error, size_t capacity) {
  if (mpi.flavor == FLAVOR_NONE) return not_started(error, capacity);
  int code = mpi.flavor == FLAVOR_OPENMPI ? mpi.barrier.ompi((void *)mpi.comm_world) : mpi.barrier.mpich((int)mpi.comm_world);
  return code == 0 ? 0 : failed(code, "MPI_Barrier", error, capacity);
}

void recur_mpi_abort(int code) {
  if (mpi.flavor == FLAVOR_OPENMPI) mpi.abort_.ompi((void *)mpi.comm_world, code);
  else if (mpi.flavor == FLAVOR_MPICH) mpi.abort_.mpich((int)mpi.comm_world, code);
}

int recur_mpi_finalize(char *error, size_t capacity) {
  if (mpi.flavor == FLAVOR_NONE) return 0;
  int code = mpi.finalize();
  return code == 0 ? 0 : failed(code, "MPI_Finalize", error, capacity);
}
