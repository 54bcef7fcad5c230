// Picks the backend for `--device`.
#include "backend/backend.h"

#ifdef SLUICE_HAS_CUDA
#include "backend/cuda/cuda_backend.h"
#endif

namespace sluice {

bool cuda_available() {
#ifdef SLUICE_HAS_CUDA
  return cuda::device_count() > 0;
#else
  return false;
#endif
}

OptionalDTypes optional_dtypes_for(const std::string& device) {
#ifdef SLUICE_HAS_CUDA
  if (device != "cpu" && cuda::device_count() > 0) return cuda::optional_dtypes();
#else
  (void)device;
#endif
  return cpu_optional_dtypes();
}

Result<std::unique_ptr<Backend>> make_backend(const std::string& device, int num_threads,
                                              bool cpu_int8_activations) {
  if (device == "cpu") return make_cpu_backend(num_threads, cpu_int8_activations);
  if (device == "cuda" || device == "auto") {
#ifdef SLUICE_HAS_CUDA
    if (cuda::device_count() > 0) {
      if (cpu_int8_activations)
        return Status::error("backend",
                             "--cpu-int8-activations applies to the CPU backend only (the device "
                             "picked is a CUDA GPU)");
      return cuda::make_cuda_backend(0);
    }
    if (device == "cuda") return Status::error("backend", "--device cuda: no CUDA GPU is visible");
#else
    if (device == "cuda")
      return Status::error("backend",
                           "--device cuda: this build has no CUDA backend (configure with "
                           "-DSLUICE_CUDA=ON)");
#endif
    return make_cpu_backend(num_threads, cpu_int8_activations);
  }
  return Status::error("backend", "--device must be cpu, cuda or auto (got '" + device + "')");
}

}  // namespace sluice
