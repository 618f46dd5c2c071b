import { getService } from '../../core/catalogue.js';
import type { Prefill } from '../../tools/contract.js';
import type { AgentContext } from '../context.js';
import type { State, Update } from '../state.js';
import { emptyTurn, type Turn } from '../turn.js';

/** What a node reads of its run: the per-turn context (see AgentContext) and the thread id. */
export interface NodeConfig {
  context?: unknown;
  configurable?: Record<string, unknown>;
}

export function agentContext(config: NodeConfig): AgentContext {
  const ctx = config.context as AgentContext | undefined;
  if (!ctx?.nlu) throw new Error('Agent run context missing');
  return ctx;
}

export function serviceName(id: string | null | undefined): string {
  return (id && getService(id)?.name) || '该事项';
}

/** Builds this turn's output, with the act and service of the state filled in. */
export function turnOut(state: State, partial: Partial<Turn> & Pick<Turn, 'reply'>): Turn {
  return emptyTurn({ act: state.nlu?.act ?? 'apply', service: state.service, ...partial });
}

/** A state update that ends the current task (nothing half-done carries into the next one). */
export function resetTask(): Update {
  return { stage: 'idle', values: {}, prefill: null, awaiting: null, candidates: [], idempotencyKey: null, confirmed: false, misses: 0 };
}

/** The pre-filled form as staff and the confirmation card show it (identifiers masked). */
export function formView(prefill: Prefill | null, values: Record<string, string>): Record<string, unknown> {
  if (!prefill) return {};
  const fields = prefill.fields
    .filter((f) => f.applies)
    .map((f) => ({ key: f.key, label: f.label, source: f.source, value: f.display ?? values[f.key] ?? null }));
  return { serviceId: prefill.serviceId, serviceName: prefill.serviceName, fields, missing: prefill.missing };
}

export function profileSummary(prefill: Prefill): string {
  return prefill.fields
    .filter((f) => f.source === 'profile' && f.applies && f.display)
    .map((f) => `${f.label} ${f.display}`)
    .join('，');
}
