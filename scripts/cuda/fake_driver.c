/* A stand-in for the NVIDIA driver's libcuda.so.1, for testing a CUDA build of eegrun on a
 * machine without a GPU (scripts/cuda/check-without-gpu.sh). FAKE_CUDA_DEVICES=0 makes it
 * answer as a driver that finds no device; otherwise it reports one "Fake GPU" of compute
 * capability 9.0 and 141 GiB, and refuses everything else with CUDA_ERROR_NOT_SUPPORTED,
 * so eegrun must bind every function, pass arguments through, and report the refusal. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum { SUCCESS = 0, NO_DEVICE = 100, NOT_SUPPORTED = 801 };

static int devices(void) {
    const char *n = getenv("FAKE_CUDA_DEVICES");
    return n ? atoi(n) : 1;
}

int cuInit(unsigned flags) { (void)flags; return devices() ? SUCCESS : NO_DEVICE; }
int cuGetErrorString(int error, const char **text) {
    *text = error == NO_DEVICE ? "no CUDA-capable device is detected"
          : error == NOT_SUPPORTED ? "operation not supported" : "unknown error";
    return SUCCESS;
}
int cuDeviceGetCount(int *count) { *count = devices(); return SUCCESS; }
int cuDeviceGet(int *device, int ordinal) { *device = ordinal; return ordinal < devices() ? SUCCESS : 101; }
int cuDeviceGetName(char *name, int len, int device) {
    (void)device;
    strncpy(name, "Fake GPU", (size_t)len);
    return SUCCESS;
}
int cuDeviceGetAttribute(int *value, int attribute, int device) {
    (void)device;
    *value = attribute == 75 ? 9 : 0; /* 75: compute capability major, 76: minor */
    return SUCCESS;
}
int cuDeviceTotalMem_v2(size_t *bytes, int device) { (void)device; *bytes = (size_t)141 << 30; return SUCCESS; }

#define REFUSE(name) int name(void) { return NOT_SUPPORTED; }
REFUSE(cuCtxSetCurrent) REFUSE(cuDevicePrimaryCtxRelease_v2) REFUSE(cuDevicePrimaryCtxRetain)
REFUSE(cuEventCreate) REFUSE(cuEventDestroy_v2) REFUSE(cuEventRecord)
#ifndef OLD_DRIVER /* built with -DOLD_DRIVER: a driver that lacks a function eegrun needs */
REFUSE(cuLaunchKernel)
#endif
REFUSE(cuMemAllocAsync) REFUSE(cuMemAlloc_v2) REFUSE(cuMemFreeAsync) REFUSE(cuMemFree_v2)
REFUSE(cuMemcpyDtoDAsync_v2) REFUSE(cuMemcpyDtoD_v2) REFUSE(cuMemcpyDtoHAsync_v2)
REFUSE(cuMemcpyDtoH_v2) REFUSE(cuMemcpyHtoDAsync_v2) REFUSE(cuMemcpyHtoD_v2)
REFUSE(cuMemsetD8Async) REFUSE(cuMemsetD8_v2) REFUSE(cuModuleGetFunction) REFUSE(cuModuleLoad)
REFUSE(cuModuleLoadData) REFUSE(cuModuleUnload) REFUSE(cuStreamCreate) REFUSE(cuStreamDestroy_v2)
REFUSE(cuStreamSynchronize) REFUSE(cuStreamWaitEvent)
