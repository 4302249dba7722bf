// CPU entry points into the CUDA kernels' math headers, loaded by tests/ops/conftest.py via ctypes.
// Lets CPU-only machines test the per-element kernel code (and the CUDA autograd wrappers).

#include <cstdint>

#include "bias_act_math.h"
#include "upfirdn2d_math.h"

using namespace autodrag_ops;

template <typename T>
static void run_bias_act(const BiasActParams& p) {
  for (int64_t i = 0; i < p.size_x; ++i) bias_act_at<typename Compute<T>::type, T>(p, i);
}

template <typename T>
static void run_upfirdn2d(const Upfirdn2dParams& p) {
  const int64_t count = p.n * p.c * p.out_h * p.out_w;
  for (int64_t i = 0; i < count; ++i) upfirdn2d_at<typename Compute<T>::type, T>(p, i);
}

extern "C" {

// dtype: 0 float32, 1 float64 (as DType in csrc/ops.h). Returns 0 on success.
int harness_bias_act(int dtype, const void* x, const void* b, const void* xref, const void* yref, const void* dy,
                     void* y, int64_t size_x, int64_t size_b, int64_t step_b, int grad, int act, double alpha,
                     double gain, double clamp) {
  BiasActParams p;
  p.x = x;
  p.b = b;
  p.xref = xref;
  p.yref = yref;
  p.dy = dy;
  p.y = y;
  p.size_x = size_x;
  p.size_b = size_b;
  p.step_b = step_b;
  p.grad = grad;
  p.act = act;
  p.alpha = alpha;
  p.gain = gain;
  p.clamp = clamp;
  if (dtype == 0) run_bias_act<float>(p);
  else if (dtype == 1) run_bias_act<double>(p);
  else return 1;
  return 0;
}

// sizes: n, c, in_h, in_w, out_h, out_w; ints: fh, fw, up_x, up_y, down_x, down_y, pad_x0, pad_y0, flip.
int harness_upfirdn2d(int dtype, const void* x, const float* f, void* y, const int64_t* sizes,
                      const int64_t* x_stride, const int64_t* y_stride, const int* ints, double gain) {
  Upfirdn2dParams p;
  p.x = x;
  p.f = f;
  p.y = y;
  p.n = sizes[0];
  p.c = sizes[1];
  p.in_h = sizes[2];
  p.in_w = sizes[3];
  p.out_h = sizes[4];
  p.out_w = sizes[5];
  for (int d = 0; d < 4; ++d) {
    p.x_stride[d] = x_stride[d];
    p.y_stride[d] = y_stride[d];
  }
  p.fh = ints[0];
  p.fw = ints[1];
  p.up_x = ints[2];
  p.up_y = ints[3];
  p.down_x = ints[4];
  p.down_y = ints[5];
  p.pad_x0 = ints[6];
  p.pad_y0 = ints[7];
  p.flip_filter = ints[8] != 0;
  p.gain = gain;
  if (dtype == 0) run_upfirdn2d<float>(p);
  else if (dtype == 1) run_upfirdn2d<double>(p);
  else return 1;
  return 0;
}

}  // extern "C"
