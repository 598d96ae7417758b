// @jitsi/rnnoise-wasm ships no types: an Emscripten module factory.
declare module '@jitsi/rnnoise-wasm/dist/rnnoise.js' {
  const createRNNWasmModule: (overrides?: Record<string, unknown>) => Promise<unknown>;
  export default createRNNWasmModule;
}
