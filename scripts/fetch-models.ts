// npm run models:fetch [-- --from ARCHIVE.tar.gz] [--url URL] [--dir DIR] [--verify DIR]
// Installs the official DeepFilterNet3 ONNX release into DATA_DIR/models/DeepFilterNet3 after
// checking the SHA-256 of each graph; --verify only checks an existing model directory.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { DFN3_ARCHIVE_URL, MODEL_FILES, ModelFetchError, checkModelFiles, downloadArchive, extractModelFiles, installModelFiles, whatToDo } from '../src/denoise/dfn/model-fetch.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { from: { type: 'string' }, url: { type: 'string', default: DFN3_ARCHIVE_URL }, dir: { type: 'string' }, verify: { type: 'string' } },
  });
  const target = path.resolve(values.dir ?? path.join(loadConfig().dataDir, 'models', 'DeepFilterNet3'));
  if (values.verify) {
    const dir = path.resolve(values.verify);
    const files = new Map<string, Buffer>();
    for (const f of MODEL_FILES) {
      const bytes = await readFile(path.join(dir, f)).catch(() => null);
      if (bytes) files.set(f, bytes);
    }
    const problems = checkModelFiles(files);
    if (problems.length > 0) {
      console.error(`${dir}: the DeepFilterNet3 model is not usable:\n  - ${problems.join('\n  - ')}\n${whatToDo(target)}`);
      return 1;
    }
    console.log(`${dir}: enc.onnx, erb_dec.onnx, df_dec.onnx match the official release (SHA-256), config.ini present`);
    return 0;
  }
  try {
    let archive: Uint8Array;
    if (values.from) {
      archive = await readFile(values.from).catch((e: NodeJS.ErrnoException) => {
        throw new ModelFetchError(`cannot read ${values.from}: ${e.code ?? e.message}`);
      });
    } else {
      console.log(`downloading ${values.url} …`);
      archive = await downloadArchive(values.url!);
    }
    const files = extractModelFiles(archive);
    const problems = checkModelFiles(files);
    if (problems.length > 0) throw new ModelFetchError(`the archive does not hold the official DeepFilterNet3 model:\n  - ${problems.join('\n  - ')}`);
    await installModelFiles(files, target);
    console.log(`installed DeepFilterNet3 (SHA-256 verified) into ${target}`);
    return 0;
  } catch (e) {
    if (!(e instanceof ModelFetchError)) throw e;
    console.error(`models:fetch failed: ${e.message}\n${whatToDo(target)}`);
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`models:fetch failed: ${(e as Error).stack ?? e}`);
    process.exit(1);
  },
);
