#include "napi/json_value.h"

#include "core/errors.h"

namespace moonlight::napi {

namespace {

// Deeper than any options object; stops a cyclic object before the stack does.
constexpr int kMaxDepth = 64;

nlohmann::ordered_json convert(const Napi::Value& value, const std::string& where, int depth) {
  if (depth > kMaxDepth) fail(ErrorKind::Argument, where + " is nested deeper than " + std::to_string(kMaxDepth) + " levels");
  if (value.IsNull() || value.IsUndefined()) return nullptr;
  if (value.IsBoolean()) return value.As<Napi::Boolean>().Value();
  if (value.IsNumber()) return value.As<Napi::Number>().DoubleValue();
  if (value.IsString()) return value.As<Napi::String>().Utf8Value();
  if (value.IsArray()) {
    Napi::Array array = value.As<Napi::Array>();
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (uint32_t i = 0; i < array.Length(); ++i) {
      list.push_back(convert(array.Get(i), where + "[" + std::to_string(i) + "]", depth + 1));
    }
    return list;
  }
  if (value.IsObject() && !value.IsFunction() && !value.IsTypedArray() && !value.IsArrayBuffer()) {
    Napi::Object object = value.As<Napi::Object>();
    nlohmann::ordered_json fields = nlohmann::ordered_json::object();
    Napi::Array keys = object.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); ++i) {
      const std::string key = keys.Get(i).As<Napi::String>().Utf8Value();
      Napi::Value field = object.Get(key);
      if (!field.IsUndefined()) fields[key] = convert(field, where + "." + key, depth + 1);
    }
    return fields;
  }
  fail(ErrorKind::Argument, where + " must be plain data (numbers, strings, booleans, lists, objects)");
}

}  // namespace

nlohmann::ordered_json toJson(const Napi::Value& value, const std::string& where) { return convert(value, where, 0); }

}  // namespace moonlight::napi
