// Which worker threads of this process are alive. Owners recorded in shared memory as (pid,
// threadId) need this: a thread stopped by worker.terminate() runs no JS on its way out, but its
// Node environment's cleanup hooks still run, and the addon's statics are shared by every thread
// of the process (one dlopen), so a process-wide set can answer "is thread N still running?".
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <mutex>
#include <unordered_set>

#include "common.h"

namespace multiproc {
namespace {

std::mutex live_mutex;
std::unordered_set<int64_t> live_threads;

void Forget(void* arg) {
  std::lock_guard<std::mutex> lock(live_mutex);
  live_threads.erase(reinterpret_cast<intptr_t>(arg));
}

// registerThread(threadId): marks the calling thread alive until its environment is torn down.
// Idempotent: a second copy of the package in one thread (a symlinked install loads the library
// twice, issue #22) calls it again, and Node aborts the process on a cleanup hook added twice
// with the same (function, argument) pair. threadIds are never reused within a process, so an id
// already in the set was registered by this very environment.
void RegisterThread(const v8::FunctionCallbackInfo<v8::Value>& info) {
  double id;
  if (!ArgNumber(info, 0, "threadId", &id)) return;
  intptr_t key = static_cast<intptr_t>(id);
  {
    std::lock_guard<std::mutex> lock(live_mutex);
    if (!live_threads.insert(key).second) return;
  }
  node::AddEnvironmentCleanupHook(info.GetIsolate(), Forget, reinterpret_cast<void*>(key));
}

// threadAlive(threadId): whether a thread of this process registered that id and still runs.
void ThreadAlive(const v8::FunctionCallbackInfo<v8::Value>& info) {
  double id;
  if (!ArgNumber(info, 0, "threadId", &id)) return;
  std::lock_guard<std::mutex> lock(live_mutex);
  info.GetReturnValue().Set(live_threads.count(static_cast<intptr_t>(id)) != 0);
}

// gettid(): the kernel's id of the calling thread (the pid for a process's main thread). Unlike
// worker_threads' threadId it is unique across processes and visible in /proc while the thread
// runs, so an owner recorded by it can be checked from any process.
void GetTid(const v8::FunctionCallbackInfo<v8::Value>& info) {
  info.GetReturnValue().Set(static_cast<int32_t>(syscall(SYS_gettid)));
}

// schedYield(): gives the core to another runnable thread, if any (spin loops call it, so a peer
// waiting for this very core runs at once instead of after our spin).
void SchedYield(const v8::FunctionCallbackInfo<v8::Value>&) {
  sched_yield();
}

}  // namespace

void InitThreads(v8::Isolate* isolate, v8::Local<v8::Context> context, v8::Local<v8::Object> exports) {
  SetMethod(isolate, context, exports, "registerThread", RegisterThread);
  SetMethod(isolate, context, exports, "threadAlive", ThreadAlive);
  SetMethod(isolate, context, exports, "gettid", GetTid);
  SetMethod(isolate, context, exports, "schedYield", SchedYield);
}

}  // namespace multiproc
