// Finds and checks the DeepFilterNet3 model files (enc.onnx, erb_dec.onnx, df_dec.onnx,
// config.ini) in one directory. Every failure names the file and says what to do, because the
// server falls back to RNNoise with this message as the reason.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { type DfnParams, parseDfnConfig } from './dfn-config.js';

export const DFN3_GRAPHS = ['enc.onnx', 'erb_dec.onnx', 'df_dec.onnx'] as const;
export type Dfn3GraphFile = (typeof DFN3_GRAPHS)[number];

/** SHA-256 of the graphs of the official DeepFilterNet3 ONNX release (models/DeepFilterNet3_onnx.tar.gz). */
export const DFN3_SHA256: Readonly<Record<Dfn3GraphFile, string>> = {
  'enc.onnx': '7c5399d3da8a50ebef1c1a0ae421b33376aa5e45d0e92df16da7e83c9c131916',
  'erb_dec.onnx': 'ab669a1d10afe20911728b33053a452071042317a90581092b325da7b2f9d895',
  'df_dec.onnx': '23114ce3b0f6464b763ee62f7bb8aab6b2a129a21eabd5bcfe59413db05f278a',
};

export const FETCH_HINT = 'run `npm run models:fetch` or point DFN_MODEL_DIR at a directory with the official DeepFilterNet3 ONNX files';

export class DfnModelError extends Error {
  override name = 'DfnModelError';
}

export interface DfnModelFiles {
  dir: string;
  params: DfnParams;
  graphs: Record<Dfn3GraphFile, Buffer>;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Checks one graph's bytes against its pinned hash; returns null when fine, else the problem. */
export function verifyGraph(file: Dfn3GraphFile, bytes: Uint8Array): string | null {
  const got = sha256(bytes);
  return got === DFN3_SHA256[file] ? null : `${file} has SHA-256 ${got.slice(0, 12)}…, expected ${DFN3_SHA256[file].slice(0, 12)}… (corrupt, truncated or a different export)`;
}

/**
 * Reads the model directory. `verify: false` skips the hash check (for exports other than the
 * pinned release; the graph rewrite still asserts their structure).
 */
export async function readDfnModel(dir: string, opts: { verify?: boolean } = {}): Promise<DfnModelFiles> {
  const verify = opts.verify ?? true;
  const st = await stat(dir).catch(() => null);
  if (!st?.isDirectory()) throw new DfnModelError(`DeepFilterNet3 model directory ${dir} does not exist: ${FETCH_HINT}`);
  const read = async (name: string): Promise<Buffer> => {
    try {
      return await readFile(path.join(dir, name));
    } catch (e) {
      throw new DfnModelError(`cannot read ${path.join(dir, name)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): ${FETCH_HINT}`);
    }
  };
  let params: DfnParams;
  try {
    params = parseDfnConfig((await read('config.ini')).toString('utf8'));
  } catch (e) {
    if (e instanceof DfnModelError) throw e;
    throw new DfnModelError(`${path.join(dir, 'config.ini')}: ${(e as Error).message}`);
  }
  const graphs = {} as Record<Dfn3GraphFile, Buffer>;
  for (const file of DFN3_GRAPHS) {
    graphs[file] = await read(file);
    const problem = verify ? verifyGraph(file, graphs[file]) : null;
    if (problem) throw new DfnModelError(`${path.join(dir, file)}: ${problem}: ${FETCH_HINT}`);
  }
  return { dir, params, graphs };
}
