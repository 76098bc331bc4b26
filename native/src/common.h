// Shared helpers for the multiproc addon: coded errors and argument access.
// Every native failure becomes a thrown JS Error with a stable `code` (never abort()).
#pragma once

#include <node.h>
#include <v8.h>

#include <cstdint>
#include <string>

namespace multiproc {

// Throws an Error whose `code` is `code`; with errnum != 0 it also carries `errno` and `syscall`,
// the way Node's own system errors do.
void ThrowCoded(v8::Isolate* isolate, const char* code, const std::string& message,
                int errnum = 0, const char* syscall = nullptr);

// Reads argument `i` as a UTF-8 string; throws ERR_INVALID_ARG_TYPE and returns false otherwise.
bool ArgString(const v8::FunctionCallbackInfo<v8::Value>& info, int i, const char* what,
               std::string* out);

// Reads argument `i` as a finite number; throws ERR_INVALID_ARG_TYPE and returns false otherwise.
bool ArgNumber(const v8::FunctionCallbackInfo<v8::Value>& info, int i, const char* what,
               double* out);

// Resolves (Int32Array, index) to the address of that 32-bit word, checking the bounds.
bool ArgWord(const v8::FunctionCallbackInfo<v8::Value>& info, int arrayArg, int indexArg,
             int32_t** out);

// v8::External with or without a type tag. V8 14.x (Node 26) added the tagged New/Value and
// deprecated the untagged ones, which a later V8 removes; older V8 has only the untagged ones.
// Chosen by what the headers declare (overload resolution on a dependent type), not by a version
// number, so every V8 in between builds too. The tag is V8's default: we use one kind of External.
template <typename E = v8::External>
auto NewExternal(v8::Isolate* isolate, void* value, int) -> decltype(E::New(isolate, value, uint16_t{0})) {
  return E::New(isolate, value, uint16_t{0});
}
template <typename E = v8::External>
v8::Local<v8::External> NewExternal(v8::Isolate* isolate, void* value, long) {
  return E::New(isolate, value);
}
inline v8::Local<v8::External> NewExternal(v8::Isolate* isolate, void* value) {
  return NewExternal<>(isolate, value, 0);
}
template <typename E = v8::External>
auto ExternalValue(v8::Local<E> external, int) -> decltype(external->Value(uint16_t{0})) {
  return external->Value(uint16_t{0});
}
template <typename E = v8::External>
void* ExternalValue(v8::Local<E> external, long) {
  return external->Value();
}
inline void* ExternalValue(v8::Local<v8::Value> data) {
  return ExternalValue<>(data.As<v8::External>(), 0);
}

// Adds exports[name] = a function calling `fn`, with `data` as its info.Data().
void SetMethod(v8::Isolate* isolate, v8::Local<v8::Context> context, v8::Local<v8::Object> exports,
               const char* name, v8::FunctionCallback fn,
               v8::Local<v8::Value> data = v8::Local<v8::Value>());

// Each Init* adds its functions to `exports`. The isolate comes from the caller (NODE_MODULE_INIT
// runs in it): V8 14 (Node 26) removed v8::Object::GetIsolate and v8::Context::GetIsolate.
void InitShm(v8::Isolate* isolate, v8::Local<v8::Context> context, v8::Local<v8::Object> exports);
void InitFutex(v8::Isolate* isolate, v8::Local<v8::Context> context, v8::Local<v8::Object> exports);
void InitWaiter(v8::Isolate* isolate, v8::Local<v8::Context> context, v8::Local<v8::Object> exports);
void InitThreads(v8::Isolate* isolate, v8::Local<v8::Context> context, v8::Local<v8::Object> exports);

}  // namespace multiproc
