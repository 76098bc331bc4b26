// Linux futex calls on shared (not _PRIVATE) words, so they work between processes.
// A wake sent while nobody sleeps in the kernel is lost: callers always change the word first,
// then wake, and waiters re-check the word (futex(2), "lost wake-up").
#pragma once

#include <cstdint>
#include <ctime>

namespace multiproc {

enum WaitResult : int { kWaitOk = 0, kWaitNotEqual = 1, kWaitTimedOut = 2, kWaitCancelled = 3 };

// Sleeps while *addr == expected, at most timeout_ms (< 0: no limit). Retries on EINTR.
WaitResult FutexWait(int32_t* addr, int32_t expected, double timeout_ms);

// Wakes up to `count` sleepers on addr; returns how many were woken, or -errno.
int FutexWake(int32_t* addr, int32_t count);

int64_t MonotonicNs();

}  // namespace multiproc
