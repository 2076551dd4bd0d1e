// The fused LSTM layer (see lstm.h for the contract and shapes).
#include "lstm.h"

#include "common.h"
#include "linear.h"

namespace lstmkit {
namespace {

constexpr int kLearned = 0;
constexpr int kNone = 1;
constexpr int kCoupled = 2;
constexpr double kEps = 1e-5;  // layer norm epsilon, as lstmkit.cells.functional

// Which blocks exist and where: the row-block index of each gate in the G*H pre-activation
// (-1 when absent) and its index among the learned sigmoid gates (rows of w_peep, blocks
// of q).
struct Layout {
  int input_gate, forget_gate;
  bool output_gate, input_act, output_act, peephole, fgr, projection, layer_norm;
  int64_t blk_i = -1, blk_f = -1, blk_g = -1, blk_o = -1, G = 0;
  int64_t sig_i = -1, sig_f = -1, sig_o = -1, S = 0;

  explicit Layout(at::IntArrayRef c) {
    TORCH_CHECK(c.size() == 9, "lstmkit native: LSTM config needs 9 entries");
    input_gate = static_cast<int>(c[0]);
    forget_gate = static_cast<int>(c[1]);
    output_gate = c[2] != 0;
    input_act = c[3] != 0;
    output_act = c[4] != 0;
    peephole = c[5] != 0;
    fgr = c[6] != 0;
    projection = c[7] != 0;
    layer_norm = c[8] != 0;
    if (input_gate == kLearned) { blk_i = G++; sig_i = S++; }
    if (forget_gate == kLearned) { blk_f = G++; sig_f = S++; }
    blk_g = G++;
    if (output_gate) { blk_o = G++; sig_o = S++; }
  }
};

template <typename T>
void forward_steps(const Layout& lay, const at::Tensor& xproj, at::Tensor& y,
                   at::Tensor& y_state, at::Tensor& c_state, at::Tensor& q_state,
                   const at::Tensor& w_hh, const c10::optional<at::Tensor>& w_hr,
                   const c10::optional<at::Tensor>& w_peep, const c10::optional<at::Tensor>& w_gr,
                   const c10::optional<at::Tensor>& ln_hh, const c10::optional<at::Tensor>& ln_c_w,
                   const c10::optional<at::Tensor>& ln_c_b,
                   const c10::optional<at::Tensor>& rd_mask, const c10::optional<at::Tensor>& zo_h,
                   const c10::optional<at::Tensor>& zo_c, const c10::optional<at::Tensor>& lengths,
                   T cell_clip, T proj_clip, bool reverse, bool save,
                   std::vector<at::Tensor>& saved) {
  const int64_t L = xproj.size(0), N = xproj.size(1), GH = xproj.size(2);
  const int64_t H = GH / lay.G, P = y_state.size(1), SH = lay.S * H;
  const auto opts = xproj.options();
  const bool need_u = lay.output_act || lay.layer_norm;
  const bool copy_hin = save || given(rd_mask);

  // Buffers: [L, ...] when kept for backward, one step slot otherwise.
  at::Tensor hin_all = copy_hin ? steps_buffer(save, L, N, P, opts) : at::Tensor();  // [L,N,P]
  at::Tensor act_all = steps_buffer(save, L, N, GH, opts);                           // [L,N,G*H]
  at::Tensor cprev_all = save ? at::empty({L, N, H}, opts) : at::Tensor();          // [L,N,H]
  at::Tensor cnew_all = steps_buffer(save, L, N, H, opts);                           // [L,N,H]
  at::Tensor u_all = need_u ? steps_buffer(save, L, N, H, opts) : at::Tensor();      // [L,N,H]
  at::Tensor lnc_stats = lay.layer_norm ? steps_buffer(save, L, N, 2, opts) : at::Tensor();
  at::Tensor rhat_all = lay.layer_norm ? steps_buffer(save, L, N, GH, opts) : at::Tensor();
  at::Tensor rstd_hh = lay.layer_norm ? steps_buffer(save, L, N, 1, opts) : at::Tensor();
  at::Tensor h_all = lay.projection ? steps_buffer(save, L, N, H, opts) : at::Tensor();
  const bool keep_yh = save && proj_clip > 0;
  at::Tensor yh_all = steps_buffer(keep_yh, L, N, P, opts);                          // [L,N,P]
  at::Tensor qprev_all = lay.fgr && save ? at::empty({L, N, SH}, opts) : at::Tensor();
  at::Tensor recur = lay.layer_norm ? at::empty({N, GH}, opts) : at::Tensor();       // [N,G*H]
  at::Tensor fgr_term = lay.fgr ? at::empty({N, SH}, opts) : at::Tensor();          // [N,S*H]

  const T* peep = ptr_or_null<T>(w_peep);
  const T* lnw_hh = ptr_or_null<T>(ln_hh);
  const T* lnw_c = ptr_or_null<T>(ln_c_w);
  const T* lnb_c = ptr_or_null<T>(ln_c_b);
  const T* rd = ptr_or_null<T>(rd_mask);
  const auto mz_h = MaskView<T>::from(zo_h);
  const auto mz_c = MaskView<T>::from(zo_c);
  const int64_t* len = given(lengths) ? lengths->data_ptr<int64_t>() : nullptr;
  const T eps = static_cast<T>(kEps);
  // Right-hand factors of the per-step products, transposed once per call.
  const bool one_step = L == 1;  // streaming: no transposed copies, BLAS reads W directly
  const at::Tensor w_hh_t = one_step ? at::Tensor() : transposed(w_hh);          // [P,G*H]
  const at::Tensor w_gr_t = lay.fgr ? transposed(*w_gr) : at::Tensor();         // [S*H,S*H]
  const at::Tensor w_hr_t =
      lay.projection && !one_step ? transposed(*w_hr) : at::Tensor();             // [H,P]

  for (int64_t s = 0; s < L; ++s) {
    const int64_t t = reverse ? L - 1 - s : s;
    T* ys = y_state.data_ptr<T>();
    T* cs = c_state.data_ptr<T>();
    T* hin = copy_hin ? step_ptr<T>(hin_all, t) : ys;  // [N,P]
    if (copy_hin) {
      T* hp = hin;
      for (int64_t k = 0; k < N * P; ++k) hp[k] = rd ? ys[k] * rd[k] : ys[k];
    }
    const T* cprev = cs;
    if (save) {
      T* cp = step_ptr<T>(cprev_all, t);
      std::copy(cs, cs + N * H, cp);
      cprev = cp;
    }
    const T* qprev = nullptr;
    if (lay.fgr) {
      qprev = q_state.data_ptr<T>();
      if (save) {
        T* qp = step_ptr<T>(qprev_all, t);
        std::copy(qprev, qprev + N * SH, qp);
        qprev = qp;
      }
      matmul<T>(N, SH, SH, qprev, SH, w_gr_t.data_ptr<T>(), SH, fgr_term.data_ptr<T>(), SH,
                false);
    }
    T* act = step_ptr<T>(act_all, t);  // [N,G*H]
    const T* xp = step_ptr<T>(xproj, t);
    if (lay.layer_norm) {
      if (one_step) {
        matmul_wt<T>(N, GH, P, hin, P, w_hh.data_ptr<T>(), P, recur.data_ptr<T>(), GH, false);
      } else {
        matmul<T>(N, GH, P, hin, P, w_hh_t.data_ptr<T>(), GH, recur.data_ptr<T>(), GH, false);
      }
    } else {
      std::copy(xp, xp + N * GH, act);
      if (one_step) {
        matmul_wt<T>(N, GH, P, hin, P, w_hh.data_ptr<T>(), P, act, GH, true);
      } else {
        matmul<T>(N, GH, P, hin, P, w_hh_t.data_ptr<T>(), GH, act, GH, true);
      }
    }
    T* cnew = step_ptr<T>(cnew_all, t);
    T* u_buf = need_u ? step_ptr<T>(u_all, t) : cnew;
    T* stats = lay.layer_norm ? step_ptr<T>(lnc_stats, t) : nullptr;
    T* rhat = lay.layer_norm ? step_ptr<T>(rhat_all, t) : nullptr;
    T* rstd_r = lay.layer_norm ? step_ptr<T>(rstd_hh, t) : nullptr;
    const T* rec = lay.layer_norm ? recur.data_ptr<T>() : nullptr;
    const T* fgr = lay.fgr ? fgr_term.data_ptr<T>() : nullptr;
    T* h_out = lay.projection ? step_ptr<T>(h_all, t) : step_ptr<T>(yh_all, t);

    // Phase 1: gates, cell, hidden output h (before the projection).
    for_rows(N, GH, [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n) {
        T* a = act + n * GH;
        if (lay.layer_norm) {
          const T* r = rec + n * GH;
          T* rh = rhat + n * GH;
          T mean, rstd;
          row_moments(r, GH, eps, mean, rstd);
          rstd_r[n] = rstd;
          const T* x = xp + n * GH;
#pragma omp simd
          for (int64_t k = 0; k < GH; ++k) {
            rh[k] = (r[k] - mean) * rstd;
            a[k] = x[k] + rh[k] * lnw_hh[k];
          }
        }
        const T* cp = cprev + n * H;
        auto sigmoid_gate = [&](int64_t blk, int64_t sig, const T* cell) {
          T* g = a + blk * H;
          if (fgr) {
            const T* e = fgr + n * SH + sig * H;
#pragma omp simd
            for (int64_t j = 0; j < H; ++j) g[j] += e[j];
          }
          if (peep) {
            const T* p = peep + sig * H;
#pragma omp simd
            for (int64_t j = 0; j < H; ++j) g[j] = sigmoid(g[j] + p[j] * cell[j]);
          } else {
#pragma omp simd
            for (int64_t j = 0; j < H; ++j) g[j] = sigmoid(g[j]);
          }
        };
        if (lay.blk_i >= 0) sigmoid_gate(lay.blk_i, lay.sig_i, cp);
        if (lay.blk_f >= 0) sigmoid_gate(lay.blk_f, lay.sig_f, cp);
        T* g = a + lay.blk_g * H;
        if (lay.input_act) {
#pragma omp simd
          for (int64_t j = 0; j < H; ++j) g[j] = std::tanh(g[j]);
        }
        const T* gi = lay.blk_i >= 0 ? a + lay.blk_i * H : nullptr;
        const T* gf = lay.blk_f >= 0 ? a + lay.blk_f * H : nullptr;
        T* c = cnew + n * H;
        const int ig = lay.input_gate, fg = lay.forget_gate;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
          const T f = fg == kLearned ? gf[j] : fg == kNone ? T(1) : T(1) - gi[j];
          const T i = ig == kLearned ? gi[j] : ig == kNone ? T(1) : T(1) - gf[j];
          T v = f * cp[j] + i * g[j];
          if (cell_clip > 0) v = std::min(std::max(v, -cell_clip), cell_clip);
          c[j] = v;
        }
        T* u = u_buf + n * H;
        if (lay.layer_norm) {
          T mean, rstd;
          row_moments(c, H, eps, mean, rstd);
          stats[2 * n] = mean;
          stats[2 * n + 1] = rstd;
          if (lay.output_act) {
#pragma omp simd
            for (int64_t j = 0; j < H; ++j)
              u[j] = std::tanh((c[j] - mean) * rstd * lnw_c[j] + lnb_c[j]);
          } else {
#pragma omp simd
            for (int64_t j = 0; j < H; ++j) u[j] = (c[j] - mean) * rstd * lnw_c[j] + lnb_c[j];
          }
        } else if (lay.output_act) {
#pragma omp simd
          for (int64_t j = 0; j < H; ++j) u[j] = std::tanh(c[j]);
        }
        T* h = h_out + n * H;
        if (lay.blk_o >= 0) {
          sigmoid_gate(lay.blk_o, lay.sig_o, c);
          const T* o = a + lay.blk_o * H;
#pragma omp simd
          for (int64_t j = 0; j < H; ++j) h[j] = o[j] * u[j];
        } else {
          std::copy(u, u + H, h);
        }
      }
    });

    T* yh = step_ptr<T>(yh_all, t);  // [N,P]
    if (lay.projection && one_step) {
      matmul_wt<T>(N, P, H, h_out, H, w_hr->data_ptr<T>(), H, yh, P, false);
    } else if (lay.projection) {
      matmul<T>(N, P, H, h_out, H, w_hr_t.data_ptr<T>(), P, yh, P, false);
    }
    T* yo = step_ptr<T>(y, t);
    T* qs = lay.fgr ? q_state.data_ptr<T>() : nullptr;

    // Phase 2: clip, zoneout, lengths; the new state and the step's output.
    for_rows(N, P + H, [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n) {
        const bool active = !len || t < len[n];
        T* yrow = yh + n * P;
        T* ysr = ys + n * P;
        T* yor = yo + n * P;
        const T* mh = mz_h.row(t, n, N, P);
        for (int64_t j = 0; j < P; ++j) {
          T v = yrow[j];
          if (proj_clip > 0) {
            v = std::min(std::max(v, -proj_clip), proj_clip);
            yrow[j] = v;
          }
          if (mz_h.present) {
            const T m = mh ? mh[j] : mz_h.rate;
            v = m * ysr[j] + (T(1) - m) * v;
          }
          if (active) {
            ysr[j] = v;
            yor[j] = v;
          } else {
            yor[j] = T(0);
          }
        }
        if (!active) continue;
        const T* c = cnew + n * H;
        T* csr = cs + n * H;
        const T* mc = mz_c.row(t, n, N, H);
        if (mz_c.present) {
          for (int64_t j = 0; j < H; ++j) {
            const T m = mc ? mc[j] : mz_c.rate;
            csr[j] = m * csr[j] + (T(1) - m) * c[j];
          }
        } else {
          std::copy(c, c + H, csr);
        }
        if (qs) {
          const T* a = act + n * GH;
          T* q = qs + n * SH;
          if (lay.blk_i >= 0) std::copy(a + lay.blk_i * H, a + lay.blk_i * H + H, q + lay.sig_i * H);
          if (lay.blk_f >= 0) std::copy(a + lay.blk_f * H, a + lay.blk_f * H + H, q + lay.sig_f * H);
          if (lay.blk_o >= 0) std::copy(a + lay.blk_o * H, a + lay.blk_o * H + H, q + lay.sig_o * H);
        }
      }
    });
  }
  if (save) {
    // Order is the contract with lstm_backward.
    saved = {hin_all, act_all, cprev_all, cnew_all, u_all, lnc_stats, rhat_all, rstd_hh,
             h_all, yh_all, qprev_all};
  }
}

template <typename T>
void backward_steps(const Layout& lay, const std::vector<at::Tensor>& sv,
                    const c10::optional<at::Tensor>& grad_y, at::Tensor& dy_carry,
                    at::Tensor& dc_carry, at::Tensor& dq_carry, at::Tensor& d_xproj,
                    at::Tensor& dR_all, at::Tensor& dyh_all, at::Tensor& dasig_all,
                    at::Tensor& ds_all, const at::Tensor& w_hh,
                    const c10::optional<at::Tensor>& w_hr, const c10::optional<at::Tensor>& w_peep,
                    const c10::optional<at::Tensor>& w_gr, const c10::optional<at::Tensor>& ln_hh,
                    const c10::optional<at::Tensor>& ln_c_w,
                    const c10::optional<at::Tensor>& rd_mask, const c10::optional<at::Tensor>& zo_h,
                    const c10::optional<at::Tensor>& zo_c, const c10::optional<at::Tensor>& lengths,
                    T cell_clip, T proj_clip, bool reverse) {
  const at::Tensor &hin_all = sv[0], &act_all = sv[1], &cprev_all = sv[2], &cnew_all = sv[3],
                   &u_all = sv[4], &lnc_stats = sv[5], &rhat_all = sv[6], &rstd_hh = sv[7],
                   &yh_all = sv[9];
  (void)hin_all;
  const int64_t L = d_xproj.size(0), N = d_xproj.size(1), GH = d_xproj.size(2);
  const int64_t H = GH / lay.G, P = dy_carry.size(1), SH = lay.S * H;
  const auto opts = d_xproj.options();
  const bool need_u = lay.output_act || lay.layer_norm;
  at::Tensor dh_buf = lay.projection ? at::empty({N, H}, opts) : at::Tensor();  // [N,H]
  at::Tensor ypass_buf = at::empty({N, P}, opts);                                // [N,P]
  at::Tensor dhin = at::empty({N, P}, opts);                                     // [N,P]
  at::Tensor shat_buf = lay.layer_norm ? at::empty({N, H}, opts) : at::Tensor(); // [N,H]
  at::Tensor dcl_buf = lay.layer_norm ? at::empty({N, H}, opts) : at::Tensor();  // [N,H]

  const T* peep = ptr_or_null<T>(w_peep);
  const T* lnw_hh = ptr_or_null<T>(ln_hh);
  const T* lnw_c = ptr_or_null<T>(ln_c_w);
  const T* rd = ptr_or_null<T>(rd_mask);
  const T* gy = ptr_or_null<T>(grad_y);
  const auto mz_h = MaskView<T>::from(zo_h);
  const auto mz_c = MaskView<T>::from(zo_c);
  const int64_t* len = given(lengths) ? lengths->data_ptr<int64_t>() : nullptr;
  T* dyc = dy_carry.data_ptr<T>();
  T* dcc = dc_carry.data_ptr<T>();
  T* dqc = lay.fgr ? dq_carry.data_ptr<T>() : nullptr;
  T* ypass = ypass_buf.data_ptr<T>();

  for (int64_t s = 0; s < L; ++s) {
    const int64_t t = reverse ? s : L - 1 - s;  // the forward order, backwards
    T* dyh = step_ptr<T>(dyh_all, t);  // [N,P]
    const T* yh = proj_clip > 0 ? step_ptr<T>(yh_all, t) : nullptr;

    // Phase A: gradient reaching y~(t) (the projected output before zoneout).
    for_rows(N, P, [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n) {
        const bool active = !len || t < len[n];
        const T* g_out = gy ? gy + (t * N + n) * P : nullptr;
        const T* mh = mz_h.row(t, n, N, P);
        T* d = dyh + n * P;
        T* yp = ypass + n * P;
        const T* carry = dyc + n * P;
        for (int64_t j = 0; j < P; ++j) {
          if (!active) {
            d[j] = T(0);
            yp[j] = carry[j];
            continue;
          }
          const T dY = carry[j] + (g_out ? g_out[j] : T(0));
          const T m = mz_h.present ? (mh ? mh[j] : mz_h.rate) : T(0);
          T v = (T(1) - m) * dY;
          yp[j] = m * dY;
          if (yh && std::abs(yh[n * P + j]) >= proj_clip) v = T(0);
          d[j] = v;
        }
      }
    });
    if (lay.projection) {
      matmul<T>(N, H, P, dyh, P, w_hr->data_ptr<T>(), H, dh_buf.data_ptr<T>(), H, false);
    }
    const T* dh_all = lay.projection ? dh_buf.data_ptr<T>() : dyh;

    const T* act = step_ptr<T>(act_all, t);
    const T* cprev = step_ptr<T>(cprev_all, t);
    const T* cnew = step_ptr<T>(cnew_all, t);
    const T* u_t = need_u ? step_ptr<T>(u_all, t) : cnew;
    const T* stats = lay.layer_norm ? step_ptr<T>(lnc_stats, t) : nullptr;
    const T* rhat = lay.layer_norm ? step_ptr<T>(rhat_all, t) : nullptr;
    const T* rstd_r = lay.layer_norm ? step_ptr<T>(rstd_hh, t) : nullptr;
    T* dx = step_ptr<T>(d_xproj, t);
    T* dR = lay.layer_norm ? step_ptr<T>(dR_all, t) : dx;
    T* dsig = lay.fgr ? step_ptr<T>(dasig_all, t) : nullptr;
    T* ds_t = step_ptr<T>(ds_all, t);
    T* shat_b = lay.layer_norm ? shat_buf.data_ptr<T>() : nullptr;
    T* dcl_b = lay.layer_norm ? dcl_buf.data_ptr<T>() : nullptr;

    // Phase B: through the cell to the gate pre-activations and to c(t-1), q(t-1).
    for_rows(N, GH, [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n) {
        const bool active = !len || t < len[n];
        T* da = dx + n * GH;
        T* dc_row = dcc + n * H;
        if (!active) {
          std::fill(da, da + GH, T(0));
          if (lay.layer_norm) std::fill(dR + n * GH, dR + n * GH + GH, T(0));
          if (dsig) std::fill(dsig + n * SH, dsig + n * SH + SH, T(0));
          std::fill(ds_t + n * H, ds_t + n * H + H, T(0));
          continue;  // c and q carries pass through unchanged
        }
        const T* a = act + n * GH;
        const T* cp = cprev + n * H;
        const T* cn = cnew + n * H;
        const T* u = u_t + n * H;
        const T* dh = dh_all + n * H;
        const T* dq = dqc ? dqc + n * SH : nullptr;
        T* ds = ds_t + n * H;
        // Output gate and the path through u = act(LN_c(c)).
        const T* o = lay.blk_o >= 0 ? a + lay.blk_o * H : nullptr;
        T* da_o = lay.blk_o >= 0 ? da + lay.blk_o * H : nullptr;
        const T* dq_o = dq && lay.sig_o >= 0 ? dq + lay.sig_o * H : nullptr;
        for (int64_t j = 0; j < H; ++j) {
          const T ov = o ? o[j] : T(1);
          const T du = dh[j] * ov;
          ds[j] = lay.output_act ? du * (T(1) - u[j] * u[j]) : du;
          if (o) {
            const T d_o = dh[j] * u[j] + (dq_o ? dq_o[j] : T(0));
            da_o[j] = d_o * ov * (T(1) - ov);
          }
        }
        const T* dc_from_u = ds;
        if (lay.layer_norm) {
          const T mean = stats[2 * n], rstd = stats[2 * n + 1];
          T* sh = shat_b + n * H;
          for (int64_t j = 0; j < H; ++j) sh[j] = (cn[j] - mean) * rstd;
          layer_norm_row_backward(ds, sh, lnw_c, rstd, H, dcl_b + n * H);
          dc_from_u = dcl_b + n * H;
        }
        const T* mc = mz_c.row(t, n, N, H);
        const T* gi = lay.blk_i >= 0 ? a + lay.blk_i * H : nullptr;
        const T* gf = lay.blk_f >= 0 ? a + lay.blk_f * H : nullptr;
        const T* gg = a + lay.blk_g * H;
        T* da_i = gi ? da + lay.blk_i * H : nullptr;
        T* da_f = gf ? da + lay.blk_f * H : nullptr;
        T* da_g = da + lay.blk_g * H;
        const T* p_i = peep && lay.sig_i >= 0 ? peep + lay.sig_i * H : nullptr;
        const T* p_f = peep && lay.sig_f >= 0 ? peep + lay.sig_f * H : nullptr;
        const T* p_o = peep && lay.sig_o >= 0 ? peep + lay.sig_o * H : nullptr;
        const T* dq_i = dq && lay.sig_i >= 0 ? dq + lay.sig_i * H : nullptr;
        const T* dq_f = dq && lay.sig_f >= 0 ? dq + lay.sig_f * H : nullptr;
        const int ig = lay.input_gate, fg = lay.forget_gate;
        for (int64_t j = 0; j < H; ++j) {
          const T dC = dc_row[j];
          const T m = mz_c.present ? (mc ? mc[j] : mz_c.rate) : T(0);
          T dc = (T(1) - m) * dC + dc_from_u[j];
          if (p_o) dc += da_o[j] * p_o[j];
          if (cell_clip > 0 && std::abs(cn[j]) >= cell_clip) dc = T(0);
          const T f = fg == kLearned ? gf[j] : fg == kNone ? T(1) : T(1) - gi[j];
          const T i = ig == kLearned ? gi[j] : ig == kNone ? T(1) : T(1) - gf[j];
          T di = dc * gg[j];
          T df = dc * cp[j];
          const T dg = dc * i;
          T dcp = dc * f + m * dC;
          if (dq_i) di += dq_i[j];
          if (dq_f) df += dq_f[j];
          if (ig == kCoupled) df -= di;
          if (fg == kCoupled) di -= df;
          if (gi) {
            const T ai = di * gi[j] * (T(1) - gi[j]);
            da_i[j] = ai;
            if (p_i) dcp += ai * p_i[j];
          }
          if (gf) {
            const T af = df * gf[j] * (T(1) - gf[j]);
            da_f[j] = af;
            if (p_f) dcp += af * p_f[j];
          }
          da_g[j] = lay.input_act ? dg * (T(1) - gg[j] * gg[j]) : dg;
          dc_row[j] = dcp;
        }
        if (dsig) {
          T* out = dsig + n * SH;
          if (gi) std::copy(da_i, da_i + H, out + lay.sig_i * H);
          if (gf) std::copy(da_f, da_f + H, out + lay.sig_f * H);
          if (o) std::copy(da_o, da_o + H, out + lay.sig_o * H);
          std::fill(dqc + n * SH, dqc + n * SH + SH, T(0));  // replaced by the GEMM below
        }
        if (lay.layer_norm) {
          layer_norm_row_backward(da, rhat + n * GH, lnw_hh, rstd_r[n], GH, dR + n * GH);
        }
      }
    });

    // Gradient to y(t-1) through W_hh (and to q(t-1) through the gate recurrence).
    matmul<T>(N, P, GH, dR, GH, w_hh.data_ptr<T>(), P, dhin.data_ptr<T>(), P, false);
    if (lay.fgr) matmul<T>(N, SH, SH, dsig, SH, w_gr->data_ptr<T>(), SH, dqc, SH, true);
    const T* dhp = dhin.data_ptr<T>();
    for_rows(N, P, [&](int64_t begin, int64_t end) {
      for (int64_t k = begin * P; k < end * P; ++k) {
        dyc[k] = (rd ? dhp[k] * rd[k] : dhp[k]) + ypass[k];
      }
    });
  }
}

}  // namespace

std::vector<at::Tensor> lstm_forward(
    const at::Tensor& xproj, const at::Tensor& h0, const at::Tensor& c0,
    const c10::optional<at::Tensor>& q0, const at::Tensor& w_hh,
    const c10::optional<at::Tensor>& w_hr, const c10::optional<at::Tensor>& w_peep,
    const c10::optional<at::Tensor>& w_gr, const c10::optional<at::Tensor>& ln_hh,
    const c10::optional<at::Tensor>& ln_c_w, const c10::optional<at::Tensor>& ln_c_b,
    const c10::optional<at::Tensor>& rd_mask, const c10::optional<at::Tensor>& zo_h,
    const c10::optional<at::Tensor>& zo_c, const c10::optional<at::Tensor>& lengths,
    at::IntArrayRef config, double cell_clip, double proj_clip, bool reverse, bool save) {
  const Layout lay(config);
  TORCH_CHECK(xproj.dim() == 3 && xproj.is_contiguous(), "lstmkit native: xproj [L,N,G*H]");
  const int64_t L = xproj.size(0), N = xproj.size(1), H = xproj.size(2) / lay.G;
  at::Tensor y = at::empty({L, N, h0.size(1)}, xproj.options());
  at::Tensor y_state = h0.clone();
  at::Tensor c_state = c0.clone();
  at::Tensor q_state = lay.fgr ? require(q0, "q0").clone() : at::empty({0}, xproj.options());
  std::vector<at::Tensor> saved;
  AT_DISPATCH_FLOATING_TYPES(xproj.scalar_type(), "lstmkit_lstm_forward", [&] {
    forward_steps<scalar_t>(lay, xproj, y, y_state, c_state, q_state, w_hh, w_hr, w_peep, w_gr,
                            ln_hh, ln_c_w, ln_c_b, rd_mask, zo_h, zo_c, lengths,
                            static_cast<scalar_t>(cell_clip), static_cast<scalar_t>(proj_clip),
                            reverse, save, saved);
  });
  (void)H;
  std::vector<at::Tensor> out = {y, y_state, c_state, q_state};
  for (auto& s : saved) out.push_back(s.defined() ? s : at::empty({0}, xproj.options()));
  return out;
}

std::vector<at::Tensor> lstm_backward(
    const c10::optional<at::Tensor>& grad_y, const c10::optional<at::Tensor>& grad_hn,
    const c10::optional<at::Tensor>& grad_cn, const c10::optional<at::Tensor>& grad_qn,
    at::TensorList saved, const at::Tensor& w_hh, const c10::optional<at::Tensor>& w_hr,
    const c10::optional<at::Tensor>& w_peep, const c10::optional<at::Tensor>& w_gr,
    const c10::optional<at::Tensor>& ln_hh, const c10::optional<at::Tensor>& ln_c_w,
    const c10::optional<at::Tensor>& rd_mask, const c10::optional<at::Tensor>& zo_h,
    const c10::optional<at::Tensor>& zo_c, const c10::optional<at::Tensor>& lengths,
    at::IntArrayRef config, double cell_clip, double proj_clip, bool reverse) {
  const Layout lay(config);
  TORCH_CHECK(saved.size() == 11, "lstmkit native: lstm_backward needs the 11 saved tensors");
  const std::vector<at::Tensor> sv(saved.begin(), saved.end());
  const at::Tensor &hin_all = sv[0], &act_all = sv[1], &cprev_all = sv[2], &cnew_all = sv[3],
                   &lnc_stats = sv[5], &rhat_all = sv[6], &h_all = sv[8], &qprev_all = sv[10];
  const auto opts = act_all.options();
  const int64_t L = act_all.size(0), N = act_all.size(1), GH = act_all.size(2);
  const int64_t H = GH / lay.G, P = hin_all.size(2), SH = lay.S * H;

  at::Tensor dy_carry = given(grad_hn) ? grad_hn->clone() : at::zeros({N, P}, opts);
  at::Tensor dc_carry = given(grad_cn) ? grad_cn->clone() : at::zeros({N, H}, opts);
  at::Tensor dq_carry = lay.fgr ? (given(grad_qn) ? grad_qn->clone() : at::zeros({N, SH}, opts))
                                : at::empty({0}, opts);
  at::Tensor d_xproj = at::empty({L, N, GH}, opts);
  at::Tensor dR_all = lay.layer_norm ? at::empty({L, N, GH}, opts) : d_xproj;
  at::Tensor dyh_all = at::empty({lay.projection ? L : 1, N, P}, opts);
  at::Tensor dasig_all = lay.fgr ? at::empty({L, N, SH}, opts) : at::Tensor();
  at::Tensor ds_all = at::empty({lay.layer_norm ? L : 1, N, H}, opts);
  c10::optional<at::Tensor> gy;
  if (given(grad_y)) gy = grad_y->contiguous();

  AT_DISPATCH_FLOATING_TYPES(opts.dtype().toScalarType(), "lstmkit_lstm_backward", [&] {
    backward_steps<scalar_t>(lay, sv, gy, dy_carry, dc_carry, dq_carry, d_xproj, dR_all,
                             dyh_all, dasig_all, ds_all, w_hh, w_hr, w_peep, w_gr, ln_hh, ln_c_w,
                             rd_mask, zo_h, zo_c, lengths, static_cast<scalar_t>(cell_clip),
                             static_cast<scalar_t>(proj_clip), reverse);
  });

  // Weight gradients: one GEMM (or one reduction) each over all L*N rows.
  const at::Tensor empty = at::empty({0}, opts);
  at::Tensor d_w_hh = weight_gradient(dR_all.reshape({L * N, GH}), hin_all.reshape({L * N, P}));
  at::Tensor d_w_hr = lay.projection ? weight_gradient(dyh_all.reshape({L * N, P}),
                                                       h_all.reshape({L * N, H}))
                                     : empty;
  at::Tensor d_peep = empty;
  if (lay.peephole) {
    std::vector<at::Tensor> rows(lay.S);
    auto block = [&](int64_t blk) { return d_xproj.narrow(2, blk * H, H); };
    if (lay.sig_i >= 0) rows[lay.sig_i] = (block(lay.blk_i) * cprev_all).sum({0, 1});
    if (lay.sig_f >= 0) rows[lay.sig_f] = (block(lay.blk_f) * cprev_all).sum({0, 1});
    if (lay.sig_o >= 0) rows[lay.sig_o] = (block(lay.blk_o) * cnew_all).sum({0, 1});
    d_peep = at::stack(rows);
  }
  at::Tensor d_w_gr = lay.fgr ? weight_gradient(dasig_all.reshape({L * N, SH}),
                                                qprev_all.reshape({L * N, SH}))
                              : empty;
  at::Tensor d_ln_hh = empty, d_ln_c_w = empty, d_ln_c_b = empty;
  if (lay.layer_norm) {
    d_ln_hh = (d_xproj * rhat_all).sum({0, 1});
    const at::Tensor mean = lnc_stats.narrow(2, 0, 1), rstd = lnc_stats.narrow(2, 1, 1);
    d_ln_c_w = (ds_all * ((cnew_all - mean) * rstd)).sum({0, 1});
    d_ln_c_b = ds_all.sum({0, 1});
  }
  return {d_xproj, dy_carry, dc_carry, dq_carry, d_w_hh, d_w_hr,
          d_peep,  d_w_gr,   d_ln_hh,  d_ln_c_w, d_ln_c_b};
}

}  // namespace lstmkit
