import { mkdtempSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadActsData, loadCatalogue, loadPhrasings, loadTrainingData, NLU_DATA_DIR, phrasingsFile } from './training-data.js';
import { existsSync } from 'node:fs';
import { ACTS } from './types.js';

describe('training data', () => {
  const catalogue = loadCatalogue();
  const data = loadTrainingData();

  it('is a plain list of {text, act, service}', () => {
    expect(data.length).toBeGreaterThan(1000);
    for (const ex of data) {
      expect(Object.keys(ex).sort()).toEqual(['act', 'service', 'text']);
      expect(typeof ex.text).toBe('string');
      expect(ex.text.length).toBeGreaterThan(0);
      expect(ACTS).toContain(ex.act);
    }
  });

  it('covers every act and every catalogue service', () => {
    for (const act of ACTS) expect(data.some((d) => d.act === act)).toBe(true);
    for (const svc of catalogue) {
      const lines = data.filter((d) => d.service === svc.id);
      expect(lines.map((l) => l.text)).toContain(svc.name);
      expect(lines.length, svc.id).toBeGreaterThanOrEqual(20);
    }
  });

  it('has a phrasings.yaml with aliases, apply, consult and progress lines for every service', () => {
    for (const svc of catalogue) {
      expect(existsSync(phrasingsFile(svc.id)), svc.id).toBe(true);
      const ph = loadPhrasings(svc.id);
      const min = svc.transactable ? 25 : 15;
      expect(ph.apply.length + ph.consult.length, svc.id).toBeGreaterThanOrEqual(min);
      expect(ph.aliases.length, svc.id).toBeGreaterThan(0);
      expect(ph.progress.length, svc.id).toBeGreaterThan(0);
    }
  });

  it('includes out-of-scope chatter and generic progress cues', () => {
    const acts = loadActsData();
    expect(acts.exemplars.out_of_scope.length).toBeGreaterThanOrEqual(50);
    expect(acts.exemplars.progress.length).toBeGreaterThanOrEqual(10);
  });

  it('names the file when a data file is invalid', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nlu-data-'));
    cpSync(NLU_DATA_DIR, dir, { recursive: true });
    writeFileSync(join(dir, 'acts.yaml'), 'exemplars:\n  greeting: {not: a list}\n');
    expect(() => loadTrainingData({ nluDataDir: dir })).toThrow(/acts\.yaml/);
  });
});
