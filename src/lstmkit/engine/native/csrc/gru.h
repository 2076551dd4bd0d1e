// The fused GRU layer, both forms of lstmkit.cells.gru, forward and backward (BPTT).
//
// The input projection x~ = LN_ih(W_ih x) + b_ih is computed outside; b_hh stays inside
// because the reset gate multiplies it (reset_after=True) or the n block is a product of
// its own (reset_after=False).
//
// Shapes (contiguous, one dtype): xproj [L, N, 3H] (blocks r z n), h0 [N, H],
// w_hh [3H, H], b_hh [3H], ln_hh [3H], rd_mask [N, H], zo_h [L, N, H] or a 0-d rate,
// lengths [N] int64.
#pragma once

#include <ATen/ATen.h>

#include <vector>

namespace lstmkit {

// Returns [y (L,N,H), h_n (N,H), saved...].
std::vector<at::Tensor> gru_forward(
    const at::Tensor& xproj, const at::Tensor& h0, const at::Tensor& w_hh,
    const c10::optional<at::Tensor>& b_hh, const c10::optional<at::Tensor>& ln_hh,
    const c10::optional<at::Tensor>& rd_mask, const c10::optional<at::Tensor>& zo_h,
    const c10::optional<at::Tensor>& lengths, bool reset_after, bool reverse, bool save);

// Returns [d_xproj, d_h0, d_w_hh, d_b_hh, d_ln_hh] (unused entries empty).
std::vector<at::Tensor> gru_backward(
    const c10::optional<at::Tensor>& grad_y, const c10::optional<at::Tensor>& grad_hn,
    at::TensorList saved, const at::Tensor& w_hh, const c10::optional<at::Tensor>& b_hh,
    const c10::optional<at::Tensor>& ln_hh, const c10::optional<at::Tensor>& rd_mask,
    const c10::optional<at::Tensor>& zo_h, const c10::optional<at::Tensor>& lengths,
    bool reset_after, bool reverse);

}  // namespace lstmkit
