// Shared helpers of lstmkit's native kernels: element-wise activations written as
// plain loops the compiler vectorises (libmvec provides SIMD tanh/exp), row-parallel
// loops, and small GEMM wrappers over ATen.
//
// Shape symbols: L length, N batch, H cell size, P recurrent (output) size,
// G gate row blocks, S learned sigmoid gates.
#pragma once

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

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
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, row_cost));
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

// Row-major GEMMs straight into BLAS: at batch 1 the per-call overhead of at::mm (the
// dispatcher, tensor objects) is as large as the product itself.
//   gemm_abt: C[M, Nc] = beta * C + A[M, K] @ W[Nc, K]^T
//   gemm_ab:  C[M, Nc] = beta * C + A[M, K] @ W[K, Nc]
// lda/ldw/ldc are row strides. Column-major BLAS sees a row-major X as X^T, so it computes
// C^T = W A^T (abt: W transposed) and C^T = W^T A^T (ab: W as it is).
inline void fortran_gemm(char tw, int m, int n, int k, float beta, const float* w, int ldw,
                         const float* a, int lda, float* c, int ldc) {
  const char ta = 'N';
  const float one = 1;
  sgemm_(&tw, &ta, &m, &n, &k, &one, w, &ldw, a, &lda, &beta, c, &ldc);
}

inline void fortran_gemm(char tw, int m, int n, int k, double beta, const double* w, int ldw,
                         const double* a, int lda, double* c, int ldc) {
  const char ta = 'N';
  const double one = 1;
  dgemm_(&tw, &ta, &m, &n, &k, &one, w, &ldw, a, &lda, &beta, c, &ldc);
}

template <typename T>
inline bool have_fortran_blas() {
  if constexpr (std::is_same_v<T, float>) return sgemm_ != nullptr;
  return dgemm_ != nullptr;
}

template <typename T>
void aten_gemm(bool w_transposed, int64_t M, int64_t Nc, int64_t K, const T* A, int64_t lda,
               const T* W, int64_t ldw, T beta, T* C, int64_t ldc) {
  const auto opts = at::TensorOptions().dtype(c10::CppTypeToScalarType<T>::value);
  at::Tensor a = at::from_blob(const_cast<T*>(A), {M, K}, {lda, 1}, opts);
  at::Tensor w = w_transposed ? at::from_blob(const_cast<T*>(W), {Nc, K}, {ldw, 1}, opts).t()
                              : at::from_blob(const_cast<T*>(W), {K, Nc}, {ldw, 1}, opts);
  at::Tensor c = at::from_blob(C, {M, Nc}, {ldc, 1}, opts);
  if (beta == T(0)) {
    at::mm_out(c, a, w);
  } else {
    c.addmm_(a, w, beta);
  }
}

template <typename T>
inline void gemm_abt(int64_t M, int64_t Nc, int64_t K, const T* A, int64_t lda, const T* W,
                     int64_t ldw, T beta, T* C, int64_t ldc) {
  if (M == 0 || Nc == 0) return;
  if (!have_fortran_blas<T>()) return aten_gemm<T>(true, M, Nc, K, A, lda, W, ldw, beta, C, ldc);
  fortran_gemm('T', static_cast<int>(Nc), static_cast<int>(M), static_cast<int>(K), beta, W,
               static_cast<int>(ldw), A, static_cast<int>(lda), C, static_cast<int>(ldc));
}

template <typename T>
inline void gemm_ab(int64_t M, int64_t Nc, int64_t K, const T* A, int64_t lda, const T* W,
                    int64_t ldw, T beta, T* C, int64_t ldc) {
  if (M == 0 || Nc == 0) return;
  if (!have_fortran_blas<T>()) return aten_gemm<T>(false, M, Nc, K, A, lda, W, ldw, beta, C, ldc);
  fortran_gemm('N', static_cast<int>(Nc), static_cast<int>(M), static_cast<int>(K), beta, W,
               static_cast<int>(ldw), A, static_cast<int>(lda), C, static_cast<int>(ldc));
}

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

}  // namespace lstmkit
