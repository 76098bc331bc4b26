// Named POSIX shared memory handed to JS as a real SharedArrayBuffer, so Atomics.* on it are real
// atomics between processes. Node-API cannot make an external SharedArrayBuffer (its external
// buffers are plain ArrayBuffers, on which Atomics.wait throws), hence the V8 API here.
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>

namespace multiproc {
namespace {

// Runs on a V8 background thread when the last SharedArrayBuffer over the mapping is collected:
// no JS and no Node calls here, only munmap. `data` carries the mapping's length.
void Unmap(void* base, size_t, void* length) {
  munmap(base, reinterpret_cast<size_t>(length));
}

v8::Local<v8::SharedArrayBuffer> Wrap(v8::Isolate* isolate, void* base, size_t length) {
  std::unique_ptr<v8::BackingStore> store = v8::SharedArrayBuffer::NewBackingStore(
      base, length, Unmap, reinterpret_cast<void*>(length));
  return v8::SharedArrayBuffer::New(isolate, std::move(store));
}

const char* CodeFor(int err) {
  switch (err) {
    case EEXIST: return "ERR_SHM_EXISTS";
    case ENOENT: return "ERR_SHM_NOT_FOUND";
    case ENOSPC: return "ERR_SHM_NO_SPACE";
    case ENOMEM: return "ERR_SHM_NO_SPACE";
    case EFBIG: return "ERR_SHM_NO_SPACE";
    case EACCES: return "ERR_SHM_ACCESS";
    case EINVAL: return "ERR_SHM_INVALID_NAME";
    case ENAMETOOLONG: return "ERR_SHM_INVALID_NAME";
    default: return "ERR_SHM_SYSCALL";
  }
}

bool SizeArg(const v8::FunctionCallbackInfo<v8::Value>& info, int i, size_t* out) {
  double size;
  if (!ArgNumber(info, i, "size", &size)) return false;
  if (size <= 0 || size != std::floor(size) || size > 9007199254740991.0) {
    ThrowCoded(info.GetIsolate(), "ERR_INVALID_ARG_VALUE", "size must be a positive integer");
    return false;
  }
  *out = static_cast<size_t>(size);
  return true;
}

// shmCreate(name, size): a new segment (O_EXCL), its pages reserved now so that a full /dev/shm
// fails here with ENOSPC instead of SIGBUS at the first write later.
void Create(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  std::string name;
  size_t size;
  if (!ArgString(info, 0, "name", &name) || !SizeArg(info, 1, &size)) return;
  int fd = shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    return ThrowCoded(isolate, CodeFor(err), "cannot create shared memory '" + name + "'", err,
                      "shm_open");
  }
  const char* failed = nullptr;
  int err = 0;
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    err = errno;
    failed = "ftruncate";
  } else {
    // posix_fallocate returns the error number instead of setting errno.
    do { err = posix_fallocate(fd, 0, static_cast<off_t>(size)); } while (err == EINTR);
    if (err != 0) failed = "posix_fallocate";
  }
  void* base = MAP_FAILED;
  if (failed == nullptr) {
    base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
      err = errno;
      failed = "mmap";
    }
  }
  close(fd);
  if (failed != nullptr) {
    shm_unlink(name.c_str());
    return ThrowCoded(isolate, CodeFor(err),
                      "cannot allocate " + std::to_string(size) + " bytes of shared memory for '" +
                          name + "'",
                      err, failed);
  }
  info.GetReturnValue().Set(Wrap(isolate, base, size));
}

// shmAttach(name): maps an existing segment whole; its size comes from fstat.
void Attach(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  std::string name;
  if (!ArgString(info, 0, "name", &name)) return;
  int fd = shm_open(name.c_str(), O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    return ThrowCoded(isolate, CodeFor(err), "cannot open shared memory '" + name + "'", err,
                      "shm_open");
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return ThrowCoded(isolate, "ERR_SHM_SYSCALL", "cannot stat '" + name + "'", err, "fstat");
  }
  if (st.st_size <= 0) {
    close(fd);
    return ThrowCoded(isolate, "ERR_SHM_EMPTY", "shared memory '" + name + "' has size 0");
  }
  size_t size = static_cast<size_t>(st.st_size);
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int err = errno;
  close(fd);
  if (base == MAP_FAILED) {
    return ThrowCoded(isolate, CodeFor(err), "cannot map '" + name + "'", err, "mmap");
  }
  info.GetReturnValue().Set(Wrap(isolate, base, size));
}

// shmUnlink(name): removes the name; existing mappings keep working.
void Unlink(const v8::FunctionCallbackInfo<v8::Value>& info) {
  std::string name;
  if (!ArgString(info, 0, "name", &name)) return;
  if (shm_unlink(name.c_str()) != 0) {
    int err = errno;
    return ThrowCoded(info.GetIsolate(), CodeFor(err), "cannot unlink '" + name + "'", err,
                      "shm_unlink");
  }
}

// pipe(): [readFd, writeFd], both close-on-exec. The resource tracker listens on the read end;
// the write end is handed to every child as an explicit stdio slot.
void Pipe(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    int err = errno;
    return ThrowCoded(isolate, "ERR_PIPE", "cannot create a pipe", err, "pipe2");
  }
  v8::Local<v8::Array> result = v8::Array::New(isolate, 2);
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  result->Set(context, 0, v8::Integer::New(isolate, fds[0])).Check();
  result->Set(context, 1, v8::Integer::New(isolate, fds[1])).Check();
  info.GetReturnValue().Set(result);
}

// setParentDeathSignal(signal): the kernel sends `signal` to this process when its parent thread
// dies (prctl(2), PR_SET_PDEATHSIG). Returns getppid() taken after the call, so the caller can see
// whether the parent was already gone before the request took effect.
void SetParentDeathSignal(const v8::FunctionCallbackInfo<v8::Value>& info) {
  double sig;
  if (!ArgNumber(info, 0, "signal", &sig)) return;
  if (prctl(PR_SET_PDEATHSIG, static_cast<unsigned long>(sig)) != 0) {
    int err = errno;
    return ThrowCoded(info.GetIsolate(), "ERR_PRCTL", "cannot set the parent-death signal", err,
                      "prctl");
  }
  info.GetReturnValue().Set(v8::Integer::New(info.GetIsolate(), getppid()));
}

// setCloexec(fd): marks an inherited descriptor close-on-exec, so programs the user spawns with
// child_process do not keep the resource tracker's pipe open.
void SetCloexec(const v8::FunctionCallbackInfo<v8::Value>& info) {
  double fd;
  if (!ArgNumber(info, 0, "fd", &fd)) return;
  int flags = fcntl(static_cast<int>(fd), F_GETFD);
  if (flags < 0 || fcntl(static_cast<int>(fd), F_SETFD, flags | FD_CLOEXEC) != 0) {
    int err = errno;
    return ThrowCoded(info.GetIsolate(), "ERR_FCNTL", "cannot set FD_CLOEXEC", err, "fcntl");
  }
}

}  // namespace

void InitShm(v8::Isolate* isolate, v8::Local<v8::Context> context, v8::Local<v8::Object> exports) {
  SetMethod(isolate, context, exports, "shmCreate", Create);
  SetMethod(isolate, context, exports, "shmAttach", Attach);
  SetMethod(isolate, context, exports, "shmUnlink", Unlink);
  SetMethod(isolate, context, exports, "pipe", Pipe);
  SetMethod(isolate, context, exports, "setParentDeathSignal", SetParentDeathSignal);
  SetMethod(isolate, context, exports, "setCloexec", SetCloexec);
}

}  // namespace multiproc
