// CUDA kernel for upfirdn2d: one thread per output pixel, grid-stride; the math is in upfirdn2d_math.h.
// Direct (untiled) evaluation: simple and exact, not tuned for speed.

#include "half.cuh"
#include "ops.h"

namespace autodrag_ops {

template <typename T>
__global__ void upfirdn2d_kernel(Upfirdn2dParams p, int64_t count) {
  using S = typename Compute<T>::type;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride)
    upfirdn2d_at<S, T>(p, i);
}

cudaError_t launch_upfirdn2d(const Upfirdn2dParams& p, DType dtype, cudaStream_t stream) {
  const int64_t count = p.n * p.c * p.out_h * p.out_w;
  if (count == 0) return cudaSuccess;
  constexpr int kBlock = 256;
  const unsigned int grid = grid_size(count, kBlock);
  switch (dtype) {
    case DType::kFloat32: upfirdn2d_kernel<float><<<grid, kBlock, 0, stream>>>(p, count); break;
    case DType::kFloat64: upfirdn2d_kernel<double><<<grid, kBlock, 0, stream>>>(p, count); break;
    case DType::kFloat16: upfirdn2d_kernel<__half><<<grid, kBlock, 0, stream>>>(p, count); break;
    default: return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

}  // namespace autodrag_ops
