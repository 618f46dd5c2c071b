import { createLocalEngine, type LocalNluEngine } from '../../nlu/engine.js';
import type { DialogueAct } from '../../nlu/types.js';
import { messageText, type ChatRequest, type Purpose, type Script, type StandInReply } from './openai-stand-in.js';

/**
 * TEST STAND-IN, not a language model: a "model" for the OpenAI stand-in that reads each
 * message the way the local engine does and answers in the LLM engine's JSON schema, and that
 * words every reply by returning the template unchanged. Running the conversation set through
 * it checks the LLM path end to end (prompt -> wire protocol -> schema -> validation -> policy)
 * without a model: whatever the local engine gets right, the LLM path must get right too.
 *
 * It sees only what a real model would: the request's text (the masked message and the stated
 * service in question).
 */
export function localReadingModel(engine: LocalNluEngine = createLocalEngine()): Script {
  return (req: ChatRequest, purpose: Purpose): StandInReply => {
    const user = messageText(req, 'user');
    const body = /<<<\n([\s\S]*)\n>>>/.exec(user)?.[1] ?? '';
    if (purpose === 'phrase') return { content: body };
    const service = /当前事项：([a-z0-9_]+)（/.exec(user)?.[1] ?? null;
    const r = engine.understandSync(body, { service });
    return {
      json: {
        act: r.act,
        service: r.service,
        confidence: r.confidence,
        candidates: r.candidates.map((c) => c.service),
        // What a model can say: consent and weak answers are read locally by the LLM engine itself.
        acts: r.acts.filter((a) => a.type !== 'confirm' && !(a.type === 'inform' && a.weak)).map(wire),
      },
    };
  };
}

function wire(a: DialogueAct): Record<string, unknown> {
  const { text, ...rest } = a as DialogueAct & { named?: boolean; described?: boolean };
  const out: Record<string, unknown> = { ...rest, text };
  delete out.named;
  delete out.described;
  return out;
}
