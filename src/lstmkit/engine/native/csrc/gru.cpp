// The fused GRU layer (see gru.h for the contract and shapes).
//
// reset_after=True:  a = LN(W_hh h~) + b_hh;  r = s(x_r + a_r), z = s(x_z + a_z),
//                    n = tanh(x_n + r * a_n)
// reset_after=False: a_rz = LN_rz(W_rz h~) + b_rz;  r, z as above;
//                    n = tanh(x_n + LN_n(W_n (r * h~)) + b_n)
// then h = (1 - z) n + z h(t-1), zoneout, lengths. h~ = rd_mask * h(t-1).
#include "gru.h"

#include "common.h"
#include "linear.h"

namespace lstmkit {
namespace {

constexpr double kEps = 1e-5;

// a = LN(r) * w + b over k values (w, b may be null; no LN when rhat is null).
template <typename T>
inline void affine_row(const T* r, const T* w, const T* b, int64_t k, T eps, T* rhat,
                       T* rstd_out, T* a) {
  if (rhat) {
    T mean, rstd;
    row_moments(r, k, eps, mean, rstd);
    *rstd_out = rstd;
    for (int64_t j = 0; j < k; ++j) {
      rhat[j] = (r[j] - mean) * rstd;
      a[j] = rhat[j] * w[j] + (b ? b[j] : T(0));
    }
  } else {
    for (int64_t j = 0; j < k; ++j) a[j] = r[j] + (b ? b[j] : T(0));
  }
}

template <typename T>
void forward_steps(const at::Tensor& xproj, at::Tensor& y, at::Tensor& h_state,
                   const at::Tensor& w_hh, const c10::optional<at::Tensor>& b_hh,
                   const c10::optional<at::Tensor>& ln_hh,
                   const c10::optional<at::Tensor>& rd_mask, const c10::optional<at::Tensor>& zo_h,
                   const c10::optional<at::Tensor>& lengths, bool reset_after, bool reverse,
                   bool save, std::vector<at::Tensor>& saved) {
  const int64_t L = xproj.size(0), N = xproj.size(1), H = h_state.size(1), H3 = 3 * H;
  const auto opts = xproj.options();
  const bool ln = given(ln_hh);
  const bool masked = given(rd_mask);
  at::Tensor hin_all = steps_buffer(save, L, N, H, opts);                       // [L,N,H]
  at::Tensor hprev_all = save && masked ? at::empty({L, N, H}, opts) : at::Tensor();
  at::Tensor act_all = steps_buffer(save, L, N, H3, opts);                      // [L,N,3H] r z n
  at::Tensor an_all = reset_after ? steps_buffer(save, L, N, H, opts) : at::Tensor();
  at::Tensor rhat_all = ln ? steps_buffer(save, L, N, H3, opts) : at::Tensor();
  at::Tensor rstd_all = ln ? steps_buffer(save, L, N, 2, opts) : at::Tensor();
  at::Tensor rh_all = reset_after ? at::Tensor() : steps_buffer(save, L, N, H, opts);
  at::Tensor recur = at::empty({N, reset_after ? H3 : 2 * H}, opts);
  at::Tensor recur_n = reset_after ? at::Tensor() : at::empty({N, H}, opts);

  const T* b = ptr_or_null<T>(b_hh);
  const T* w_ln = ptr_or_null<T>(ln_hh);
  const T* rd = ptr_or_null<T>(rd_mask);
  const auto mz = MaskView<T>::from(zo_h);
  const int64_t* len = given(lengths) ? lengths->data_ptr<int64_t>() : nullptr;
  const T eps = static_cast<T>(kEps);
  const bool one_step = L == 1;  // streaming: BLAS reads W directly, no transposed copy
  const at::Tensor w_t = one_step ? at::Tensor() : transposed(w_hh);  // [H,3H], once per call

  for (int64_t s = 0; s < L; ++s) {
    const int64_t t = reverse ? L - 1 - s : s;
    T* hs = h_state.data_ptr<T>();
    T* hin = step_ptr<T>(hin_all, t);
    for (int64_t k = 0; k < N * H; ++k) hin[k] = rd ? hs[k] * rd[k] : hs[k];
    if (save && masked) std::copy(hs, hs + N * H, step_ptr<T>(hprev_all, t));
    const int64_t rec_cols = reset_after ? H3 : 2 * H;
    if (one_step) {
      matmul_wt<T>(N, rec_cols, H, hin, H, w_hh.data_ptr<T>(), H, recur.data_ptr<T>(), rec_cols,
                   false);
    } else {
      matmul<T>(N, rec_cols, H, hin, H, w_t.data_ptr<T>(), H3, recur.data_ptr<T>(), rec_cols,
                false);
    }
    const T* xp = step_ptr<T>(xproj, t);
    T* act = step_ptr<T>(act_all, t);
    T* an = reset_after ? step_ptr<T>(an_all, t) : nullptr;
    T* rhat = ln ? step_ptr<T>(rhat_all, t) : nullptr;
    T* rstd = ln ? step_ptr<T>(rstd_all, t) : nullptr;
    T* rh = reset_after ? nullptr : step_ptr<T>(rh_all, t);
    const T* rec = recur.data_ptr<T>();

    // Phase 1: r, z (and, after reset, n); before reset the product r * h~ for W_n.
    for_rows(N, H3, [&](int64_t begin, int64_t end) {
      std::vector<T> a(rec_cols);
      for (int64_t n = begin; n < end; ++n) {
        affine_row(rec + n * rec_cols, w_ln, b, rec_cols, eps, rhat ? rhat + n * H3 : nullptr,
                   rstd ? rstd + 2 * n : nullptr, a.data());
        const T* x = xp + n * H3;
        T* g = act + n * H3;
        for (int64_t j = 0; j < 2 * H; ++j) g[j] = sigmoid(x[j] + a[j]);
        if (reset_after) {
          const T* r = g;
          T* anr = an + n * H;
          for (int64_t j = 0; j < H; ++j) {
            anr[j] = a[2 * H + j];
            g[2 * H + j] = std::tanh(x[2 * H + j] + r[j] * anr[j]);
          }
        } else {
          for (int64_t j = 0; j < H; ++j) rh[n * H + j] = g[j] * hin[n * H + j];
        }
      }
    });
    if (!reset_after) {
      if (one_step) {
        matmul_wt<T>(N, H, H, rh, H, w_hh.data_ptr<T>() + 2 * H * H, H, recur_n.data_ptr<T>(), H,
                     false);
      } else {
        matmul<T>(N, H, H, rh, H, w_t.data_ptr<T>() + 2 * H, H3, recur_n.data_ptr<T>(), H, false);
      }
      const T* rn = recur_n.data_ptr<T>();
      for_rows(N, H, [&](int64_t begin, int64_t end) {
        std::vector<T> a(H);
        for (int64_t n = begin; n < end; ++n) {
          affine_row(rn + n * H, w_ln ? w_ln + 2 * H : nullptr, b ? b + 2 * H : nullptr, H, eps,
                     rhat ? rhat + n * H3 + 2 * H : nullptr, rstd ? rstd + 2 * n + 1 : nullptr,
                     a.data());
          const T* x = xp + n * H3 + 2 * H;
          T* g = act + n * H3 + 2 * H;
          for (int64_t j = 0; j < H; ++j) g[j] = std::tanh(x[j] + a[j]);
        }
      });
    }
    // Phase 2: the new state, zoneout, lengths, output.
    T* yo = step_ptr<T>(y, t);
    for_rows(N, H, [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n) {
        const bool active = !len || t < len[n];
        const T* g = act + n * H3;
        T* hr = hs + n * H;
        T* yr = yo + n * H;
        const T* m = mz.row(t, n, N, H);
        for (int64_t j = 0; j < H; ++j) {
          const T z = g[H + j];
          T v = (T(1) - z) * g[2 * H + j] + z * hr[j];
          if (mz.present) {
            const T keep = m ? m[j] : mz.rate;
            v = keep * hr[j] + (T(1) - keep) * v;
          }
          if (active) {
            hr[j] = v;
            yr[j] = v;
          } else {
            yr[j] = T(0);
          }
        }
      }
    });
  }
  if (save) saved = {hin_all, hprev_all, act_all, an_all, rhat_all, rstd_all, rh_all};
}

template <typename T>
void backward_steps(const std::vector<at::Tensor>& sv, const c10::optional<at::Tensor>& grad_y,
                    at::Tensor& dh_carry, at::Tensor& d_xproj, at::Tensor& dA_all,
                    at::Tensor& dR_all, const at::Tensor& w_hh,
                    const c10::optional<at::Tensor>& ln_hh,
                    const c10::optional<at::Tensor>& rd_mask, const c10::optional<at::Tensor>& zo_h,
                    const c10::optional<at::Tensor>& lengths, bool reset_after, bool reverse) {
  const at::Tensor &hin_all = sv[0], &hprev_all = sv[1], &act_all = sv[2], &an_all = sv[3],
                   &rhat_all = sv[4], &rstd_all = sv[5];
  const int64_t L = d_xproj.size(0), N = d_xproj.size(1), H = dh_carry.size(1), H3 = 3 * H;
  const auto opts = d_xproj.options();
  const bool ln = given(ln_hh);
  const bool masked = given(rd_mask);
  at::Tensor pass_buf = at::empty({N, H}, opts);   // [N,H] gradient to h(t-1) not via W_hh
  at::Tensor dhin = at::empty({N, H}, opts);       // [N,H]
  at::Tensor drh = reset_after ? at::Tensor() : at::empty({N, H}, opts);

  const T* w_ln = ptr_or_null<T>(ln_hh);
  const T* rd = ptr_or_null<T>(rd_mask);
  const T* gy = ptr_or_null<T>(grad_y);
  const auto mz = MaskView<T>::from(zo_h);
  const int64_t* len = given(lengths) ? lengths->data_ptr<int64_t>() : nullptr;
  T* dhc = dh_carry.data_ptr<T>();
  T* pass = pass_buf.data_ptr<T>();

  for (int64_t s = 0; s < L; ++s) {
    const int64_t t = reverse ? s : L - 1 - s;
    const T* g_all = step_ptr<T>(act_all, t);
    const T* hin = step_ptr<T>(hin_all, t);
    const T* hprev = masked ? step_ptr<T>(hprev_all, t) : hin;
    const T* an = reset_after ? step_ptr<T>(an_all, t) : nullptr;
    const T* rhat = ln ? step_ptr<T>(rhat_all, t) : nullptr;
    const T* rstd = ln ? step_ptr<T>(rstd_all, t) : nullptr;
    T* dx = step_ptr<T>(d_xproj, t);
    T* dA = step_ptr<T>(dA_all, t);
    T* dR = step_ptr<T>(dR_all, t);

    // Phase 1: through h = (1-z) n + z h(t-1) and n; for reset_after also through r.
    for_rows(N, H3, [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n) {
        const bool active = !len || t < len[n];
        const T* carry = dhc + n * H;
        T* p = pass + n * H;
        T* dxr = dx + n * H3;
        if (!active) {
          std::copy(carry, carry + H, p);
          std::fill(dxr, dxr + H3, T(0));
          std::fill(dA + n * H3, dA + n * H3 + H3, T(0));
          if (ln || dR != dA) std::fill(dR + n * H3, dR + n * H3 + H3, T(0));
          continue;
        }
        const T* g = g_all + n * H3;
        const T* hp = hprev + n * H;
        const T* go = gy ? gy + (t * N + n) * H : nullptr;
        const T* m = mz.row(t, n, N, H);
        T* dAr = dA + n * H3;
        for (int64_t j = 0; j < H; ++j) {
          const T dY = carry[j] + (go ? go[j] : T(0));
          const T keep = mz.present ? (m ? m[j] : mz.rate) : T(0);
          const T dh = (T(1) - keep) * dY;
          const T r = g[j], z = g[H + j], nn = g[2 * H + j];
          p[j] = keep * dY + dh * z;
          const T dz = dh * (hp[j] - nn);
          const T dn_pre = dh * (T(1) - z) * (T(1) - nn * nn);
          dxr[H + j] = dz * z * (T(1) - z);
          dxr[2 * H + j] = dn_pre;
          dAr[H + j] = dxr[H + j];
          if (reset_after) {
            const T dr = dn_pre * an[n * H + j];
            dxr[j] = dr * r * (T(1) - r);
            dAr[j] = dxr[j];
            dAr[2 * H + j] = dn_pre * r;
          } else {
            dAr[2 * H + j] = dn_pre;  // dA aliases dx here; kept for clarity
          }
        }
        if (ln) {
          if (reset_after) {
            layer_norm_row_backward(dAr, rhat + n * H3, w_ln, rstd[2 * n], H3, dR + n * H3);
          } else {
            layer_norm_row_backward(dAr + 2 * H, rhat + n * H3 + 2 * H, w_ln + 2 * H,
                                    rstd[2 * n + 1], H, dR + n * H3 + 2 * H);
          }
        }
      }
    });
    const T* w = w_hh.data_ptr<T>();
    if (reset_after) {
      matmul<T>(N, H, H3, dR, H3, w, H, dhin.data_ptr<T>(), H, false);
    } else {
      // d(r h~) = dR_n W_n, then r and h~ share it.
      matmul<T>(N, H, H, dR + 2 * H, H3, w + 2 * H * H, H, drh.data_ptr<T>(), H, false);
      const T* d_rh = drh.data_ptr<T>();
      for_rows(N, H3, [&](int64_t begin, int64_t end) {
        for (int64_t n = begin; n < end; ++n) {
          if (len && t >= len[n]) continue;
          const T* g = g_all + n * H3;
          T* dxr = dx + n * H3;
          T* dAr = dA + n * H3;
          for (int64_t j = 0; j < H; ++j) {
            const T r = g[j];
            const T dr = d_rh[n * H + j] * hin[n * H + j];
            dxr[j] = dr * r * (T(1) - r);
            if (dAr != dxr) dAr[j] = dxr[j];
          }
          if (ln) {
            layer_norm_row_backward(dAr, rhat + n * H3, w_ln, rstd[2 * n], 2 * H, dR + n * H3);
          }
        }
      });
      matmul<T>(N, H, 2 * H, dR, H3, w, H, dhin.data_ptr<T>(), H, false);
      // h~ also feeds r * h~ directly.
      const T* dhp = dhin.data_ptr<T>();
      T* dh_mut = const_cast<T*>(dhp);
      for (int64_t k = 0; k < N * H; ++k) dh_mut[k] += d_rh[k] * g_all[(k / H) * H3 + k % H];
    }
    const T* dhp = dhin.data_ptr<T>();
    for_rows(N, H, [&](int64_t begin, int64_t end) {
      for (int64_t k = begin * H; k < end * H; ++k) {
        dhc[k] = (rd ? dhp[k] * rd[k] : dhp[k]) + pass[k];
      }
    });
  }
}

}  // namespace

std::vector<at::Tensor> gru_forward(
    const at::Tensor& xproj, const at::Tensor& h0, const at::Tensor& w_hh,
    const c10::optional<at::Tensor>& b_hh, const c10::optional<at::Tensor>& ln_hh,
    const c10::optional<at::Tensor>& rd_mask, const c10::optional<at::Tensor>& zo_h,
    const c10::optional<at::Tensor>& lengths, bool reset_after, bool reverse, bool save) {
  TORCH_CHECK(xproj.dim() == 3 && xproj.is_contiguous(), "lstmkit native: xproj [L,N,3H]");
  at::Tensor y = at::empty({xproj.size(0), xproj.size(1), h0.size(1)}, xproj.options());
  at::Tensor h_state = h0.clone();
  std::vector<at::Tensor> saved;
  AT_DISPATCH_FLOATING_TYPES(xproj.scalar_type(), "lstmkit_gru_forward", [&] {
    forward_steps<scalar_t>(xproj, y, h_state, w_hh, b_hh, ln_hh, rd_mask, zo_h, lengths,
                            reset_after, reverse, save, saved);
  });
  std::vector<at::Tensor> out = {y, h_state};
  for (auto& s : saved) out.push_back(s.defined() ? s : at::empty({0}, xproj.options()));
  return out;
}

std::vector<at::Tensor> gru_backward(
    const c10::optional<at::Tensor>& grad_y, const c10::optional<at::Tensor>& grad_hn,
    at::TensorList saved, const at::Tensor& w_hh, const c10::optional<at::Tensor>& b_hh,
    const c10::optional<at::Tensor>& ln_hh, const c10::optional<at::Tensor>& rd_mask,
    const c10::optional<at::Tensor>& zo_h, const c10::optional<at::Tensor>& lengths,
    bool reset_after, bool reverse) {
  TORCH_CHECK(saved.size() == 7, "lstmkit native: gru_backward needs the 7 saved tensors");
  const std::vector<at::Tensor> sv(saved.begin(), saved.end());
  const at::Tensor &hin_all = sv[0], &act_all = sv[2], &rhat_all = sv[4], &rh_all = sv[6];
  const auto opts = act_all.options();
  const int64_t L = act_all.size(0), N = act_all.size(1), H3 = act_all.size(2), H = H3 / 3;
  const bool ln = given(ln_hh);
  at::Tensor dh_carry = given(grad_hn) ? grad_hn->clone() : at::zeros({N, H}, opts);
  at::Tensor d_xproj = at::empty({L, N, H3}, opts);
  // dA: gradient of LN(W_hh h~) + b_hh; it differs from d_xproj only in the n block of
  // reset_after=True. dR: gradient of W_hh h~ (differs from dA only with layer norm).
  at::Tensor dA_all = reset_after ? at::empty({L, N, H3}, opts) : d_xproj;
  at::Tensor dR_all = ln ? at::empty({L, N, H3}, opts) : dA_all;
  c10::optional<at::Tensor> gy;
  if (given(grad_y)) gy = grad_y->contiguous();
  AT_DISPATCH_FLOATING_TYPES(opts.dtype().toScalarType(), "lstmkit_gru_backward", [&] {
    backward_steps<scalar_t>(sv, gy, dh_carry, d_xproj, dA_all, dR_all, w_hh, ln_hh, rd_mask,
                             zo_h, lengths, reset_after, reverse);
  });
  const at::Tensor empty = at::empty({0}, opts);
  const at::Tensor dR2 = dR_all.reshape({L * N, H3});
  at::Tensor d_w_hh;
  if (reset_after) {
    d_w_hh = weight_gradient(dR2, hin_all.reshape({L * N, H}));
  } else {
    d_w_hh = at::cat({weight_gradient(dR2.narrow(1, 0, 2 * H), hin_all.reshape({L * N, H})),
                      weight_gradient(dR2.narrow(1, 2 * H, H), rh_all.reshape({L * N, H}))});
  }
  at::Tensor d_b_hh = given(b_hh) ? dA_all.sum({0, 1}) : empty;
  at::Tensor d_ln = ln ? (dA_all * rhat_all).sum({0, 1}) : empty;
  return {d_xproj, dh_carry, d_w_hh, d_b_hh, d_ln};
}

}  // namespace lstmkit
