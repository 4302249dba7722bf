// Helpers shared by the kernel math headers; compiles as CUDA and as plain host C++.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define AD_HD __host__ __device__ __forceinline__
#else
#define AD_HD inline
#endif

namespace autodrag_ops {

// Overloads rather than std:: so the same code resolves to expf/exp on host and device.
AD_HD float ad_exp(float v) { return expf(v); }
AD_HD double ad_exp(double v) { return exp(v); }
AD_HD float ad_expm1(float v) { return expm1f(v); }
AD_HD double ad_expm1(double v) { return expm1(v); }
AD_HD float ad_log1p(float v) { return log1pf(v); }
AD_HD double ad_log1p(double v) { return log1p(v); }
AD_HD float ad_tanh(float v) { return tanhf(v); }
AD_HD double ad_tanh(double v) { return tanh(v); }

// Storage type -> computation type: half and float compute in float, double in double.
template <typename T> struct Compute { using type = float; };
template <> struct Compute<double> { using type = double; };

// Load/store conversions between storage T and computation S. The .cu files specialise this for
// __half with explicit intrinsics, since torch builds with __CUDA_NO_HALF_CONVERSIONS__.
template <typename T> struct Convert {
  template <typename S> static AD_HD S load(T v) { return static_cast<S>(v); }
  template <typename S> static AD_HD T store(S v) { return static_cast<T>(v); }
};

}  // namespace autodrag_ops
