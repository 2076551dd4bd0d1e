// Shared helpers of lstmkit's native kernels: element-wise activations written as
// plain loops the compiler vectorises (libmvec provides SIMD tanh/exp), row-parallel
// loops, and small GEMM wrappers over ATen.
//
// Shape symbols: L length, N batch, H cell size, P recurrent (output) size,
// G gate row blocks, S learned sigmoid gates.
#pragma once

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/native/CPUBlas.h>

#include <cmath>
#include <cstdint>
#include <type_traits>

namespace lstmkit {

// sigma(x) = (1 + tanh(x / 2)) / 2: one tanh, never overflows, vectorises.
template <typename T>
inline T sigmoid(T x) {
  return T(0.5) * std::tanh(T(0.5) * x) + T(0.5);
}

// Runs fn(begin, end) over rows [0, rows), in parallel when a row range is big enough
// to pay for the threads. `row_cost` is the number of elements one row touches.
template <typename Fn>
inline void for_rows(int64_t rows, int64_t row_cost, const Fn& fn) {
  const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(1, row_cost));
  if (rows <= grain) {
    fn(0, rows);
  } else {
    at::parallel_for(0, rows, grain, fn);
  }
}

// Layer norm statistics of one row: mean and 1/sqrt(var + eps) (biased variance).
template <typename T>
inline void row_moments(const T* x, int64_t k, T eps, T& mean, T& rstd) {
  T sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < k; ++j) sum += x[j];
  mean = sum / T(k);
  T sq = 0;
#pragma omp simd reduction(+ : sq)
  for (int64_t j = 0; j < k; ++j) {
    const T d = x[j] - mean;
    sq += d * d;
  }
  rstd = T(1) / std::sqrt(sq / T(k) + eps);
}

// Backward of xhat = (x - mean) * rstd, y = xhat * w for one row of k values, given
// dy (k), xhat (k), w (k or nullptr for w = 1): writes dx (k), which may alias dy.
//   dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)),  dxhat = dy * w
template <typename T>
inline void layer_norm_row_backward(const T* dy, const T* xhat, const T* w, T rstd,
                                    int64_t k, T* dx) {
  T sum_d = 0, sum_dx = 0;
#pragma omp simd reduction(+ : sum_d, sum_dx)
  for (int64_t j = 0; j < k; ++j) {
    const T d = w ? dy[j] * w[j] : dy[j];
    sum_d += d;
    sum_dx += d * xhat[j];
  }
  const T mean_d = sum_d / T(k), mean_dx = sum_dx / T(k);
#pragma omp simd
  for (int64_t j = 0; j < k; ++j) {
    const T d = w ? dy[j] * w[j] : dy[j];
    dx[j] = rstd * (d - mean_d - xhat[j] * mean_dx);
  }
}

}  // namespace lstmkit

// The Fortran BLAS that PyTorch links (MKL in the x86 wheels exports these). Declared
// weak: where the symbols are absent the GEMMs below fall back to ATen.
extern "C" {
void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
            const float* beta, float* c, const int* ldc) __attribute__((weak));
void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const double* alpha, const double* a, const int* lda, const double* b,
            const int* ldb, const double* beta, double* c, const int* ldc) __attribute__((weak));
}

namespace lstmkit {

// Row-major GEMM straight into a micro-kernel or BLAS, without the dispatcher:
//   matmul: C[M, N] = A[M, K] @ B[K, N]   (+= when `accumulate`)
// lda/ldb/ldc are row strides. float goes to oneDNN's JIT batch-reduce GEMM micro-kernel
// (at::native::cpublas::brgemm, single-threaded; we block and thread it), which uses the
// CPU's widest vectors on every vendor; the MKL in PyTorch's wheels takes its AVX2 path on
// AMD processors and reaches about half of that. double, and float where the micro-kernel
// is unavailable, go to the Fortran BLAS. Where B is a weight W[Nc, K] used as W^T the
// callers keep a transposed copy made once per call.
constexpr int64_t kBlockM = 64, kBlockN = 64, kBlockK = 256;

inline void fortran_gemm(int m, int n, int k, float beta, const float* b, int ldb,
                         const float* a, int lda, float* c, int ldc) {
  const char no = 'N';
  const float one = 1;
  sgemm_(&no, &no, &m, &n, &k, &one, b, &ldb, a, &lda, &beta, c, &ldc);
}

inline void fortran_gemm(int m, int n, int k, double beta, const double* b, int ldb,
                         const double* a, int lda, double* c, int ldc) {
  const char no = 'N';
  const double one = 1;
  dgemm_(&no, &no, &m, &n, &k, &one, b, &ldb, a, &lda, &beta, c, &ldc);
}

template <typename T>
inline bool have_fortran_blas() {
  if constexpr (std::is_same_v<T, float>) return sgemm_ != nullptr;
  return dgemm_ != nullptr;
}

// Whether the float micro-kernel runs here and agrees with a plain product (checked once).
inline bool micro_kernel_works() {
  static const bool works = [] {
    try {
      const float a[2] = {1.5f, -2.0f}, b[4] = {0.5f, 1.0f, 2.0f, -1.0f};
      float c[2] = {0.0f, 0.0f};
      at::native::cpublas::brgemm(1, 2, 2, 2, 2, 2, false, a, b, c, false);
      return c[0] == -3.25f && c[1] == 3.5f;
    } catch (...) {
      return false;
    }
  }();
  return works;
}

template <typename T>
void aten_matmul(int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B,
                 int64_t ldb, T* C, int64_t ldc, bool accumulate) {
  const auto opts = at::TensorOptions().dtype(c10::CppTypeToScalarType<T>::value);
  at::Tensor a = at::from_blob(const_cast<T*>(A), {M, K}, {lda, 1}, opts);
  at::Tensor b = at::from_blob(const_cast<T*>(B), {K, N}, {ldb, 1}, opts);
  at::Tensor c = at::from_blob(C, {M, N}, {ldc, 1}, opts);
  if (accumulate) {
    c.addmm_(a, b);
  } else {
    at::mm_out(c, a, b);
  }
}

inline void blocked_micro_kernel(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                                 const float* B, int64_t ldb, float* C, int64_t ldc,
                                 bool accumulate, const float* bias = nullptr) {
  const int64_t blocks_m = (M + kBlockM - 1) / kBlockM;
  const int64_t blocks_n = (N + kBlockN - 1) / kBlockN;
  auto run = [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      // Consecutive tasks share a column panel of B, which stays in cache.
      const int64_t n0 = (task / blocks_m) * kBlockN, m0 = (task % blocks_m) * kBlockM;
      const int64_t nb = std::min(kBlockN, N - n0), mb = std::min(kBlockM, M - m0);
      for (int64_t k0 = 0; k0 < K; k0 += kBlockK) {
        at::native::cpublas::brgemm(mb, nb, std::min(kBlockK, K - k0), lda, ldb, ldc,
                                    accumulate || k0 > 0, A + m0 * lda + k0, B + k0 * ldb + n0,
                                    C + m0 * ldc + n0, false);
      }
      if (bias) {  // while the block is still in cache, not as another pass over C
        for (int64_t r = 0; r < mb; ++r) {
          float* row = C + (m0 + r) * ldc + n0;
#pragma omp simd
          for (int64_t j = 0; j < nb; ++j) row[j] += bias[n0 + j];
        }
      }
    }
  };
  const int64_t tasks = blocks_m * blocks_n;
  if (M * N * K < (int64_t(1) << 18)) {
    run(0, tasks);  // too small to pay for waking threads
  } else {
    at::parallel_for(0, tasks, 1, run);
  }
}

// C[M, N] = A[M, K] @ B[K, N] + bias[N] (a fresh C; bias may be null).
template <typename T>
inline void matmul(int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B,
                   int64_t ldb, T* C, int64_t ldc, bool accumulate);

template <typename T>
inline void matmul_bias(int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B,
                        int64_t ldb, const T* bias, T* C, int64_t ldc) {
  if constexpr (std::is_same_v<T, float>) {
    if (micro_kernel_works() && M > 0 && N > 0) {
      return blocked_micro_kernel(M, N, K, A, lda, B, ldb, C, ldc, false, bias);
    }
  }
  if (bias) {
    for (int64_t r = 0; r < M; ++r) std::copy(bias, bias + N, C + r * ldc);
  }
  matmul<T>(M, N, K, A, lda, B, ldb, C, ldc, bias != nullptr);
}

template <typename T>
inline void matmul(int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B,
                   int64_t ldb, T* C, int64_t ldc, bool accumulate) {
  if (M == 0 || N == 0) return;
  if constexpr (std::is_same_v<T, float>) {
    if (micro_kernel_works()) {
      return blocked_micro_kernel(M, N, K, A, lda, B, ldb, C, ldc, accumulate);
    }
  }
  if (!have_fortran_blas<T>()) return aten_matmul<T>(M, N, K, A, lda, B, ldb, C, ldc, accumulate);
  // Column-major BLAS sees row-major X as X^T: C^T = B^T A^T.
  fortran_gemm(static_cast<int>(N), static_cast<int>(M), static_cast<int>(K),
               accumulate ? T(1) : T(0), B, static_cast<int>(ldb), A, static_cast<int>(lda), C,
               static_cast<int>(ldc));
}

// C[M, Nc] (+)= A[M, K] @ W[Nc, K]^T straight from W, without a transposed copy: for a
// sequence of one step (streaming), where the copy would cost more than the product.
template <typename T>
inline void matmul_wt(int64_t M, int64_t Nc, int64_t K, const T* A, int64_t lda, const T* W,
                      int64_t ldw, T* C, int64_t ldc, bool accumulate) {
  if (M == 0 || Nc == 0) return;
  if (!have_fortran_blas<T>()) {
    const auto opts = at::TensorOptions().dtype(c10::CppTypeToScalarType<T>::value);
    at::Tensor w = at::from_blob(const_cast<T*>(W), {Nc, K}, {ldw, 1}, opts);
    at::Tensor a = at::from_blob(const_cast<T*>(A), {M, K}, {lda, 1}, opts);
    at::Tensor c = at::from_blob(C, {M, Nc}, {ldc, 1}, opts);
    if (accumulate) c.addmm_(a, w.t()); else at::mm_out(c, a, w.t());
    return;
  }
  const char tw = 'T', no = 'N';
  const int m = static_cast<int>(Nc), n = static_cast<int>(M), k = static_cast<int>(K);
  const int lw = static_cast<int>(ldw), la = static_cast<int>(lda), lc = static_cast<int>(ldc);
  const T one = 1, beta = accumulate ? T(1) : T(0);
  if constexpr (std::is_same_v<T, float>) {
    sgemm_(&tw, &no, &m, &n, &k, &one, W, &lw, A, &la, &beta, C, &lc);
  } else {
    dgemm_(&tw, &no, &m, &n, &k, &one, W, &lw, A, &la, &beta, C, &lc);
  }
}

// The weight W[Nc, K] as the right-hand factor of x @ W^T: a contiguous [K, Nc] copy.
inline at::Tensor transposed(const at::Tensor& w) { return w.t().contiguous(); }

// Reads a zoneout mask that is either per element (pointer) or one rate (0-d tensor).
template <typename T>
struct MaskView {
  const T* data = nullptr;  // [L, N, K] or nullptr
  T rate = 0;               // used when data == nullptr
  bool present = false;

  static MaskView from(const c10::optional<at::Tensor>& t) {
    MaskView m;
    if (!t.has_value() || !t->defined()) return m;
    m.present = true;
    if (t->dim() == 0) {
      m.rate = t->item<T>();
    } else {
      m.data = t->data_ptr<T>();
    }
    return m;
  }
  // The mask row of step t, batch row n, for rows of k units (nullptr: use `rate`).
  const T* row(int64_t t, int64_t n, int64_t batch, int64_t k) const {
    return data ? data + (t * batch + n) * k : nullptr;
  }
};

inline const at::Tensor& require(const c10::optional<at::Tensor>& t, const char* what) {
  TORCH_CHECK(t.has_value() && t->defined(), "lstmkit native: missing tensor ", what);
  return *t;
}

inline bool given(const c10::optional<at::Tensor>& t) { return t.has_value() && t->defined(); }

template <typename T>
const T* ptr_or_null(const c10::optional<at::Tensor>& t) {
  return given(t) ? t->data_ptr<T>() : nullptr;
}

// A [L, N, K] buffer kept for backward when `keep`, else one reusable step slot.
inline at::Tensor steps_buffer(bool keep, int64_t L, int64_t N, int64_t K,
                               const at::TensorOptions& options) {
  return at::empty({keep ? L : 1, N, K}, options);
}

// Step t of a [L, ...] buffer, or its only slot; plain pointer arithmetic because a
// Tensor index costs a dispatcher call per step.
template <typename T>
inline T* step_ptr(const at::Tensor& buffer, int64_t t) {
  return buffer.data_ptr<T>() + (buffer.size(0) == 1 ? 0 : t) * buffer.stride(0);
}

}  // namespace lstmkit
