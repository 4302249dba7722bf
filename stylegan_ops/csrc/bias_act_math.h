// Per-element math of bias_act: forward, first and second derivative.
// Shared by the CUDA kernel (bias_act.cu) and the CPU test harness (tests/ops/).
#pragma once

#include "common.h"

namespace autodrag_ops {

// Activation indices; must equal `cuda_idx` in stylegan_ops/bias_act.py:ACTIVATIONS.
enum ActKind : int {
  kLinear = 1,
  kRelu = 2,
  kLrelu = 3,
  kTanh = 4,
  kSigmoid = 5,
  kElu = 6,
  kSelu = 7,
  kSoftplus = 8,
  kSwish = 9,
};

struct BiasActParams {
  const void* x = nullptr;     // input (grad 0) or incoming gradient (grad 1, 2); dense, size_x elements
  const void* b = nullptr;     // bias [size_b] or nullptr
  const void* xref = nullptr;  // forward input without bias (grad 1, 2) or nullptr
  const void* yref = nullptr;  // forward output (grad 1, 2) or nullptr; required when clamp >= 0 (not swish)
  const void* dy = nullptr;    // first-order incoming gradient (grad 2) or nullptr
  void* y = nullptr;           // output, same layout as x
  int64_t size_x = 0;
  int64_t size_b = 1;
  int64_t step_b = 1;          // memory stride of the bias dimension: channel = (i / step_b) % size_b
  int grad = 0;                // 0: forward, 1: first derivative, 2: second derivative
  int act = kLinear;
  double alpha = 0, gain = 1, clamp = -1;  // clamp < 0: no clamp
};

constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;

template <typename S>
AD_HD S act_value(int act, S v, S alpha) {
  const S one = 1;
  switch (act) {
    case kRelu: return v > 0 ? v : S(0);
    case kLrelu: return v > 0 ? v : v * alpha;
    case kTanh: return ad_tanh(v);
    case kSigmoid: return one / (one + ad_exp(-v));
    case kElu: return v > 0 ? v : ad_expm1(v);
    case kSelu: return v > 0 ? S(kSeluScale) * v : S(kSeluScale * kSeluAlpha) * ad_expm1(v);
    case kSoftplus: return v > S(20) ? v : ad_log1p(ad_exp(v));  // same threshold as torch
    case kSwish: return v / (one + ad_exp(-v));
    default: return v;  // linear
  }
}

// f'(v) for order 1, f''(v) for order 2, from the pre-activation v (swish) or from the
// activation value a = f(v) (all others, as their forward output is what is saved).
template <typename S>
AD_HD S act_derivative(int act, int order, S v, S a, S alpha) {
  const S one = 1, two = 2;
  const bool first = order == 1;
  switch (act) {
    case kLinear: return first ? one : S(0);
    case kRelu: return first ? (a > 0 ? one : S(0)) : S(0);
    case kLrelu: return first ? (a > 0 ? one : alpha) : S(0);
    case kTanh: return first ? one - a * a : (one - a * a) * (-two * a);
    case kSigmoid: return first ? a * (one - a) : a * (one - a) * (one - two * a);
    case kElu: return a >= 0 ? (first ? one : S(0)) : a + one;
    case kSelu: return a >= 0 ? (first ? S(kSeluScale) : S(0)) : a + S(kSeluScale * kSeluAlpha);
    case kSoftplus: {
      const S c = ad_exp(-a);  // 1 - sigmoid(v)
      return first ? one - c : c * (one - c);
    }
    case kSwish: {
      const S s = one / (one + ad_exp(-v));
      return first ? s * (one + v * (one - s)) : s * (one - s) * (two + v * (one - two * s));
    }
    default: return S(0);
  }
}

// Element i of bias_act: loads, computes in S, stores as T.
//   grad 0: y = clamp(f(x + b) * gain)
//   grad 1: y = x * f'(xref + b) * gain                 (x is dL/dy)
//   grad 2: y = x * dy * f''(xref + b) * gain           (x is the gradient of dL/dx)
// Gradients are zero where the forward output was clamped (|yref| >= clamp).
template <typename S, typename T>
AD_HD void bias_act_at(const BiasActParams& p, int64_t i) {
  const S x = Convert<T>::template load<S>(static_cast<const T*>(p.x)[i]);
  const S b = p.b ? Convert<T>::template load<S>(static_cast<const T*>(p.b)[(i / p.step_b) % p.size_b]) : S(0);
  const S alpha = static_cast<S>(p.alpha), gain = static_cast<S>(p.gain), clamp = static_cast<S>(p.clamp);
  S y;
  if (p.grad == 0) {
    y = act_value<S>(p.act, x + b, alpha) * gain;
    if (clamp >= 0) y = y > clamp ? clamp : (y < -clamp ? -clamp : y);  // NaN passes, as in torch
  } else {
    const S v = (p.xref ? Convert<T>::template load<S>(static_cast<const T*>(p.xref)[i]) : S(0)) + b;
    S yref = p.yref ? Convert<T>::template load<S>(static_cast<const T*>(p.yref)[i]) : S(0);
    if (p.act == kSwish) yref = act_value<S>(kSwish, v, alpha) * gain;  // its output is not saved
    const S a = gain != 0 ? yref / gain : S(0);
    const S dy = (p.grad == 2 && p.dy) ? Convert<T>::template load<S>(static_cast<const T*>(p.dy)[i]) : S(1);
    y = x * dy * act_derivative<S>(p.act, p.grad, v, a, alpha) * gain;
    if (clamp >= 0 && !(yref > -clamp && yref < clamp)) y = 0;
  }
  static_cast<T*>(p.y)[i] = Convert<T>::template store<S>(y);
}

}  // namespace autodrag_ops
