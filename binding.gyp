# Shim for node-gyp based tooling only: the real build is CMakeLists.txt, driven by cmake-js through
# scripts/build-native.js. This target compiles nothing itself.
{
  "targets": [
    {
      "target_name": "moonlight",
      "type": "none",
      "actions": [
        {
          "action_name": "cmake_js_build",
          "inputs": ["CMakeLists.txt"],
          "outputs": ["build/Release/moonlight.node"],
          "action": ["node", "scripts/build-native.js"]
        }
      ]
    }
  ]
}
