// Asynchronous futex waits that never block the event loop and never occupy libuv's threadpool.
//
// Each Node environment (the main thread and every worker thread) owns a small set of waiter
// threads. A waiter thread sleeps in futex_waitv(2) on up to 127 user words plus one private
// control word; registering or cancelling a wait bumps the control word so the thread rescans.
// Results travel back through a uv_async_t on the environment's own loop. Without futex_waitv
// (kernel < 5.16, or MULTIPROC_NO_WAITV=1) each thread takes one wait and sleeps on it with
// plain FUTEX_WAIT in short slices, so cancellation and shutdown are still noticed.
//
// Results follow "value" semantics: a wait completes with kWaitOk when the word no longer holds
// the expected value (a wake with an unchanged word is ignored), so every user of these waits
// changes the word before waking.
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common.h"
#include "futex.h"

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

namespace multiproc {
namespace {

constexpr size_t kWaitvCapacity = 127;       // FUTEX_WAITV_MAX (128) minus the control word
constexpr double kFallbackSliceMs = 20;      // how often a fallback thread re-checks its flags

struct WaitvEntry {  // struct futex_waitv, spelled out so older headers still build
  uint64_t val;
  uint64_t uaddr;
  uint32_t flags;
  uint32_t reserved;
};

class Environment;

struct AsyncWait {
  uint64_t id = 0;
  int32_t* addr = nullptr;
  int32_t expected = 0;
  int64_t deadline = 0;  // CLOCK_MONOTONIC ns; 0 = none
  bool ref = true;
  bool cancelled = false;  // guarded by Environment::mutex
  int result = -1;
  class WaiterThread* owner = nullptr;
  v8::Global<v8::Promise::Resolver> resolver;  // JS thread only
  v8::Global<v8::Value> keep;                  // the Int32Array: keeps the mapping alive
};

class WaiterThread {
 public:
  WaiterThread(Environment* env, bool waitv) : env_(env), waitv_(waitv) {
    thread_ = std::thread([this] { Run(); });
  }
  void Poke() {
    __atomic_add_fetch(&control_, 1, __ATOMIC_SEQ_CST);
    FutexWake(&control_, 1);
  }
  void Join() { thread_.join(); }
  std::vector<AsyncWait*> waits;  // guarded by Environment::mutex
  size_t Capacity() const { return waitv_ ? kWaitvCapacity : 1; }

 private:
  void Run();
  Environment* env_;
  bool waitv_;
  int32_t control_ = 0;
  std::thread thread_;
};

class Environment {
 public:
  Environment(v8::Isolate* isolate, v8::Local<v8::Context> context)
      : isolate_(isolate), context_(isolate, context) {
    const char* no = std::getenv("MULTIPROC_NO_WAITV");
    waitv_ = !(no != nullptr && no[0] == '1') && Probe();
  }

  // Registers a wait and returns its promise.
  v8::Local<v8::Promise> Add(AsyncWait* w, v8::Local<v8::Context> context) {
    Start();
    v8::Local<v8::Promise::Resolver> resolver = v8::Promise::Resolver::New(context).ToLocalChecked();
    w->resolver.Reset(isolate_, resolver);
    pending_[w->id] = w;
    if (w->ref && refs_++ == 0) uv_ref(reinterpret_cast<uv_handle_t*>(&async_));
    WaiterThread* target = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex);
      for (auto& t : threads_) {
        if (t->waits.size() < t->Capacity()) {
          target = t.get();
          break;
        }
      }
      if (target == nullptr) {
        threads_.push_back(std::make_unique<WaiterThread>(this, waitv_));
        target = threads_.back().get();
      }
      w->owner = target;
      target->waits.push_back(w);
    }
    target->Poke();
    return resolver->GetPromise();
  }

  bool Cancel(uint64_t id) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return false;
    WaiterThread* owner;
    {
      std::lock_guard<std::mutex> lock(mutex);
      it->second->cancelled = true;
      owner = it->second->owner;
    }
    owner->Poke();
    return true;
  }

  // Called by waiter threads with `mutex` held.
  void Complete(AsyncWait* w, int result) {
    w->result = result;
    done_.push_back(w);
  }
  void Signal() { uv_async_send(&async_); }
  bool stopping = false;  // guarded by mutex
  std::mutex mutex;

  // Environment teardown (a worker thread exiting, or the main thread at exit). This is Node's
  // *async* cleanup hook: our uv_async_t must finish closing before Node unloads the addon from a
  // dying worker, or the close callback would run code that is no longer mapped.
  static void Cleanup(void* arg, void (*done)(void*), void* done_arg) {
    Environment* env = static_cast<Environment*>(arg);
    {
      std::lock_guard<std::mutex> lock(env->mutex);
      env->stopping = true;
    }
    for (auto& t : env->threads_) t->Poke();
    for (auto& t : env->threads_) t->Join();
    for (auto& entry : env->pending_) delete entry.second;
    env->pending_.clear();
    env->done_callback_ = done;
    env->done_arg_ = done_arg;
    node::RemoveEnvironmentCleanupHook(std::move(env->hook_));
    if (env->started_) {
      uv_close(reinterpret_cast<uv_handle_t*>(&env->async_), [](uv_handle_t* h) {
        Environment* e = static_cast<Environment*>(h->data);
        void (*cb)(void*) = e->done_callback_;
        void* cb_arg = e->done_arg_;
        delete e;
        cb(cb_arg);
      });
    } else {
      delete env;
      done(done_arg);
    }
  }

  node::AsyncCleanupHookHandle hook_;
  void (*done_callback_)(void*) = nullptr;
  void* done_arg_ = nullptr;

 private:
  static bool Probe() {
    // An empty vector is rejected with EINVAL by kernels that have the call, ENOSYS otherwise.
    long rc = syscall(SYS_futex_waitv, nullptr, 0, 0, nullptr, CLOCK_MONOTONIC);
    return !(rc < 0 && errno == ENOSYS);
  }

  void Start() {
    if (started_) return;
    started_ = true;
    uv_async_init(node::GetCurrentEventLoop(isolate_), &async_, OnAsync);
    async_.data = this;
    uv_unref(reinterpret_cast<uv_handle_t*>(&async_));
    v8::HandleScope scope(isolate_);
    v8::Local<v8::Object> resource = v8::Object::New(isolate_);
    resource_.Reset(isolate_, resource);
    async_context_ = node::EmitAsyncInit(isolate_, resource, "MULTIPROC_FUTEX_WAIT");
  }

  static void OnAsync(uv_async_t* handle) {
    Environment* env = static_cast<Environment*>(handle->data);
    std::vector<AsyncWait*> done;
    {
      std::lock_guard<std::mutex> lock(env->mutex);
      done.swap(env->done_);
    }
    if (done.empty()) return;
    v8::Isolate* isolate = env->isolate_;
    v8::HandleScope scope(isolate);
    v8::Local<v8::Context> context = env->context_.Get(isolate);
    v8::Context::Scope context_scope(context);
    // The callback scope runs the microtask queue when it closes, so awaiting code resumes now.
    node::CallbackScope callback_scope(isolate, env->resource_.Get(isolate), env->async_context_);
    for (AsyncWait* w : done) {
      env->pending_.erase(w->id);
      if (w->ref && --env->refs_ == 0) uv_unref(reinterpret_cast<uv_handle_t*>(&env->async_));
      v8::Local<v8::Promise::Resolver> resolver = w->resolver.Get(isolate);
      // Resolve gives Nothing when the environment is being torn down (a worker thread terminated
      // while a wait's result is being delivered): .Check() aborted the whole process there
      // ("FATAL ERROR: v8::FromJust Maybe value is Nothing", seen while testing issue 16). Nobody
      // can observe the promise any more, so the result is dropped.
      if (resolver->Resolve(context, v8::Integer::New(isolate, w->result)).IsNothing()) {
        delete w;
        continue;
      }
      delete w;
    }
  }

  v8::Isolate* isolate_;
  v8::Global<v8::Context> context_;
  v8::Global<v8::Object> resource_;
  node::async_context async_context_{0, 0};
  uv_async_t async_;
  bool started_ = false;
  bool waitv_ = true;
  size_t refs_ = 0;
  std::vector<std::unique_ptr<WaiterThread>> threads_;  // grown under mutex
  std::vector<AsyncWait*> done_;                       // guarded by mutex
  std::unordered_map<uint64_t, AsyncWait*> pending_;   // JS thread only
};

void WaiterThread::Run() {
  std::vector<WaitvEntry> vec;
  for (;;) {
    int32_t seen;
    int64_t deadline = 0;
    bool completed = false;
    AsyncWait* single = nullptr;
    {
      std::lock_guard<std::mutex> lock(env_->mutex);
      if (env_->stopping) return;
      seen = __atomic_load_n(&control_, __ATOMIC_SEQ_CST);
      const int64_t now = MonotonicNs();
      auto keep = waits.begin();
      for (AsyncWait* w : waits) {
        int r = -1;
        if (w->cancelled) {
          r = kWaitCancelled;
        } else if (__atomic_load_n(w->addr, __ATOMIC_SEQ_CST) != w->expected) {
          r = kWaitOk;
        } else if (w->deadline != 0 && now >= w->deadline) {
          r = kWaitTimedOut;
        }
        if (r >= 0) {
          env_->Complete(w, r);
          completed = true;
        } else {
          *keep++ = w;
          if (w->deadline != 0 && (deadline == 0 || w->deadline < deadline)) deadline = w->deadline;
        }
      }
      waits.erase(keep, waits.end());
      vec.clear();
      vec.push_back({static_cast<uint32_t>(seen), reinterpret_cast<uintptr_t>(&control_), FUTEX_32, 0});
      for (AsyncWait* w : waits) {
        // The kernel compares the low 32 bits only when val fits them: no sign extension.
        vec.push_back({static_cast<uint32_t>(w->expected), reinterpret_cast<uintptr_t>(w->addr),
                       FUTEX_32, 0});
      }
      if (!waits.empty()) single = waits.front();
    }
    if (completed) env_->Signal();
    if (waitv_) {
      struct timespec abs;
      if (deadline != 0) {
        abs.tv_sec = deadline / 1000000000LL;
        abs.tv_nsec = deadline % 1000000000LL;
      }
      syscall(SYS_futex_waitv, vec.data(), vec.size(), 0, deadline != 0 ? &abs : nullptr,
              CLOCK_MONOTONIC);
    } else if (single == nullptr) {
      FutexWait(&control_, seen, -1);
    } else {
      double slice = kFallbackSliceMs;
      if (deadline != 0) slice = std::min(slice, std::max(0.0, (deadline - MonotonicNs()) / 1e6));
      // The fallback cannot also sleep on the control word; the slice bounds how late it notices.
      FutexWait(reinterpret_cast<int32_t*>(vec[1].uaddr), static_cast<int32_t>(vec[1].val), slice);
    }
  }
}

// futexWaitAsync(int32Array, index, expected, timeoutMs, id, ref): 1 (not-equal) or 2 (timed out
// at once) synchronously, otherwise a Promise of 0 ok / 2 timed-out / 3 cancelled.
void WaitAsync(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  Environment* env = static_cast<Environment*>(ExternalValue(info.Data()));
  int32_t* addr;
  double expected, timeout, id;
  if (!ArgWord(info, 0, 1, &addr) || !ArgNumber(info, 2, "expected", &expected) ||
      !ArgNumber(info, 3, "timeout", &timeout) || !ArgNumber(info, 4, "id", &id)) {
    return;
  }
  const int32_t want = static_cast<int32_t>(expected);
  if (__atomic_load_n(addr, __ATOMIC_SEQ_CST) != want) {
    return info.GetReturnValue().Set(static_cast<int>(kWaitNotEqual));
  }
  if (timeout == 0) return info.GetReturnValue().Set(static_cast<int>(kWaitTimedOut));
  AsyncWait* w = new AsyncWait();
  w->id = static_cast<uint64_t>(id);
  w->addr = addr;
  w->expected = want;
  w->ref = info.Length() < 6 || info[5]->BooleanValue(isolate);
  if (timeout > 0 && std::isfinite(timeout)) {
    w->deadline = MonotonicNs() + static_cast<int64_t>(timeout * 1e6);
  }
  w->keep.Reset(isolate, info[0]);
  info.GetReturnValue().Set(env->Add(w, isolate->GetCurrentContext()));
}

// cancelWait(id): settles a pending wait with 3 (cancelled); false if it already completed.
void CancelWait(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Environment* env = static_cast<Environment*>(ExternalValue(info.Data()));
  double id;
  if (!ArgNumber(info, 0, "id", &id)) return;
  info.GetReturnValue().Set(env->Cancel(static_cast<uint64_t>(id)));
}

}  // namespace

void InitWaiter(v8::Isolate* isolate, v8::Local<v8::Context> context, v8::Local<v8::Object> exports) {
  Environment* env = new Environment(isolate, context);
  env->hook_ = node::AddEnvironmentCleanupHook(isolate, Environment::Cleanup, env);
  v8::Local<v8::External> data = NewExternal(isolate, env);
  SetMethod(isolate, context, exports, "futexWaitAsync", WaitAsync, data);
  SetMethod(isolate, context, exports, "cancelWait", CancelWait, data);
}

}  // namespace multiproc
