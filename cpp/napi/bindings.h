// Each bindings file registers its functions on the addon's exports.
#pragma once

#include <napi.h>

namespace moonlight::napi {

// Every function and handle class of the core's tables (core/api_tables.h).
void registerApi(Napi::Env env, Napi::Object exports);
void registerIo(Napi::Env env, Napi::Object exports);
void registerModels(Napi::Env env, Napi::Object exports);
void registerGenerate(Napi::Env env, Napi::Object exports);
void registerPlan(Napi::Env env, Napi::Object exports);

}  // namespace moonlight::napi
