// __half load/store for the kernel math headers (torch builds with __CUDA_NO_HALF_CONVERSIONS__).
#pragma once

#include <cuda_fp16.h>

#include "common.h"

namespace autodrag_ops {

template <> struct Convert<__half> {
  template <typename S> static __device__ __forceinline__ S load(__half v) { return static_cast<S>(__half2float(v)); }
  template <typename S> static __device__ __forceinline__ __half store(S v) {
    return __float2half_rn(static_cast<float>(v));
  }
};

// A grid covering `count` items with `block` threads each, capped; kernels loop grid-stride.
inline unsigned int grid_size(int64_t count, int block) {
  const int64_t blocks = (count + block - 1) / block;
  return static_cast<unsigned int>(blocks < 65535 * 16 ? (blocks > 0 ? blocks : 1) : 65535 * 16);
}

}  // namespace autodrag_ops
