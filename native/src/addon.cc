// Entry point of the multiproc addon. The module is context-aware (NODE_MODULE_INIT) so every
// worker thread gets its own instance; per-environment state lives in waiter.cc.
#include "common.h"

#include <cmath>
#include <cstring>

namespace multiproc {

void ThrowCoded(v8::Isolate* isolate, const char* code, const std::string& message, int errnum,
                const char* syscall) {
  std::string text = message;
  if (errnum != 0) {
    text += ": ";
    text += std::strerror(errnum);
  }
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::Value> error =
      v8::Exception::Error(v8::String::NewFromUtf8(isolate, text.c_str()).ToLocalChecked());
  v8::Local<v8::Object> obj = error.As<v8::Object>();
  auto set = [&](const char* key, v8::Local<v8::Value> value) {
    obj->Set(context, v8::String::NewFromUtf8(isolate, key).ToLocalChecked(), value).Check();
  };
  set("code", v8::String::NewFromUtf8(isolate, code).ToLocalChecked());
  if (errnum != 0) set("errno", v8::Integer::New(isolate, errnum));
  if (syscall != nullptr) set("syscall", v8::String::NewFromUtf8(isolate, syscall).ToLocalChecked());
  isolate->ThrowException(error);
}

bool ArgString(const v8::FunctionCallbackInfo<v8::Value>& info, int i, const char* what,
               std::string* out) {
  if (info.Length() <= i || !info[i]->IsString()) {
    ThrowCoded(info.GetIsolate(), "ERR_INVALID_ARG_TYPE", std::string(what) + " must be a string");
    return false;
  }
  v8::String::Utf8Value value(info.GetIsolate(), info[i]);
  out->assign(*value, value.length());
  return true;
}

bool ArgNumber(const v8::FunctionCallbackInfo<v8::Value>& info, int i, const char* what,
               double* out) {
  if (info.Length() <= i || !info[i]->IsNumber()) {
    ThrowCoded(info.GetIsolate(), "ERR_INVALID_ARG_TYPE", std::string(what) + " must be a number");
    return false;
  }
  *out = info[i].As<v8::Number>()->Value();
  if (std::isnan(*out)) {
    ThrowCoded(info.GetIsolate(), "ERR_INVALID_ARG_VALUE", std::string(what) + " must not be NaN");
    return false;
  }
  return true;
}

bool ArgWord(const v8::FunctionCallbackInfo<v8::Value>& info, int arrayArg, int indexArg,
             int32_t** out) {
  v8::Isolate* isolate = info.GetIsolate();
  if (info.Length() <= arrayArg || !info[arrayArg]->IsInt32Array()) {
    ThrowCoded(isolate, "ERR_INVALID_ARG_TYPE", "array must be an Int32Array");
    return false;
  }
  double index;
  if (!ArgNumber(info, indexArg, "index", &index)) return false;
  v8::Local<v8::Int32Array> array = info[arrayArg].As<v8::Int32Array>();
  if (index < 0 || index != std::floor(index) || index >= static_cast<double>(array->Length())) {
    ThrowCoded(isolate, "ERR_OUT_OF_RANGE", "index is out of the array's bounds");
    return false;
  }
  char* base = static_cast<char*>(array->Buffer()->Data());
  if (base == nullptr) {
    ThrowCoded(isolate, "ERR_INVALID_STATE", "the array's buffer is detached");
    return false;
  }
  *out = reinterpret_cast<int32_t*>(base + array->ByteOffset()) + static_cast<size_t>(index);
  return true;
}

void SetMethod(v8::Isolate* isolate, v8::Local<v8::Context> context, v8::Local<v8::Object> exports,
               const char* name, v8::FunctionCallback fn, v8::Local<v8::Value> data) {
  v8::Local<v8::Function> f =
      v8::FunctionTemplate::New(isolate, fn, data)->GetFunction(context).ToLocalChecked();
  v8::Local<v8::String> key =
      v8::String::NewFromUtf8(isolate, name, v8::NewStringType::kInternalized).ToLocalChecked();
  f->SetName(key);
  exports->Set(context, key, f).Check();
}

}  // namespace multiproc

// Runs once per environment that loads the addon, and again in the same environment when a second
// copy of the package loads the same file (a symlinked install, issue #22): everything it sets up
// must tolerate that (threads.cc, waiter.cc).
NODE_MODULE_INIT(/* exports, module, context */) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  multiproc::InitShm(isolate, context, exports);
  multiproc::InitFutex(isolate, context, exports);
  multiproc::InitWaiter(isolate, context, exports);
  multiproc::InitThreads(isolate, context, exports);
}
