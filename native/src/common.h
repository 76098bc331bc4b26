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

void InitShm(v8::Local<v8::Object> exports);
void InitFutex(v8::Local<v8::Object> exports);
void InitWaiter(v8::Local<v8::Object> exports);
void InitThreads(v8::Local<v8::Object> exports);

}  // namespace multiproc
