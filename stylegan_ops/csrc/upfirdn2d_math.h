// Per-output-pixel math of upfirdn2d: zero-insert upsampling, pad/crop, FIR filter, decimation.
// Shared by the CUDA kernel (upfirdn2d.cu) and the CPU test harness (tests/ops/).
#pragma once

#include "common.h"

namespace autodrag_ops {

struct Upfirdn2dParams {
  const void* x = nullptr;     // [N, C, in_h, in_w], any strides
  const float* f = nullptr;    // [fh, fw], contiguous float32
  void* y = nullptr;           // [N, C, out_h, out_w], any strides
  int64_t n = 0, c = 0, in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  int64_t x_stride[4] = {0, 0, 0, 0};
  int64_t y_stride[4] = {0, 0, 0, 0};
  int fh = 1, fw = 1;
  int up_x = 1, up_y = 1, down_x = 1, down_y = 1;
  int pad_x0 = 0, pad_y0 = 0;  // trailing pads only decide the output size, computed by the caller
  bool flip_filter = false;    // false: true convolution (filter flipped); true: correlation
  double gain = 1;
};

// Smallest tap offset t >= 0 such that u0 + t lands on a non-inserted sample (>= 0, multiple of up).
AD_HD int64_t first_tap(int64_t u0, int up) {
  if (u0 < 0) return -u0;
  const int64_t r = u0 % up;
  return r == 0 ? 0 : up - r;
}

// Output element idx (logical NCHW order) of upfirdn2d.
template <typename S, typename T>
AD_HD void upfirdn2d_at(const Upfirdn2dParams& p, int64_t idx) {
  const int64_t ox = idx % p.out_w;
  int64_t rest = idx / p.out_w;
  const int64_t oy = rest % p.out_h;
  rest /= p.out_h;
  const int64_t c = rest % p.c;
  const int64_t n = rest / p.c;
  const T* plane = static_cast<const T*>(p.x) + n * p.x_stride[0] + c * p.x_stride[1];

  // Tap (0, 0) of this output sits at (uy0, ux0) in the zero-inserted grid before padding.
  const int64_t uy0 = oy * p.down_y - p.pad_y0;
  const int64_t ux0 = ox * p.down_x - p.pad_x0;
  S acc = 0;
  for (int64_t ty = first_tap(uy0, p.up_y); ty < p.fh; ty += p.up_y) {
    const int64_t iy = (uy0 + ty) / p.up_y;
    if (iy >= p.in_h) break;
    const int64_t fy = p.flip_filter ? ty : p.fh - 1 - ty;
    for (int64_t tx = first_tap(ux0, p.up_x); tx < p.fw; tx += p.up_x) {
      const int64_t ix = (ux0 + tx) / p.up_x;
      if (ix >= p.in_w) break;
      const int64_t fx = p.flip_filter ? tx : p.fw - 1 - tx;
      acc += Convert<T>::template load<S>(plane[iy * p.x_stride[2] + ix * p.x_stride[3]]) * static_cast<S>(p.f[fy * p.fw + fx]);
    }
  }
  T* out = static_cast<T*>(p.y);
  out[n * p.y_stride[0] + c * p.y_stride[1] + oy * p.y_stride[2] + ox * p.y_stride[3]] =
      Convert<T>::template store<S>(acc * static_cast<S>(p.gain));
}

}  // namespace autodrag_ops
