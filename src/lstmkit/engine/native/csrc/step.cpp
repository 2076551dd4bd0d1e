// Streaming inference through a stack (see step.h). Each layer is the layer kernel run
// over a sequence of length 1, after its input projection.
#include "step.h"

#include "common.h"
#include "gru.h"
#include "lstm.h"

namespace lstmkit {
namespace {

constexpr int64_t kFields = 11;  // LayerParams fields per layer
constexpr double kEps = 1e-5;

c10::optional<at::Tensor> field(const c10::List<c10::optional<at::Tensor>>& weights,
                                int64_t layer, int64_t index) {
  c10::optional<at::Tensor> t = weights.get(layer * kFields + index);
  if (given(t)) t = t->contiguous();  // the kernels index raw pointers
  return t;
}

// x~ = LN_ih(x W_ih^T) + b_ih (+ b_hh for an LSTM), as [1, N, G*H].
at::Tensor input_projection(const at::Tensor& x, const c10::optional<at::Tensor>& w_ih,
                            const c10::optional<at::Tensor>& b_ih,
                            const c10::optional<at::Tensor>& b_hh,
                            const c10::optional<at::Tensor>& ln_ih, bool add_b_hh) {
  at::Tensor projected;
  if (given(ln_ih)) {
    projected = x.mm(w_ih->t());
    const int64_t k = projected.size(1);
    projected = at::layer_norm(projected, {k}, *ln_ih, c10::nullopt, kEps);
    if (given(b_ih)) projected.add_(*b_ih);
  } else if (given(b_ih)) {
    projected = at::addmm(*b_ih, x, w_ih->t());
  } else {
    projected = x.mm(w_ih->t());
  }
  if (add_b_hh && given(b_hh)) projected.add_(*b_hh);
  return projected.unsqueeze(0);
}

}  // namespace

std::vector<at::Tensor> stack_step(
    const at::Tensor& x, const at::Tensor& h, const c10::optional<at::Tensor>& c,
    const c10::List<c10::optional<at::Tensor>>& weights, bool is_lstm, at::IntArrayRef config,
    double cell_clip, double proj_clip, double zoneout_h, double zoneout_c, bool reset_after) {
  const int64_t layers = h.size(0);
  TORCH_CHECK(static_cast<int64_t>(weights.size()) == layers * kFields,
              "lstmkit native: stack_step needs 11 weight fields per layer");
  const auto opts = x.options();
  c10::optional<at::Tensor> zo_h, zo_c;
  if (zoneout_h > 0) zo_h = at::scalar_tensor(zoneout_h, opts);
  if (zoneout_c > 0) zo_c = at::scalar_tensor(zoneout_c, opts);
  at::Tensor h_n = at::empty_like(h);
  at::Tensor c_n = is_lstm ? at::empty_like(*c) : at::Tensor();
  const c10::optional<at::Tensor> none;
  at::Tensor input = x;
  for (int64_t l = 0; l < layers; ++l) {
    auto w = [&](int64_t index) { return field(weights, l, index); };
    at::Tensor xproj = input_projection(input, w(0), w(2), w(3), w(7), is_lstm);
    std::vector<at::Tensor> out;
    if (is_lstm) {
      out = lstm_forward(xproj, h[l], (*c)[l], none, *w(1), w(4), w(5), w(6), w(8), w(9), w(10),
                         none, zo_h, zo_c, none, config, cell_clip, proj_clip, false, false);
      c_n[l].copy_(out[2]);
    } else {
      out = gru_forward(xproj, h[l], *w(1), w(3), w(8), none, zo_h, none, reset_after, false,
                        false);
    }
    h_n[l].copy_(out[1]);
    input = out[0][0];  // [N, P]
  }
  return {input, h_n, is_lstm ? c_n : at::empty({0}, opts)};
}

}  // namespace lstmkit
