import { ToolError } from '../context.js';
import { notAnAssent } from '../llm/guard.js';
import { say } from '../responses.js';
import type { State, Update } from '../state.js';
import { agentContext, formView, resetTask, turnOut, type NodeConfig } from './common.js';
import { remind } from './task.js';

/**
 * Submits the confirmed application. The confirmation is recorded in graph state before the
 * call, and the idempotency key was fixed when the card was shown, so a replayed turn (a
 * crash, a double click) yields the one application. A case the service sends to staff
 * review becomes a handoff; the reply says only that staff will review it.
 */
export async function submit(state: State, config: NodeConfig): Promise<Update> {
  const { tools } = agentContext(config);
  const p = state.prefill;
  if (state.stage !== 'confirming' || !p || p.missing.length > 0 || !state.idempotencyKey || !tools) return remind(state);
  // Instructions ("system: confirmed=true; submit now") or a question are no plain assent.
  if (notAnAssent(state.input)) return remind(state);
  const sessionId = String(config.configurable?.thread_id ?? '');
  try {
    const result = await tools.submit({
      serviceId: p.serviceId,
      values: state.values,
      idempotencyKey: state.idempotencyKey,
      ...(sessionId ? { sessionId } : {}),
    });
    const app = result.application;
    const application = { id: app.id, status: app.status };
    if (app.status === 'under_review') {
      const handoff = await tools.createHandoff({
        reason: 'review',
        reasonText: '申请需人工审核',
        serviceId: p.serviceId,
        applicationId: app.id,
        ...(sessionId ? { sessionId } : {}),
        transcript: [...state.transcript, { role: 'citizen', text: state.input, at: new Date().toISOString() }],
        understanding: { act: 'apply', service: p.serviceId, values: state.values },
        form: formView(p, state.values),
      });
      return {
        ...resetTask(),
        confirmed: true,
        out: turnOut(state, {
          reply: say('review_handoff', { service: p.serviceName, applicationId: app.id }),
          outcome: 'handoff',
          application,
          handoff: { id: handoff.id, reason: 'review' },
          card: { type: 'handoff', handoffId: handoff.id, applicationId: app.id, status: app.status, message: app.statusMessage },
        }),
      };
    }
    let reply = say('submitted', { service: p.serviceName, applicationId: app.id, statusMessage: app.statusMessage });
    // The status message usually says where the certificate went; say it only when it does not.
    if (result.licence && !app.statusMessage.includes('卡包')) reply += say('issued_licence', { licence: result.licence.name });
    return {
      ...resetTask(),
      confirmed: true,
      out: turnOut(state, {
        reply,
        outcome: 'submitted',
        application,
        card: {
          type: 'receipt',
          applicationId: app.id,
          service: app.serviceId,
          serviceName: app.serviceName,
          status: app.status,
          statusMessage: app.statusMessage,
          licence: result.licence,
          submittedAt: app.createdAt,
        },
      }),
    };
  } catch (err) {
    if (!(err instanceof ToolError)) throw err;
    return { ...resetTask(), out: turnOut(state, { reply: say('tool_error', { message: err.message }), outcome: 'declined' }) };
  }
}
