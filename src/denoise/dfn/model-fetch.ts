// Getting the official DeepFilterNet3 ONNX release onto a machine: download the archive
// (models/DeepFilterNet3_onnx.tar.gz of the DeepFilterNet repository), pick the three graphs and
// config.ini out of it, check each graph's SHA-256, and install them atomically.
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DFN3_GRAPHS, verifyGraph } from './model-files.js';

export const DFN3_ARCHIVE_URL = 'https://github.com/Rikorose/DeepFilterNet/raw/main/models/DeepFilterNet3_onnx.tar.gz';
export const MODEL_FILES = [...DFN3_GRAPHS, 'config.ini'] as const;

export class ModelFetchError extends Error {
  override name = 'ModelFetchError';
}

/** The advice printed with every failure. */
export function whatToDo(targetDir: string): string {
  return [
    'What to do:',
    `  - on a machine with internet access run \`npm run models:fetch\` (it installs into ${targetDir}), or`,
    `  - download ${DFN3_ARCHIVE_URL} yourself and run \`npm run models:fetch -- --from DeepFilterNet3_onnx.tar.gz\`, or`,
    '  - point DFN_MODEL_DIR at a directory holding enc.onnx, erb_dec.onnx, df_dec.onnx and config.ini of the official release.',
    'Until then the server runs RNNoise instead of DeepFilterNet3.',
  ].join('\n');
}

export async function downloadArchive(url: string, timeoutMs = 60_000): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new ModelFetchError(`cannot download ${url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
  }
  if (!res.ok) throw new ModelFetchError(`cannot download ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Reads a .tar.gz (ustar/GNU) and returns the model files found in it, by base name. */
export function extractModelFiles(tarGz: Uint8Array): Map<string, Buffer> {
  let tar: Buffer;
  try {
    tar = gunzipSync(tarGz);
  } catch (e) {
    throw new ModelFetchError(`the archive is not gzip data (${(e as Error).message})`);
  }
  const wanted = new Set<string>(MODEL_FILES);
  const found = new Map<string, Buffer>();
  let off = 0;
  let longName: string | null = null;
  while (off + 512 <= tar.length) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, len: number) => header.subarray(start, start + len).toString('latin1').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    const prefix = field(345, 155);
    let name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longName = null;
    const data = tar.subarray(off + 512, off + 512 + size);
    if (data.length < size) throw new ModelFetchError('the archive is truncated');
    if (type === 'L') longName = data.toString('latin1').replace(/\0.*$/s, '');
    else if ((type === '0' || type === '') && wanted.has(path.posix.basename(name))) {
      name = path.posix.basename(name);
      found.set(name, Buffer.from(data));
    }
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return found;
}

/** Checks presence and hashes; returns the problems (empty when the set is good). */
export function checkModelFiles(files: Map<string, Buffer>): string[] {
  const problems: string[] = [];
  for (const f of MODEL_FILES) if (!files.has(f)) problems.push(`${f} is missing`);
  for (const g of DFN3_GRAPHS) {
    const bytes = files.get(g);
    const p = bytes ? verifyGraph(g, bytes) : null;
    if (p) problems.push(p);
  }
  return problems;
}

/** Writes the files into a fresh sibling directory, then swaps it into place. */
export async function installModelFiles(files: Map<string, Buffer>, targetDir: string): Promise<void> {
  await mkdir(path.dirname(targetDir), { recursive: true });
  const staging = await mkdtemp(`${targetDir}.partial-`);
  try {
    for (const f of MODEL_FILES) await writeFile(path.join(staging, f), files.get(f)!);
    await rm(targetDir, { recursive: true, force: true });
    await rename(staging, targetDir);
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw e;
  }
}
