// The fused LSTM layer: every variant of lstmkit.cells.lstm, forward and backward (BPTT).
//
// The input projection x~ = LN_ih(W_ih x) + b_ih + b_hh is computed outside (one GEMM for
// all steps, differentiated by autograd); this kernel runs the recurrence. Per step it
// does one GEMM for W_hh y(t-1) (written straight into the gate buffer, on top of x~(t),
// when there is no layer norm), an optional GEMM for full gate recurrence and one for
// the projection, and fused row-wise element passes. The backward pass does per step
// only the GEMMs that carry gradient to step t-1; the weight gradients are one GEMM each
// over all steps after the loop.
//
// Shapes (all tensors contiguous, one dtype):
//   xproj   [L, N, G*H]   gate pre-activations from the input, blocks in gate order (i f g o,
//                          minus the gates the variant removes)
//   h0      [N, P]        c0 [N, H]        q0 [N, S*H] (FGR: previous sigmoid gates i f o)
//   w_hh    [G*H, P]      w_hr [P, H]      w_peep [S, H]   w_gr [S*H, S*H]
//   ln_hh   [G*H]         ln_c_w, ln_c_b [H]
//   rd_mask [N, P]        zo_h [L, N, P] or 0-d rate     zo_c [L, N, H] or 0-d rate
//   lengths [N] int64 (steps t >= lengths[n] leave row n's state as it is and output 0)
#pragma once

#include <ATen/ATen.h>

#include <vector>

namespace lstmkit {

// config: [input_gate, forget_gate, output_gate, input_activation, output_activation,
//          peephole, gate_recurrence, projection, layer_norm]; gate modes 0 learned,
//          1 none (constant 1), 2 coupled (1 - the other gate).
// Returns [y (L,N,P), h_n (N,P), c_n (N,H), q_n (N,S*H) or empty, saved...].
std::vector<at::Tensor> lstm_forward(
    const at::Tensor& xproj, const at::Tensor& h0, const at::Tensor& c0,
    const c10::optional<at::Tensor>& q0, const at::Tensor& w_hh,
    const c10::optional<at::Tensor>& w_hr, const c10::optional<at::Tensor>& w_peep,
    const c10::optional<at::Tensor>& w_gr, const c10::optional<at::Tensor>& ln_hh,
    const c10::optional<at::Tensor>& ln_c_w, const c10::optional<at::Tensor>& ln_c_b,
    const c10::optional<at::Tensor>& rd_mask, const c10::optional<at::Tensor>& zo_h,
    const c10::optional<at::Tensor>& zo_c, const c10::optional<at::Tensor>& lengths,
    at::IntArrayRef config, double cell_clip, double proj_clip, bool reverse, bool save);

// Gradients [d_xproj, d_h0, d_c0, d_q0, d_w_hh, d_w_hr, d_peep, d_w_gr, d_ln_hh,
// d_ln_c_w, d_ln_c_b]; entries the configuration does not use are empty tensors.
std::vector<at::Tensor> lstm_backward(
    const c10::optional<at::Tensor>& grad_y, const c10::optional<at::Tensor>& grad_hn,
    const c10::optional<at::Tensor>& grad_cn, const c10::optional<at::Tensor>& grad_qn,
    at::TensorList saved, const at::Tensor& w_hh, const c10::optional<at::Tensor>& w_hr,
    const c10::optional<at::Tensor>& w_peep, const c10::optional<at::Tensor>& w_gr,
    const c10::optional<at::Tensor>& ln_hh, const c10::optional<at::Tensor>& ln_c_w,
    const c10::optional<at::Tensor>& rd_mask, const c10::optional<at::Tensor>& zo_h,
    const c10::optional<at::Tensor>& zo_c, const c10::optional<at::Tensor>& lengths,
    at::IntArrayRef config, double cell_clip, double proj_clip, bool reverse);

}  // namespace lstmkit
