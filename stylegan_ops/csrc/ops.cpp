// Torch bindings for the stylegan_ops kernels: argument checks, output allocation, launch.

#include <optional>

// Narrow includes instead of <torch/extension.h>: a third of the compile time.
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <pybind11/stl.h>
#include <torch/csrc/utils/pybind.h>

#include "ops.h"

namespace autodrag_ops {
namespace {

DType dtype_of(const at::Tensor& t) {
  switch (t.scalar_type()) {
    case at::kFloat: return DType::kFloat32;
    case at::kDouble: return DType::kFloat64;
    case at::kHalf: return DType::kFloat16;
    default: TORCH_CHECK(false, "stylegan_ops: unsupported dtype ", t.scalar_type());
  }
}

// Same shape and the same memory order. Strides of size-1 dimensions do not matter (they differ
// between equally valid layouts, e.g. [N, C, 1, 1] in contiguous and channels_last form).
bool same_layout(const at::Tensor& a, const at::Tensor& b) {
  if (a.sizes() != b.sizes()) return false;
  for (int64_t d = 0; d < a.dim(); ++d)
    if (a.size(d) > 1 && a.stride(d) != b.stride(d)) return false;
  return true;
}

// Optional tensors of bias_act must match x in device, dtype and layout, since the kernel indexes
// them with x's linear memory index.
const void* like_x(const std::optional<at::Tensor>& t, const at::Tensor& x, const char* name) {
  if (!t.has_value() || !t->defined()) return nullptr;
  TORCH_CHECK(t->device() == x.device() && t->scalar_type() == x.scalar_type(), name, " must match x in device and dtype");
  TORCH_CHECK(same_layout(*t, x), name, " must match x in shape and memory layout");
  return t->data_ptr();
}

void check_launch(cudaError_t err) {
  TORCH_CHECK(err == cudaSuccess, "stylegan_ops: kernel launch failed: ", cudaGetErrorString(err));
}

}  // namespace

at::Tensor bias_act(at::Tensor x, std::optional<at::Tensor> b, std::optional<at::Tensor> xref,
                       std::optional<at::Tensor> yref, std::optional<at::Tensor> dy, int64_t grad,
                       int64_t dim, int64_t act, double alpha, double gain, double clamp) {
  TORCH_CHECK(x.is_cuda(), "x must be a CUDA tensor");
  TORCH_CHECK(x.is_non_overlapping_and_dense(), "x must be dense (contiguous or channels_last)");
  TORCH_CHECK(grad >= 0 && grad <= 2, "grad must be 0, 1 or 2");
  TORCH_CHECK(act >= kLinear && act <= kSwish, "unknown activation index ", act);
  const c10::cuda::CUDAGuard guard(x.device());

  BiasActParams p;
  p.x = x.data_ptr();
  p.xref = like_x(xref, x, "xref");
  p.yref = like_x(yref, x, "yref");
  p.dy = like_x(dy, x, "dy");
  if (b.has_value() && b->defined()) {
    TORCH_CHECK(b->device() == x.device() && b->scalar_type() == x.scalar_type(), "b must match x in device and dtype");
    TORCH_CHECK(b->dim() == 1 && b->is_contiguous(), "b must be a contiguous 1-D tensor");
    TORCH_CHECK(dim >= 0 && dim < x.dim() && b->size(0) == x.size(dim), "b must have x.shape[dim] entries");
    p.b = b->data_ptr();
    p.size_b = b->size(0);
    p.step_b = x.stride(dim);
  }
  at::Tensor y = at::empty_like(x);  // preserves x's strides (dense input)
  p.y = y.data_ptr();
  p.size_x = x.numel();
  p.grad = static_cast<int>(grad);
  p.act = static_cast<int>(act);
  p.alpha = alpha;
  p.gain = gain;
  p.clamp = clamp;
  check_launch(launch_bias_act(p, dtype_of(x), c10::cuda::getCurrentCUDAStream()));
  return y;
}

at::Tensor upfirdn2d(at::Tensor x, at::Tensor f, int64_t up_x, int64_t up_y, int64_t down_x,
                        int64_t down_y, int64_t pad_x0, int64_t pad_x1, int64_t pad_y0, int64_t pad_y1,
                        bool flip_filter, double gain) {
  TORCH_CHECK(x.is_cuda() && x.dim() == 4, "x must be a 4-D CUDA tensor");
  TORCH_CHECK(f.device() == x.device() && f.dim() == 2, "f must be a 2-D tensor on x's device");
  TORCH_CHECK(up_x >= 1 && up_y >= 1 && down_x >= 1 && down_y >= 1, "up and down must be >= 1");
  const c10::cuda::CUDAGuard guard(x.device());
  const at::Tensor fc = f.to(at::kFloat).contiguous();

  Upfirdn2dParams p;
  p.n = x.size(0);
  p.c = x.size(1);
  p.in_h = x.size(2);
  p.in_w = x.size(3);
  p.fh = static_cast<int>(fc.size(0));
  p.fw = static_cast<int>(fc.size(1));
  const int64_t up_h = p.in_h * up_y + pad_y0 + pad_y1;
  const int64_t up_w = p.in_w * up_x + pad_x0 + pad_x1;
  TORCH_CHECK(up_h >= p.fh && up_w >= p.fw, "upsampled and padded input is smaller than the filter");
  p.out_h = (up_h - p.fh) / down_y + 1;
  p.out_w = (up_w - p.fw) / down_x + 1;
  const auto fmt = x.suggest_memory_format();
  at::Tensor y = at::empty({p.n, p.c, p.out_h, p.out_w}, x.options().memory_format(fmt));
  for (int d = 0; d < 4; ++d) {
    p.x_stride[d] = x.stride(d);
    p.y_stride[d] = y.stride(d);
  }
  p.x = x.data_ptr();
  p.f = fc.data_ptr<float>();
  p.y = y.data_ptr();
  p.up_x = static_cast<int>(up_x);
  p.up_y = static_cast<int>(up_y);
  p.down_x = static_cast<int>(down_x);
  p.down_y = static_cast<int>(down_y);
  p.pad_x0 = static_cast<int>(pad_x0);
  p.pad_y0 = static_cast<int>(pad_y0);
  p.flip_filter = flip_filter;
  p.gain = gain;
  check_launch(launch_upfirdn2d(p, dtype_of(x), c10::cuda::getCurrentCUDAStream()));
  return y;
}

}  // namespace autodrag_ops

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("bias_act", &autodrag_ops::bias_act, "bias_act kernel (see stylegan_ops/bias_act.py)");
  m.def("upfirdn2d", &autodrag_ops::upfirdn2d, "upfirdn2d kernel (see stylegan_ops/upfirdn2d.py)");
}
