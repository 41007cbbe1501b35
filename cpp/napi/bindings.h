// Each bindings file registers its functions on the addon's exports.
#pragma once

#include <napi.h>

namespace moonlight::napi {

void registerTensorFactories(Napi::Env env, Napi::Object exports);
void registerTensorOps(Napi::Env env, Napi::Object exports);
void registerAsyncTensorWork(Napi::Env env, Napi::Object exports);
void registerIo(Napi::Env env, Napi::Object exports);
void registerOptim(Napi::Env env, Napi::Object exports);
void registerModels(Napi::Env env, Napi::Object exports);
void registerData(Napi::Env env, Napi::Object exports);
void registerDist(Napi::Env env, Napi::Object exports);
void registerGenerate(Napi::Env env, Napi::Object exports);
void registerAnalysis(Napi::Env env, Napi::Object exports);
void registerPlan(Napi::Env env, Napi::Object exports);

}  // namespace moonlight::napi
