/**
 * helpdesk (seed 004, "telephony through API" channel): multipart POST to the
 * channel URL. `create_call` at the call's first ringing (action, direction,
 * phone, call_status=ringing, pbx_call_id = the call's uuid, pbx_user_ids[] =
 * the operator rung); the answer's `data.call_id` is kept per call (SQLite,
 * connector_calls). Then `update_call` (call_id, or pbx_call_id when the
 * create had no call_id) with call_status in-progress when the conversation
 * begins, the final status at the end (answered, missed, busy, canceled,
 * failed), and once more with the recording attached as `audio_record` when
 * it is ready. Internal calls are not sent (the channel has no such direction).
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { defineConnector } from './module.js';
import { chainHas, isFirstRinging, type CallSnapshot, type ConnectorContext, type OutboundEvent, type RecordingFacts, type WireRequest } from './types.js';

export type HelpdeskStatus = 'ringing' | 'in-progress' | 'answered' | 'missed' | 'busy' | 'canceled' | 'failed';

/** The helpdesk's final status of a call. */
export function helpdeskFinal(call: CallSnapshot, status: string): HelpdeskStatus {
  switch (status) {
    case 'FINISH':
      return 'answered';
    case 'OPERATOR_BUSY':
    case 'CLIENT_BUSY':
      return 'busy';
    case 'OPERATOR_NOANSWER':
    case 'CLIENT_NOANSWER':
      return 'missed';
    // a caller who gave up is a missed call to call back; an outgoing call given up is canceled
    case 'CLIENT_CANCEL':
      return call.direction === 'incoming' ? 'missed' : 'canceled';
    case 'OPERATOR_CANCEL':
      return 'canceled';
    default:
      return 'failed';
  }
}

export interface HelpdeskField {
  name: string;
  value: string;
}

export interface HelpdeskPlan {
  action: 'create_call' | 'update_call';
  fields: HelpdeskField[];
  /** the recording to attach as audio_record */
  recording?: RecordingFacts;
}

const MIME: Record<string, string> = { wav: 'audio/wav', mp3: 'audio/mpeg', ogg: 'audio/ogg', mp4: 'audio/mp4', gsm: 'audio/x-gsm' };

/** What to send for an event; `remoteId` is the helpdesk's call_id from the create, when known. */
export function helpdeskPlan(ev: OutboundEvent, remoteId: string | undefined): HelpdeskPlan | null {
  const call = ev.call;
  if (!call || call.direction === 'internal') return null;
  const direction = call.direction === 'incoming' ? 'incoming' : 'outgoing';
  const ref: HelpdeskField[] = remoteId !== undefined ? [{ name: 'call_id', value: remoteId }] : [{ name: 'pbx_call_id', value: call.uuid }];
  const user = (sip: string | null): HelpdeskField[] => (sip ? [{ name: 'pbx_user_id', value: sip }] : []);
  if (isFirstRinging(ev)) {
    const rung = typeof ev.data.sip === 'string' && ev.data.sip !== '' ? ev.data.sip : call.sip;
    return {
      action: 'create_call',
      fields: [
        { name: 'action', value: 'create_call' },
        { name: 'direction', value: direction },
        { name: 'phone', value: call.phone ?? '' },
        { name: 'call_status', value: 'ringing' },
        { name: 'pbx_call_id', value: call.uuid },
        ...(rung ? [{ name: 'pbx_user_ids[]', value: rung }] : []),
      ],
    };
  }
  const rang = chainHas(ev, 'OPERATOR_CALLTO', 'CLIENT_CALLTO');
  if (ev.type === 'call.bridged' && rang) {
    return { action: 'update_call', fields: [{ name: 'action', value: 'update_call' }, ...ref, { name: 'call_status', value: 'in-progress' }, ...user(call.sip)] };
  }
  if (ev.type === 'call.finished' && rang) {
    const status = helpdeskFinal(call, String(ev.data.status));
    return { action: 'update_call', fields: [{ name: 'action', value: 'update_call' }, ...ref, { name: 'call_status', value: status }, ...user(call.sip)] };
  }
  if (ev.type === 'recording.ready' && rang) {
    const recording = ev.data.recording as RecordingFacts | undefined;
    if (!recording) return null;
    const status: HelpdeskStatus = call.final ? helpdeskFinal(call, call.status) : 'in-progress';
    return { action: 'update_call', fields: [{ name: 'action', value: 'update_call' }, ...ref, { name: 'call_status', value: status }, ...user(call.sip)], recording };
  }
  return null;
}

/** multipart/form-data, built here so the exact bytes can be signed. */
export function multipart(fields: readonly HelpdeskField[], file?: { field: string; name: string; type: string; data: Buffer }, boundary = `----callbridge${randomBytes(12).toString('hex')}`): { contentType: string; body: Buffer } {
  const quote = (s: string) => s.replace(/["\r\n\\]/g, '_');
  const parts: Buffer[] = [];
  for (const f of fields) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${quote(f.name)}"\r\n\r\n${f.value}\r\n`, 'utf8'));
  }
  if (file) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${quote(file.field)}"; filename="${quote(file.name)}"\r\nContent-Type: ${file.type}\r\n\r\n`, 'utf8'));
    parts.push(file.data, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat(parts) };
}

async function helpdeskRequest(url: string, ev: OutboundEvent, ctx: ConnectorContext): Promise<WireRequest | null> {
  const call = ev.call;
  if (!call) return null;
  const remote = ctx.state.get(call.call_id)?.call_id;
  const plan = helpdeskPlan(ev, remote === undefined || remote === null ? undefined : String(remote));
  if (!plan) return null;
  let file;
  if (plan.recording) {
    // an unreadable file throws: the delivery is retried (the PBX may still be closing it)
    const data = await readFile(plan.recording.file);
    file = { field: 'audio_record', name: basename(plan.recording.file), type: MIME[plan.recording.format.toLowerCase()] ?? 'application/octet-stream', data };
  }
  const { contentType, body } = multipart(plan.fields, file);
  return { url, contentType, body };
}

export const helpdesk = defineConnector({
  type: 'helpdesk',
  options: {},
  create: (settings) => ({
    settings,
    accepts: (ev) => helpdeskPlan(ev, undefined) !== null,
    request: (ev, ctx) => helpdeskRequest(settings.url, ev, ctx),
    delivered: (ev, answer, ctx) => {
      if (!ev.call || !isFirstRinging(ev)) return;
      const id = (JSON.parse(answer.body) as { data?: { call_id?: unknown } })?.data?.call_id;
      if (typeof id === 'number' || (typeof id === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(id))) ctx.state.set(ev.call.call_id, { call_id: id });
    },
  }),
});
