import type { Service } from '../../knowledge/catalogue.js';
import type { ServiceSummary } from '../contract.js';
import type { z } from 'zod';

/**
 * A simple lexical search over the catalogue's names, aliases and departments: exact and
 * contained matches score highest, otherwise character-bigram overlap. The knowledge base's
 * retrieval (pgvector + keywords) replaces this for free-text questions.
 */
const PUNCT = /[\s\p{P}\p{S}]+/gu;
export const normalize = (s: string) => s.toLowerCase().replace(PUNCT, '');

function bigrams(s: string): Set<string> {
  const out = new Set<string>();
  if (s.length === 1) out.add(s);
  for (let i = 0; i + 1 < s.length; i++) out.add(s.slice(i, i + 2));
  return out;
}

function dice(a: string, b: string): number {
  const A = bigrams(a);
  const B = bigrams(b);
  if (!A.size || !B.size) return 0;
  let common = 0;
  for (const g of A) if (B.has(g)) common++;
  return (2 * common) / (A.size + B.size);
}

export function scoreName(query: string, name: string): number {
  const q = normalize(query);
  const n = normalize(name);
  if (!q || !n) return 0;
  if (q === n) return 1;
  if (q.includes(n)) return Math.min(0.95, 0.8 + 0.15 * (n.length / q.length));
  if (n.includes(q)) return 0.55 + 0.3 * (q.length / n.length);
  return 0.7 * dice(q, n);
}

export function scoreService(query: string, s: Service): number {
  let best = 0;
  for (const name of [s.name, ...s.aliases]) best = Math.max(best, scoreName(query, name));
  if (normalize(s.department).includes(normalize(query)) && normalize(query).length >= 2) best = Math.max(best, 0.3);
  return Math.round(best * 1000) / 1000;
}

export function toSummary(s: Service, score?: number): z.infer<typeof ServiceSummary> {
  return { id: s.id, name: s.name, department: s.department, transactable: s.transactable, ...(score === undefined ? {} : { score }) };
}

export function searchCatalogue(catalogue: readonly Service[], query: string, limit = 5, minScore = 0.25): z.infer<typeof ServiceSummary>[] {
  return catalogue
    .map((s, order) => ({ s, order, score: scoreService(query, s) }))
    .filter((x) => x.score >= minScore)
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .slice(0, limit)
    .map((x) => toSummary(x.s, x.score));
}
