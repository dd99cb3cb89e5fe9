// The emulated build of samples_cuda.cu. A .cpp that includes the .cu rather
// than marking the .cu as C++: CMake keeps one LANGUAGE per source file in a
// directory, and the same .cu must stay CUDA for the nvcc build beside this.
#include "kernels/simt/samples/samples_cuda.cu"
