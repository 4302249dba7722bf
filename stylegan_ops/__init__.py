"""Custom ops of NVIDIA's StyleGAN2/StyleGAN3 generators: reference PyTorch and CUDA kernels.

Every op takes `impl='auto'` (kernel for CUDA tensors when the extension builds, else reference),
`'ref'` or `'cuda'`. The CUDA extension is compiled on first use, never at import.
"""

from . import bias_act, conv2d_resample, filtered_lrelu, fma, upfirdn2d

__all__ = ["bias_act", "conv2d_resample", "filtered_lrelu", "fma", "upfirdn2d"]
