// Synchronous futex wait and wake, exported to JS as futexWait / futexWake.
#include "futex.h"

#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cmath>

#include "common.h"

namespace multiproc {

int64_t MonotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

WaitResult FutexWait(int32_t* addr, int32_t expected, double timeout_ms) {
  const bool bounded = timeout_ms >= 0 && std::isfinite(timeout_ms);
  const int64_t deadline = bounded ? MonotonicNs() + static_cast<int64_t>(timeout_ms * 1e6) : 0;
  for (;;) {
    struct timespec rel;
    struct timespec* relp = nullptr;
    if (bounded) {
      int64_t left = deadline - MonotonicNs();
      if (left <= 0) return kWaitTimedOut;
      rel.tv_sec = left / 1000000000LL;
      rel.tv_nsec = left % 1000000000LL;
      relp = &rel;
    }
    long rc = syscall(SYS_futex, addr, FUTEX_WAIT, expected, relp, nullptr, 0);
    if (rc == 0) return kWaitOk;
    if (errno == EAGAIN) return kWaitNotEqual;
    if (errno == ETIMEDOUT) return kWaitTimedOut;
    if (errno != EINTR) return kWaitOk;  // treat anything else as a spurious wake: callers re-check
  }
}

int FutexWake(int32_t* addr, int32_t count) {
  long rc = syscall(SYS_futex, addr, FUTEX_WAKE, count, nullptr, nullptr, 0);
  return rc < 0 ? -errno : static_cast<int>(rc);
}

namespace {

// futexWait(int32Array, index, expected, timeoutMs): 0 ok, 1 not-equal, 2 timed-out.
void Wait(const v8::FunctionCallbackInfo<v8::Value>& info) {
  int32_t* addr;
  double expected, timeout;
  if (!ArgWord(info, 0, 1, &addr) || !ArgNumber(info, 2, "expected", &expected) ||
      !ArgNumber(info, 3, "timeout", &timeout)) {
    return;
  }
  WaitResult r = FutexWait(addr, static_cast<int32_t>(expected), timeout);
  info.GetReturnValue().Set(static_cast<int>(r));
}

// futexWake(int32Array, index, count): how many sleepers were woken.
void Wake(const v8::FunctionCallbackInfo<v8::Value>& info) {
  int32_t* addr;
  double count;
  if (!ArgWord(info, 0, 1, &addr) || !ArgNumber(info, 2, "count", &count)) return;
  int32_t n = count >= INT_MAX || std::isinf(count) ? INT_MAX : static_cast<int32_t>(count);
  int rc = FutexWake(addr, n);
  if (rc < 0) {
    return ThrowCoded(info.GetIsolate(), "ERR_FUTEX", "futex wake failed", -rc, "futex");
  }
  info.GetReturnValue().Set(rc);
}

}  // namespace

void InitFutex(v8::Isolate* isolate, v8::Local<v8::Context> context, v8::Local<v8::Object> exports) {
  SetMethod(isolate, context, exports, "futexWait", Wait);
  SetMethod(isolate, context, exports, "futexWake", Wake);
}

}  // namespace multiproc
