// Launch interface between the torch bindings (ops.cpp) and the kernels (*.cu).
// Torch-free on purpose: the .cu files compile with plain nvcc, and the math headers they include
// also compile as host C++ for the CPU tests in tests/ops/.
#pragma once

#include <cuda_runtime.h>

#include "bias_act_math.h"
#include "upfirdn2d_math.h"

namespace autodrag_ops {

enum class DType : int { kFloat32 = 0, kFloat64 = 1, kFloat16 = 2 };

cudaError_t launch_bias_act(const BiasActParams& p, DType dtype, cudaStream_t stream);
cudaError_t launch_upfirdn2d(const Upfirdn2dParams& p, DType dtype, cudaStream_t stream);

}  // namespace autodrag_ops
