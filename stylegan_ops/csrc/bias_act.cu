// CUDA kernel for bias_act: a grid-stride loop over elements; the math is in bias_act_math.h.

#include "half.cuh"
#include "ops.h"

namespace autodrag_ops {

template <typename T>
__global__ void bias_act_kernel(BiasActParams p) {
  using S = typename Compute<T>::type;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < p.size_x; i += stride)
    bias_act_at<S, T>(p, i);
}

cudaError_t launch_bias_act(const BiasActParams& p, DType dtype, cudaStream_t stream) {
  if (p.size_x == 0) return cudaSuccess;
  constexpr int kBlock = 256;
  const unsigned int grid = grid_size(p.size_x, kBlock);
  switch (dtype) {
    case DType::kFloat32: bias_act_kernel<float><<<grid, kBlock, 0, stream>>>(p); break;
    case DType::kFloat64: bias_act_kernel<double><<<grid, kBlock, 0, stream>>>(p); break;
    case DType::kFloat16: bias_act_kernel<__half><<<grid, kBlock, 0, stream>>>(p); break;
    default: return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

}  // namespace autodrag_ops
