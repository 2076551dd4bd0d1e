// Whole-sequence products (see linear.h).
#include "linear.h"

#include "common.h"

namespace lstmkit {

at::Tensor linear(const at::Tensor& x_in, const at::Tensor& w, const c10::optional<at::Tensor>& b) {
  const at::Tensor x = x_in.contiguous();
  const int64_t M = x.size(0), K = x.size(1), Nc = w.size(0);
  const at::Tensor w_t = transposed(w);  // [K, Nc]
  at::Tensor y = at::empty({M, Nc}, x.options());
  const at::Tensor bias = given(b) ? b->contiguous() : at::Tensor();
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "lstmkit_linear", [&] {
    matmul_bias<scalar_t>(M, Nc, K, x.data_ptr<scalar_t>(), K, w_t.data_ptr<scalar_t>(), Nc,
                          bias.defined() ? bias.data_ptr<scalar_t>() : nullptr,
                          y.data_ptr<scalar_t>(), Nc);
  });
  return y;
}

at::Tensor weight_gradient(const at::Tensor& g, const at::Tensor& x) {
  TORCH_CHECK(g.dim() == 2 && g.stride(1) == 1, "lstmkit native: weight_gradient needs rows");
  const int64_t M = g.size(0), Nc = g.size(1), K = x.size(1);
  // (x^T g)^T: only x (usually the narrower factor) is transposed.
  const at::Tensor x_t = x.t().contiguous();  // [K, M]
  at::Tensor out = at::empty({K, Nc}, g.options());
  AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "lstmkit_weight_gradient", [&] {
    matmul<scalar_t>(K, Nc, M, x_t.data_ptr<scalar_t>(), M, g.data_ptr<scalar_t>(), g.stride(0),
                     out.data_ptr<scalar_t>(), Nc, false);
  });
  return out.t().contiguous();  // [Nc, K]
}

std::vector<at::Tensor> linear_backward(const at::Tensor& dy_in, const at::Tensor& x,
                                        const at::Tensor& w_in, bool need_x, bool need_w,
                                        bool need_b) {
  const at::Tensor dy = dy_in.contiguous(), w = w_in.contiguous();
  const int64_t M = dy.size(0), Nc = dy.size(1), K = w.size(1);
  at::Tensor dx = at::empty({0}, dy.options()), dw = dx, db = dx;
  if (need_x) {
    dx = at::empty({M, K}, dy.options());
    AT_DISPATCH_FLOATING_TYPES(dy.scalar_type(), "lstmkit_linear_dx", [&] {
      matmul<scalar_t>(M, K, Nc, dy.data_ptr<scalar_t>(), Nc, w.data_ptr<scalar_t>(), K,
                       dx.data_ptr<scalar_t>(), K, false);
    });
  }
  if (need_w) dw = weight_gradient(dy, x.contiguous());
  if (need_b) db = dy.sum(0);
  return {dx, dw, db};
}

}  // namespace lstmkit
