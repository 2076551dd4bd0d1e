// Whole-sequence products on lstmkit's GEMM path (see matmul in common.h): the input
// projection x~ = x W^T + b for all steps at once, its gradients, and the weight gradients
// the layer kernels form after their time loops.
#pragma once

#include <ATen/ATen.h>

#include <vector>

namespace lstmkit {

// x [M, K], w [Nc, K], b [Nc] -> x w^T + b  [M, Nc]
at::Tensor linear(const at::Tensor& x, const at::Tensor& w, const c10::optional<at::Tensor>& b);

// [dx = dy w, dw = dy^T x, db = sum_rows dy]; entries not asked for are empty.
std::vector<at::Tensor> linear_backward(const at::Tensor& dy, const at::Tensor& x,
                                        const at::Tensor& w, bool need_x, bool need_w,
                                        bool need_b);

// g [M, Nc] (unit column stride), x [M, K] -> g^T x [Nc, K]: the gradient of W in x W^T.
at::Tensor weight_gradient(const at::Tensor& g, const at::Tensor& x);

}  // namespace lstmkit
