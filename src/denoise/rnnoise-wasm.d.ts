// @jitsi/rnnoise-wasm ships no types: an Emscripten module factory.
declare module '@jitsi/rnnoise-wasm/dist/rnnoise-sync.js' {
  const createRNNWasmModuleSync: (overrides?: Record<string, unknown>) => unknown;
  export default createRNNWasmModuleSync;
}
