// Built instead of the nvcc build of samples_cuda.cu when there is no nvcc:
// the CUDA backend does not exist, and tests skip it.
#include "kernels/simt/samples/samples.h"

namespace medtex::simt_samples {

const Backend* cuda_backend() {
  return nullptr;
}

}  // namespace medtex::simt_samples
