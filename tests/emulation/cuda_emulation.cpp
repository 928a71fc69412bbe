// Kernel emulation, the host side: the fiber scheduler behind a launch (cuda_emulation.h), and
// the slice of the CUDA runtime and cuBLAS that clbench calls (include/), on host memory.
// Streams run their work when it is issued (in order, so every stream is trivially ordered);
// a stream capturing a graph records it instead, and a graph launch replays the records.
#include <sys/mman.h>
#if !defined(__x86_64__)
#include <ucontext.h>
#endif

#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CLB_EMU_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define CLB_EMU_ASAN 1
#endif
#ifdef CLB_EMU_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace clb_emu {

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("cuda emulation: " + what); }

// ---- the fiber scheduler -------------------------------------------------------------------

#ifdef CLB_EMU_ASAN
constexpr size_t kStackBytes = 256 * 1024;  // instrumented frames are larger
#else
constexpr size_t kStackBytes = 64 * 1024;
#endif
constexpr int kMaxThreads = 1024;
constexpr int kWarp = 32;

enum class State { kReady, kAtBlockBarrier, kAtWarpBarrier, kDone };

// A switch between fibers. On x86-64 a few instructions that save the callee-saved registers, the
// SSE and x87 control words and the stack pointer (glibc's swapcontext also makes a signal-mask
// system call per switch, which made it several times slower); elsewhere ucontext.
#if defined(__x86_64__)
struct Context {
  void* sp = nullptr;
};
extern "C" void clb_emu_switch(void** save_sp, void* load_sp);
asm(R"(
  .text
  .globl clb_emu_switch
  .type clb_emu_switch, @function
clb_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size clb_emu_switch, .-clb_emu_switch
  .section .note.GNU-stack,"",@progbits
  .text
)");
void switch_context(Context& from, Context& to) { clb_emu_switch(&from.sp, to.sp); }
// A fresh fiber's stack as clb_emu_switch leaves a suspended one: control words, six registers, and
// `entry` as the return address, placed so that `entry` starts with the stack aligned as after a call.
void start_context(Context& c, char* stack, size_t bytes, void (*entry)()) {
  auto* top = reinterpret_cast<uint64_t*>((reinterpret_cast<uintptr_t>(stack + bytes) & ~uintptr_t(15)) - 16);
  top[0] = reinterpret_cast<uint64_t>(entry);  // 16-byte aligned: entry sees rsp % 16 == 8
  uint64_t* sp = top - 7;                       // r15 r14 r13 r12 rbx rbp: zero
  for (int k = 1; k < 7; ++k) sp[k] = 0;
  uint32_t mxcsr = 0;
  uint16_t fpucw = 0;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  asm volatile("fnstcw %0" : "=m"(fpucw));
  std::memcpy(sp, &mxcsr, 4);
  std::memcpy(reinterpret_cast<char*>(sp) + 4, &fpucw, 2);
  c.sp = sp;
}
#else
struct Context {
  ucontext_t uc;
};
void switch_context(Context& from, Context& to) { swapcontext(&from.uc, &to.uc); }
void start_context(Context& c, char* stack, size_t bytes, void (*entry)()) {
  getcontext(&c.uc);
  c.uc.uc_stack.ss_sp = stack;
  c.uc.uc_stack.ss_size = bytes;
  c.uc.uc_link = nullptr;  // entry never returns
  makecontext(&c.uc, entry, 0);
}
#endif

struct Fiber {
  Context ctx;
  uint3 tid;
  State state = State::kReady;
  char* stack = nullptr;
};

// The block being run. One at a time: launches are serialised by g_launch_mutex.
struct Block {
  std::vector<Fiber> fibers;
  Context scheduler;
  Fiber* current = nullptr;
  uint3 block_idx;
  dim3 block_dim, grid_dim;
  const std::function<void()>* body = nullptr;
  std::vector<uint64_t> slots;  // one shuffle slot per thread
  const void* main_stack = nullptr;  // AddressSanitizer's record of the scheduler's stack
  size_t main_stack_size = 0;
};

Block* g_block = nullptr;
std::recursive_mutex g_launch_mutex;

Block& block() {
  if (g_block == nullptr || g_block->current == nullptr) fail("a device function was called outside a kernel launch");
  return *g_block;
}

char* stack_pool() {  // one reserved mapping, pages committed only when a fiber touches them
  static char* pool = [] {
    void* p = mmap(nullptr, kStackBytes * kMaxThreads, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED) fail("cannot reserve fiber stacks");
    return static_cast<char*>(p);
  }();
  return pool;
}

[[noreturn]] void fiber_main() {
  Block& b = *g_block;
#ifdef CLB_EMU_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &b.main_stack, &b.main_stack_size);
#endif
  (*b.body)();
  Fiber& f = *b.current;
  f.state = State::kDone;
#ifdef CLB_EMU_ASAN
  __sanitizer_start_switch_fiber(nullptr, b.main_stack, b.main_stack_size);  // this fiber ends
#endif
  switch_context(f.ctx, b.scheduler);
  __builtin_unreachable();  // a finished fiber is never resumed
}

void run_fiber(Block& b, Fiber& f) {
  b.current = &f;
#ifdef CLB_EMU_ASAN
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(&fake, f.stack, kStackBytes);
#endif
  switch_context(b.scheduler, f.ctx);
#ifdef CLB_EMU_ASAN
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
  b.current = nullptr;
}

// The running fiber waits (at a barrier) until the scheduler releases it.
void wait_as(State s) {
  Block& b = block();
  Fiber& f = *b.current;
  f.state = s;
#ifdef CLB_EMU_ASAN
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(&fake, b.main_stack, b.main_stack_size);
#endif
  switch_context(f.ctx, b.scheduler);
#ifdef CLB_EMU_ASAN
  __sanitizer_finish_switch_fiber(fake, &b.main_stack, &b.main_stack_size);
#endif
}

std::string where(const Block& b) {
  return "block (" + std::to_string(b.block_idx.x) + "," + std::to_string(b.block_idx.y) + "," +
         std::to_string(b.block_idx.z) + ")";
}

// Releases the warps whose live lanes all wait at a shuffle; true if any was released.
bool release_warps(Block& b) {
  bool released = false;
  const int n = int(b.fibers.size());
  for (int w0 = 0; w0 < n; w0 += kWarp) {
    int waiting = 0, live = 0;
    for (int t = w0; t < w0 + kWarp && t < n; ++t) {
      live += b.fibers[t].state != State::kDone;
      waiting += b.fibers[t].state == State::kAtWarpBarrier;
    }
    if (waiting == 0 || waiting != live) continue;
    if (live != kWarp)  // a full mask names 32 lanes: on the card this is undefined
      fail(where(b) + ": a full-mask shuffle in warp " + std::to_string(w0 / kWarp) + " with only " +
           std::to_string(live) + " live lanes");
    for (int t = w0; t < w0 + kWarp; ++t) b.fibers[t].state = State::kReady;
    released = true;
  }
  return released;
}

void run_block(Block& b) {
  const int n = int(b.block_dim.x * b.block_dim.y * b.block_dim.z);
  b.fibers.assign(n, Fiber{});
  b.slots.assign(n, 0);
  char* pool = stack_pool();
  for (int t = 0; t < n; ++t) {
    Fiber& f = b.fibers[t];
    f.tid = {unsigned(t) % b.block_dim.x, unsigned(t) / b.block_dim.x % b.block_dim.y,
             unsigned(t) / (b.block_dim.x * b.block_dim.y)};
    f.stack = pool + size_t(t) * kStackBytes;
#ifdef CLB_EMU_ASAN
    // A finished fiber never returned from its frames: their poison would outlive it on the reused stack.
    __asan_unpoison_memory_region(f.stack, kStackBytes);
#endif
    start_context(f.ctx, f.stack, kStackBytes, fiber_main);
  }
  for (;;) {
    for (Fiber& f : b.fibers)
      if (f.state == State::kReady) run_fiber(b, f);
    int done = 0, at_block = 0, at_warp = 0;
    for (const Fiber& f : b.fibers) {
      done += f.state == State::kDone;
      at_block += f.state == State::kAtBlockBarrier;
      at_warp += f.state == State::kAtWarpBarrier;
    }
    if (done == n) return;
    if (release_warps(b)) continue;
    if (at_warp == 0 && at_block == n - done) {  // every live thread reached __syncthreads
      for (Fiber& f : b.fibers)
        if (f.state == State::kAtBlockBarrier) f.state = State::kReady;
      continue;
    }
    fail(where(b) + ": deadlock, " + std::to_string(at_block) + " threads wait at __syncthreads, " +
         std::to_string(at_warp) + " at a shuffle, " + std::to_string(done) + " exited (a barrier not every thread reaches)");
  }
}

// ---- the runtime API's state ---------------------------------------------------------------

cudaError_t g_last_error = cudaSuccess;

cudaError_t set_error(cudaError_t e) {
  if (e != cudaSuccess && g_last_error == cudaSuccess) g_last_error = e;
  return e;
}

std::map<const char*, size_t>& allocations() {
  static std::map<const char*, size_t> m;
  return m;
}

// Whether [p, p + bytes) lies inside one live allocation.
bool device_range(const void* p, size_t bytes) {
  const auto& m = allocations();
  const char* c = static_cast<const char*>(p);
  auto it = m.upper_bound(c);
  if (it == m.begin()) return false;
  --it;
  return c >= it->first && c + bytes <= it->first + it->second;
}

}  // namespace

const uint3& thread_idx() { return block().current->tid; }
const uint3& block_idx() { return block().block_idx; }
const dim3& block_dim() { return block().block_dim; }
const dim3& grid_dim() { return block().grid_dim; }

void sync_threads() { wait_as(State::kAtBlockBarrier); }

void shuffle_xor(unsigned mask, const void* value, void* out, int bytes, int offset) {
  Block& b = block();
  if (mask != 0xffffffffu) fail("only full-mask shuffles are emulated");
  const int t = int(b.current - b.fibers.data()), lane = t % kWarp;
  std::memcpy(&b.slots[t], value, bytes);
  wait_as(State::kAtWarpBarrier);  // every lane has written
  std::memcpy(out, &b.slots[t - lane + (lane ^ (offset & (kWarp - 1)))], bytes);
  wait_as(State::kAtWarpBarrier);  // every lane has read before any writes again
}

void run_grid(const Config& cfg, const std::function<void()>& body) {
  std::lock_guard<std::recursive_mutex> lock(g_launch_mutex);
  if (g_block != nullptr) fail("a kernel launched another (dynamic parallelism is not emulated)");
  Block b;
  b.grid_dim = cfg.grid, b.block_dim = cfg.block, b.body = &body;
  g_block = &b;
  try {
    for (unsigned z = 0; z < cfg.grid.z; ++z)
      for (unsigned y = 0; y < cfg.grid.y; ++y)
        for (unsigned x = 0; x < cfg.grid.x; ++x) {
          b.block_idx = {x, y, z};
          run_block(b);
        }
  } catch (...) {
    g_block = nullptr;
    throw;
  }
  g_block = nullptr;
}

}  // namespace clb_emu

// ---- streams and graphs --------------------------------------------------------------------

struct CUgraph_st {
  std::vector<std::function<void()>> ops;
};
struct CUgraphExec_st {
  std::vector<std::function<void()>> ops;
};
struct CUstream_st {
  CUgraph_st* capture = nullptr;  // the graph being recorded, if any
};

namespace {

cudaError_t enqueue(cudaStream_t s, std::function<void()> op) {
  if (s && s->capture) {
    s->capture->ops.push_back(std::move(op));
    return cudaSuccess;
  }
  op();
  return cudaSuccess;
}

}  // namespace

namespace clb_emu {

void submit(const Config& cfg, std::function<void()> body) {
  const uint64_t threads = uint64_t(cfg.block.x) * cfg.block.y * cfg.block.z;
  const bool ok = threads >= 1 && threads <= uint64_t(kMaxThreads) && cfg.block.z <= 64 && cfg.grid.x >= 1 &&
                  cfg.grid.y >= 1 && cfg.grid.y <= 65535 && cfg.grid.z >= 1 && cfg.grid.z <= 65535 &&
                  cfg.shared_bytes <= 48 * 1024;
  if (!ok) {  // as on the card: the launch does not happen and the error waits for cudaGetLastError
    set_error(cudaErrorInvalidConfiguration);
    return;
  }
  enqueue(cfg.stream, [cfg, body = std::move(body)] { run_grid(cfg, body); });
}

}  // namespace clb_emu

const char* cudaGetErrorString(cudaError_t err) {
  switch (err) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevicePointer: return "invalid device pointer";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
  }
  return "unknown error";
}
const char* cudaGetErrorName(cudaError_t err) {
  switch (err) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevicePointer: return "cudaErrorInvalidDevicePointer";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorStreamCaptureUnsupported: return "cudaErrorStreamCaptureUnsupported";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
  }
  return "cudaErrorUnknown";
}
cudaError_t cudaGetLastError() {
  const cudaError_t e = clb_emu::g_last_error;
  clb_emu::g_last_error = cudaSuccess;
  return e;
}
cudaError_t cudaPeekAtLastError() { return clb_emu::g_last_error; }

// CLB_EMULATED_DEVICES=0 plays a machine without a usable GPU.
cudaError_t cudaGetDeviceCount(int* count) {
  const char* env = std::getenv("CLB_EMULATED_DEVICES");
  *count = env ? std::atoi(env) : 1;
  return *count > 0 ? cudaSuccess : clb_emu::set_error(cudaErrorNoDevice);
}
cudaError_t cudaSetDevice(int device) {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || device < 0 || device >= n) return clb_emu::set_error(cudaErrorInvalidValue);
  return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }

cudaError_t cudaMalloc(void** p, size_t bytes) {
  if (p == nullptr) return clb_emu::set_error(cudaErrorInvalidValue);
  void* q = nullptr;
  if (posix_memalign(&q, 256, bytes ? bytes : 1) != 0) return clb_emu::set_error(cudaErrorMemoryAllocation);
  clb_emu::allocations()[static_cast<const char*>(q)] = bytes;
  *p = q;
  return cudaSuccess;
}
cudaError_t cudaFree(void* p) {
  if (p == nullptr) return cudaSuccess;
  auto& m = clb_emu::allocations();
  auto it = m.find(static_cast<const char*>(p));
  if (it == m.end()) return clb_emu::set_error(cudaErrorInvalidDevicePointer);
  m.erase(it);
  std::free(p);
  return cudaSuccess;
}
cudaError_t cudaMallocAsync(void** p, size_t bytes, cudaStream_t s) {
  if (s && s->capture) return clb_emu::set_error(cudaErrorStreamCaptureUnsupported);  // not emulated in graphs
  return cudaMalloc(p, bytes);
}
cudaError_t cudaFreeAsync(void* p, cudaStream_t s) {
  if (s && s->capture) return clb_emu::set_error(cudaErrorStreamCaptureUnsupported);
  return cudaFree(p);
}

namespace {

// The device side of a copy must be one live allocation: the check cudaMemcpy makes on a card
// (and an out-of-bounds copy is caught here rather than corrupting the host heap).
cudaError_t check_copy(const void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  const bool dst_dev = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool src_dev = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if (bytes == 0) return cudaSuccess;
  if ((dst_dev && !clb_emu::device_range(dst, bytes)) || (src_dev && !clb_emu::device_range(src, bytes)))
    return clb_emu::set_error(cudaErrorInvalidValue);
  return cudaSuccess;
}

}  // namespace

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  if (const cudaError_t e = check_copy(dst, src, bytes, kind)) return e;
  if (bytes) std::memcpy(dst, src, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t s) {
  if (const cudaError_t e = check_copy(dst, src, bytes, kind)) return e;
  return enqueue(s, [=] {
    if (bytes) std::memcpy(dst, src, bytes);
  });
}
cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t s) {
  if (bytes && !clb_emu::device_range(p, bytes)) return clb_emu::set_error(cudaErrorInvalidValue);
  return enqueue(s, [=] {
    if (bytes) std::memset(p, value, bytes);
  });
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned) {
  *s = new CUstream_st;
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t s) {
  if (s && s->capture) delete s->capture;
  delete s;
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  if (s && s->capture) return clb_emu::set_error(cudaErrorStreamCaptureUnsupported);
  return cudaSuccess;
}
cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode) {
  if (s == nullptr || s->capture) return clb_emu::set_error(cudaErrorInvalidValue);
  s->capture = new CUgraph_st;
  return cudaSuccess;
}
cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t* graph) {
  if (s == nullptr || s->capture == nullptr) return clb_emu::set_error(cudaErrorInvalidValue);
  *graph = s->capture;
  s->capture = nullptr;
  return cudaSuccess;
}
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  if (graph == nullptr) return clb_emu::set_error(cudaErrorInvalidValue);
  *exec = new CUgraphExec_st{graph->ops};
  return cudaSuccess;
}
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t s) {
  if (exec == nullptr) return clb_emu::set_error(cudaErrorInvalidValue);
  for (const auto& op : exec->ops) enqueue(s, op);
  return cudaSuccess;
}
cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete graph;
  return cudaSuccess;
}
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete exec;
  return cudaSuccess;
}

// ---- cuBLAS --------------------------------------------------------------------------------

struct cublasContext {
  cudaStream_t stream = nullptr;
};

cublasStatus_t cublasCreate(cublasHandle_t* h) {
  *h = new cublasContext;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetMathMode(cublasHandle_t h, cublasMath_t) {
  return h ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_NOT_INITIALIZED;
}
cublasStatus_t cublasSetStream(cublasHandle_t h, cudaStream_t s) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  h->stream = s;
  return CUBLAS_STATUS_SUCCESS;
}
const char* cublasGetStatusString(cublasStatus_t s) {
  return s == CUBLAS_STATUS_SUCCESS ? "success" : s == CUBLAS_STATUS_NOT_INITIALIZED ? "the library was not initialized"
                                                                                      : "an invalid value was used";
}
const char* cublasGetStatusName(cublasStatus_t s) {
  return s == CUBLAS_STATUS_SUCCESS ? "CUBLAS_STATUS_SUCCESS"
         : s == CUBLAS_STATUS_NOT_INITIALIZED ? "CUBLAS_STATUS_NOT_INITIALIZED"
                                              : "CUBLAS_STATUS_INVALID_VALUE";
}

// Column-major C (m x n) = alpha op(A) op(B) + beta C, op(A) m x k, op(B) k x n, summed in double.
cublasStatus_t cublasSgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const float* alpha, const float* A, int lda, const float* B, int ldb, const float* beta,
                           float* C, int ldc) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  const int a_rows = ta == CUBLAS_OP_N ? m : k, b_rows = tb == CUBLAS_OP_N ? k : n;
  if (m < 0 || n < 0 || k < 0 || lda < std::max(1, a_rows) || ldb < std::max(1, b_rows) || ldc < std::max(1, m))
    return CUBLAS_STATUS_INVALID_VALUE;
  const float al = *alpha, be = *beta;  // host scalars, read at the call as cuBLAS does
  enqueue(h->stream, [=] {
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) {
        double s = 0.0;
        for (int l = 0; l < k; ++l) {
          const float a = ta == CUBLAS_OP_N ? A[i + int64_t(l) * lda] : A[l + int64_t(i) * lda];
          const float b = tb == CUBLAS_OP_N ? B[l + int64_t(j) * ldb] : B[j + int64_t(l) * ldb];
          s += double(a) * b;
        }
        float& c = C[i + int64_t(j) * ldc];
        c = be == 0.0f ? float(al * s) : float(al * s + double(be) * c);
      }
  });
  return CUBLAS_STATUS_SUCCESS;
}
