// The DSP and architecture parameters of a DeepFilterNet export, read from its config.ini.
// Only the values the host DSP needs; names follow libDF / config.ini.

export interface DfnParams {
  sr: number;
  fftSize: number;
  hopSize: number;
  nbErb: number;
  nbDf: number;
  /** Time constant (s) of the exponential feature normalization. */
  normTau: number;
  minNbErbFreqs: number;
  dfOrder: number;
  dfLookahead: number;
  convLookahead: number;
}

/** The DeepFilterNet3 release values; used by DSP tests that must not depend on a model file. */
export const DFN3_PARAMS: DfnParams = {
  sr: 48_000,
  fftSize: 960,
  hopSize: 480,
  nbErb: 32,
  nbDf: 96,
  normTau: 1,
  minNbErbFreqs: 2,
  dfOrder: 5,
  dfLookahead: 2,
  convLookahead: 2,
};

/** Parses config.ini text; throws naming the missing or bad key. */
export function parseDfnConfig(ini: string): DfnParams {
  const sections = new Map<string, Map<string, string>>();
  let current = new Map<string, string>();
  sections.set('', current);
  for (const raw of ini.split(/\r?\n/)) {
    const line = raw.replace(/[;#].*$/, '').trim();
    if (line === '') continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1]!.trim().toLowerCase(), current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`config.ini: cannot parse line "${raw.trim()}"`);
    current.set(line.slice(0, eq).trim().toLowerCase(), line.slice(eq + 1).trim());
  }
  const df = sections.get('df');
  const net = sections.get('deepfilternet');
  if (!df) throw new Error('config.ini: missing [df] section');
  const num = (key: string, ...from: (Map<string, string> | undefined)[]): number => {
    for (const s of from) {
      const v = s?.get(key);
      if (v !== undefined) {
        const n = Number(v);
        if (!Number.isFinite(n)) throw new Error(`config.ini: ${key} = "${v}" is not a number`);
        return n;
      }
    }
    throw new Error(`config.ini: missing ${key}`);
  };
  const p: DfnParams = {
    sr: num('sr', df),
    fftSize: num('fft_size', df),
    hopSize: num('hop_size', df),
    nbErb: num('nb_erb', df),
    nbDf: num('nb_df', df),
    normTau: num('norm_tau', df),
    minNbErbFreqs: num('min_nb_erb_freqs', df),
    dfOrder: num('df_order', df, net),
    dfLookahead: num('df_lookahead', df, net),
    convLookahead: num('conv_lookahead', net, df),
  };
  if (p.fftSize !== 2 * p.hopSize) {
    throw new Error(`config.ini: only 50 % overlap is supported (fft_size ${p.fftSize}, hop_size ${p.hopSize})`);
  }
  if (p.dfLookahead >= p.dfOrder) throw new Error('config.ini: df_lookahead must be smaller than df_order');
  return p;
}

/** Model lookahead in hops: gains and deep-filter output apply to the frame this many hops back (tract.rs). */
export function lookaheadHops(p: DfnParams): number {
  return Math.max(p.convLookahead, p.dfLookahead);
}
