// Streaming inference: one time step through a whole unidirectional stack in one call.
//
//   x [N, H_in]; h [layers, N, P]; c [layers, N, H] (LSTM); weights: per layer the 11
//   fields of lstmkit.cells.LayerParams in order (absent ones None). Zoneout rates are
//   the eval-time expectations (0 for none). No autograd: the caller runs this only when
//   no gradient is needed. Returns [y (N, P), h_n (layers, N, P), c_n (layers, N, H)].
#pragma once

#include <ATen/ATen.h>

#include <vector>

namespace lstmkit {

std::vector<at::Tensor> stack_step(
    const at::Tensor& x, const at::Tensor& h, const c10::optional<at::Tensor>& c,
    const c10::List<c10::optional<at::Tensor>>& weights, bool is_lstm, at::IntArrayRef config,
    double cell_clip, double proj_clip, double zoneout_h, double zoneout_c, bool reset_after);

}  // namespace lstmkit
