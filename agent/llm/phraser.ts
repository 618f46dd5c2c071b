import type { Logger } from 'pino';
import { LlmError, type LlmClient } from './client.js';
import { checkRewording, consultUnsure, earlyReject, placeholderize, type RewordingRequest } from './guard.js';
import { loadPrompt } from './prompts.js';

/**
 * Wording: the graph decides what to say (a template filled with the turn's facts); the model
 * only rewords it. The model is shown the template with every fact hidden behind a
 * placeholder, is bound to no tools, and its rewording is accepted only if guard.ts finds it
 * keeps every fact and adds none. Otherwise — and on any model failure — the template stands.
 * A reworded guide answer that says what the retrieved guide text does not is replaced by an
 * honest "not sure, ask a person / 12345" reply.
 */
export interface PhraseRequest {
  /** The reply the graph decided on. */
  template: string;
  /** Facts of the turn: hidden from the model, and each one in the template must survive. */
  facts: readonly string[];
  /** Shown to the model and kept verbatim (the service name). */
  keep?: readonly string[];
  /** `consult`: a guide answer, checked against `support` (the retrieved text). */
  kind: 'task' | 'consult';
  support?: string;
}

export interface PhraseResult {
  reply: string;
  /** model: the accepted rewording; template: the template as given; unsure: the honest reply. */
  by: 'model' | 'template' | 'unsure';
  reason?: string;
}

export interface ReplyPhraser {
  phrase(req: PhraseRequest): Promise<PhraseResult>;
}

export function createPhraser(client: LlmClient, opts: { log?: Logger } = {}): ReplyPhraser {
  const log = opts.log?.child({ component: 'llm' });
  return {
    async phrase(req) {
      const placeholdered = placeholderize(req.template, req.facts);
      const check: RewordingRequest = {
        template: req.template,
        placeholdered,
        facts: req.facts,
        kind: req.kind,
        ...(req.keep ? { keep: req.keep } : {}),
        ...(req.support !== undefined ? { support: req.support } : {}),
      };
      const system = req.kind === 'consult' ? `${loadPrompt('phrase')}\n\n${loadPrompt('phrase-consult')}` : loadPrompt('phrase');
      let text: string;
      try {
        let early: string | null = null;
        const r = await client.text('phrase', { system, user: `原回复：\n<<<\n${placeholdered.text}\n>>>` }, (soFar) => {
          early = earlyReject(soFar, req);
          return early === null;
        });
        if (r.stoppedEarly) return rejected(early ?? 'stopped');
        text = r.text;
      } catch (err) {
        if (err instanceof LlmError) return { reply: req.template, by: 'template', reason: err.reason };
        throw err;
      }
      const verdict = checkRewording(text, check);
      if (verdict.ok) return { reply: verdict.reply, by: 'model' };
      if (verdict.unsupported) {
        log?.warn({ llm: 'phrase', reason: redact(verdict.reason) }, 'reworded guide answer not supported by the retrieved text; saying so honestly');
        return { reply: consultUnsure(), by: 'unsure', reason: verdict.reason };
      }
      return rejected(verdict.reason);

      function rejected(reason: string): PhraseResult {
        log?.warn({ llm: 'phrase', reason: redact(reason) }, 'rewording rejected; template used');
        return { reply: req.template, by: 'template', reason };
      }
    },
  };
}

/** Reasons quote what the model wrote; logs keep only the kind of problem. */
function redact(reason: string): string {
  return reason.replace(/"[^"]*"/g, '"…"').replace(/\(".*?"\)/g, '(…)');
}
