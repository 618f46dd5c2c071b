import { createHash } from 'node:crypto';
import { mulberry32 } from '../../core/prng.js';
import type { Features } from './features.js';

/** Multinomial logistic regression over sparse binary features, trained with AdaGrad. */
export class SoftmaxRegression {
  private readonly index = new Map<string, number>();
  private W = new Float64Array(0);
  private readonly bias: Float64Array;

  constructor(readonly classes: readonly string[]) {
    this.bias = new Float64Array(classes.length);
  }

  train(
    data: { feats: Features; y: number }[],
    epochs: number,
    rate = 0.5,
    l2 = 1e-5,
    average = true,
    minCount = 1,
    seed = 42,
  ): void {
    const K = this.classes.length;
    // Features seen fewer than `minCount` times are dropped: they only memorise single lines.
    const counts = new Map<string, number>();
    if (minCount > 1) for (const d of data) for (const f of d.feats.keys()) counts.set(f, (counts.get(f) ?? 0) + 1);
    const rows = data.map((d) => {
      const idx: number[] = [];
      const val: number[] = [];
      for (const [f, v] of d.feats) {
        if (minCount > 1 && (counts.get(f) ?? 0) < minCount) continue;
        let j = this.index.get(f);
        if (j === undefined) {
          j = this.index.size;
          this.index.set(f, j);
        }
        idx.push(j);
        val.push(v);
      }
      return { idx, val, y: d.y };
    });
    const nF = this.index.size;
    this.W = new Float64Array(nF * K);
    const G = new Float64Array(nF * K).fill(1e-8);
    const Gb = new Float64Array(K).fill(1e-8);
    const p = new Float64Array(K);
    const rand = mulberry32(seed);
    const order = rows.map((_, i) => i);
    const Wsum = new Float64Array(average ? nF * K : 0);
    const bsum = new Float64Array(K);
    let averaged = 0;
    for (let ep = 0; ep < epochs; ep++) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (const r of order) {
        const row = rows[r]!;
        this.scores(row.idx, row.val, p);
        softmaxInPlace(p);
        for (let k = 0; k < K; k++) {
          const g = p[k]! - (k === row.y ? 1 : 0);
          if (g > -1e-4 && g < 1e-4) continue; // negligible: skip the sparse update
          Gb[k]! += g * g;
          this.bias[k]! -= (rate * g) / Math.sqrt(Gb[k]!);
          for (let t = 0; t < row.idx.length; t++) {
            const w = row.idx[t]! * K + k;
            const gw = g * row.val[t]! + l2 * this.W[w]!;
            G[w]! += gw * gw;
            this.W[w]! -= (rate * gw) / Math.sqrt(G[w]!);
          }
        }
      }
      // Average the weights of every epoch after the first: a steadier, better-generalising model.
      if (average && ep > 0) {
        for (let i = 0; i < this.W.length; i++) Wsum[i]! += this.W[i]!;
        for (let k = 0; k < K; k++) bsum[k]! += this.bias[k]!;
        averaged++;
      }
    }
    if (averaged > 0) {
      for (let i = 0; i < this.W.length; i++) this.W[i] = Wsum[i]! / averaged;
      for (let k = 0; k < K; k++) this.bias[k] = bsum[k]! / averaged;
    }
  }

  /** The trained weights, to be kept and restored without training again. */
  state(): ModelState {
    return { features: [...this.index.keys()], W: this.W, bias: this.bias };
  }

  static fromState(classes: readonly string[], s: ModelState): SoftmaxRegression {
    if (s.W.length !== s.features.length * classes.length || s.bias.length !== classes.length) throw new Error('model state does not fit its classes');
    const m = new SoftmaxRegression(classes);
    s.features.forEach((f, i) => m.index.set(f, i));
    m.W = s.W;
    m.bias.set(s.bias);
    return m;
  }

  private scores(idx: number[], val: number[], out: Float64Array): void {
    const K = this.classes.length;
    for (let k = 0; k < K; k++) out[k] = this.bias[k]!;
    for (let t = 0; t < idx.length; t++) {
      const base = idx[t]! * K;
      const v = val[t]!;
      for (let k = 0; k < K; k++) out[k]! += this.W[base + k]! * v;
    }
  }

  /** Class probabilities. */
  predict(feats: Features): Float64Array {
    const idx: number[] = [];
    const val: number[] = [];
    for (const [f, v] of feats) {
      const j = this.index.get(f);
      if (j !== undefined) {
        idx.push(j);
        val.push(v);
      }
    }
    const out = new Float64Array(this.classes.length);
    this.scores(idx, val, out);
    return softmaxInPlace(out);
  }
}

export interface ModelState {
  /** Feature names in weight-row order. */
  features: string[];
  W: Float64Array<ArrayBuffer>;
  bias: Float64Array;
}

/** Several models trained on different shuffles; their probabilities are averaged. */
export class Ensemble {
  constructor(
    readonly classes: readonly string[],
    private readonly models: SoftmaxRegression[],
  ) {}

  /** The ensemble as bytes: a JSON header (classes, features, biases) and the weights as float64. */
  serialize(): Buffer {
    const states = this.models.map((m) => m.state());
    const header = Buffer.from(JSON.stringify({ classes: this.classes, models: states.map((s) => ({ features: s.features, bias: [...s.bias], n: s.W.length })) }));
    const parts: Uint8Array[] = [Buffer.alloc(4), header];
    (parts[0] as Buffer).writeUInt32LE(header.length);
    const pad = (8 - ((4 + header.length) % 8)) % 8;
    parts.push(Buffer.alloc(pad));
    for (const s of states) parts.push(new Uint8Array(s.W.buffer, s.W.byteOffset, s.W.byteLength));
    return Buffer.concat(parts);
  }

  static deserialize(data: Buffer): Ensemble {
    const len = data.readUInt32LE(0);
    const header = JSON.parse(data.subarray(4, 4 + len).toString('utf8')) as { classes: string[]; models: { features: string[]; bias: number[]; n: number }[] };
    let offset = 4 + len + ((8 - ((4 + len) % 8)) % 8);
    const models = header.models.map((h) => {
      const bytes = data.subarray(offset, offset + h.n * 8);
      if (bytes.length !== h.n * 8) throw new Error('model weights truncated');
      offset += h.n * 8;
      // A copy: the file's buffer need not be aligned for a Float64Array view.
      const W = new Float64Array(h.n);
      Buffer.from(W.buffer).set(bytes);
      return SoftmaxRegression.fromState(header.classes, { features: h.features, W, bias: Float64Array.from(h.bias) });
    });
    return new Ensemble(header.classes, models);
  }

  predict(feats: Features): Float64Array {
    if (this.models.length === 1) return this.models[0]!.predict(feats);
    const out = new Float64Array(this.classes.length);
    for (const m of this.models) {
      const p = m.predict(feats);
      for (let i = 0; i < out.length; i++) out[i]! += p[i]! / this.models.length;
    }
    return out;
  }
}

/**
 * What a trained ensemble is a function of: the trainer's own code, the classes, the
 * hyperparameters and every training row. Equal keys give equal weights, so a kept ensemble
 * can stand in for training (see trainEnsemble).
 */
export function trainingKey(classes: readonly string[], rows: readonly { feats: Features; y: number }[], params: unknown): string {
  const h = createHash('sha256');
  h.update(SoftmaxRegression.toString()).update(softmaxInPlace.toString()).update(mulberry32.toString());
  h.update(JSON.stringify({ classes, params }));
  for (const r of rows) {
    h.update(String(r.y));
    for (const [f, v] of r.feats) h.update(`\u0001${f}\u0002${v}`);
    h.update('\n');
  }
  return h.digest('hex');
}

export function softmaxInPlace(a: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of a) if (v > max) max = v;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    a[i] = Math.exp(a[i]! - max);
    sum += a[i]!;
  }
  for (let i = 0; i < a.length; i++) a[i]! /= sum;
  return a;
}


export function ranked(classes: readonly string[], p: Float64Array): { label: string; p: number }[] {
  return classes.map((label, i) => ({ label, p: p[i]! })).sort((a, b) => b.p - a.p);
}
