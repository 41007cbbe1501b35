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
  if (value.IsBigInt()) {
    bool lossless = false;
    const int64_t integer = value.As<Napi::BigInt>().Int64Value(&lossless);
    if (!lossless) fail(ErrorKind::Argument, where + " must be an integer that fits in int64");
    return integer;
  }
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

Napi::Value fromJson(Napi::Env env, const nlohmann::ordered_json& json) {
  switch (json.type()) {
    case nlohmann::ordered_json::value_t::boolean:
      return Napi::Boolean::New(env, json.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
    case nlohmann::ordered_json::value_t::number_unsigned:
    case nlohmann::ordered_json::value_t::number_float:
      return Napi::Number::New(env, json.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Napi::String::New(env, json.get_ref<const std::string&>());
    case nlohmann::ordered_json::value_t::array: {
      Napi::Array array = Napi::Array::New(env, json.size());
      for (size_t i = 0; i < json.size(); ++i) array.Set(static_cast<uint32_t>(i), fromJson(env, json[i]));
      return array;
    }
    case nlohmann::ordered_json::value_t::object: {
      Napi::Object object = Napi::Object::New(env);
      for (const auto& [key, value] : json.items()) object.Set(key, fromJson(env, value));
      return object;
    }
    default:
      return env.Null();
  }
}

}  // namespace moonlight::napi
