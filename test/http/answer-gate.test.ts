/** Work held until the HTTP answers in progress are ready (src/http/answer-gate.ts), alone and in the app. */
import { describe, expect, it } from 'vitest';
import { AnswerGate } from '../../src/http/answer-gate.js';
import { createApp, type ApiMethod } from '../../src/http/app.js';
import { silentLogger } from '../../src/log.js';
import { openDatabase } from '../../src/db/index.js';
import { CallStore } from '../../src/calls/store.js';
import { CallService } from '../../src/calls/service.js';
import { callMethods } from '../../src/calls/http.js';
import type { CallController } from '../../src/calls/controller.js';

/** Lets the event loop run `n` turns (each setImmediate callback queued before this one runs first). */
async function turns(n = 1): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}

describe('AnswerGate', () => {
  it('with no request in progress, runs a task on the next turn, not at once', async () => {
    const gate = new AnswerGate();
    const ran: string[] = [];
    gate.after(() => ran.push('a'));
    expect(ran).toEqual([]);
    await turns();
    expect(ran).toEqual(['a']);
  });

  it('holds tasks while a request is in progress and runs them, in order, on the turn after its answer', async () => {
    const gate = new AnswerGate(10_000);
    const ran: string[] = [];
    gate.begin();
    gate.after(() => ran.push('a'));
    gate.after(() => ran.push('b'));
    await turns(3);
    expect(ran).toEqual([]);
    expect(gate.state).toEqual({ inProgress: 1, held: 2 });
    gate.end();
    expect(ran).toEqual([]);
    await turns();
    expect(ran).toEqual(['a', 'b']);
    expect(gate.state).toEqual({ inProgress: 0, held: 0 });
  });

  it('keeps holding when another request arrives before the release, and waits for the last answer', async () => {
    const gate = new AnswerGate(10_000);
    const ran: string[] = [];
    gate.begin();
    gate.begin();
    gate.after(() => ran.push('a'));
    gate.end();
    await turns(2);
    expect(ran).toEqual([]);
    gate.end();
    gate.begin(); // arrived with the answer, before the release turn
    await turns(2);
    expect(ran).toEqual([]);
    gate.end();
    await turns();
    expect(ran).toEqual(['a']);
  });

  it('never holds a task longer than its limit under steady traffic', async () => {
    const gate = new AnswerGate(20);
    const ran: number[] = [];
    gate.begin();
    const t0 = Date.now();
    gate.after(() => ran.push(Date.now() - t0));
    await new Promise((r) => setTimeout(r, 60));
    expect(ran).toHaveLength(1);
    expect(ran[0]).toBeGreaterThanOrEqual(15);
    expect(gate.state).toEqual({ inProgress: 1, held: 0 });
    // the next task held in the same request starts a new limit
    gate.after(() => ran.push(-1));
    await turns(2);
    expect(ran).toHaveLength(1);
    gate.end();
    await turns();
    expect(ran).toEqual([ran[0], -1]);
  });

  it('runs every held task when one of them throws, and reports each error', async () => {
    const errors: string[] = [];
    const gate = new AnswerGate(10_000, (err) => errors.push((err as Error).message));
    const ran: string[] = [];
    gate.begin();
    gate.after(() => ran.push('a'));
    gate.after(() => {
      throw new Error('first');
    });
    gate.after(() => {
      throw new Error('second');
    });
    gate.after(() => ran.push('d'));
    gate.end();
    await turns();
    expect(ran).toEqual(['a', 'd']);
    expect(errors).toEqual(['first', 'second']);
  });

  it('flush runs the held tasks at once, and nothing when none is held', () => {
    const gate = new AnswerGate(10_000);
    const ran: string[] = [];
    gate.flush();
    gate.begin();
    gate.after(() => ran.push('a'));
    gate.flush();
    expect(ran).toEqual(['a']);
    expect(gate.state).toEqual({ inProgress: 1, held: 0 });
  });

  it('does not count below zero', () => {
    const gate = new AnswerGate();
    gate.end();
    expect(gate.state.inProgress).toBe(0);
  });
});

describe('the app tells the gate when requests arrive and when their answers are ready', () => {
  it('counts a request from its arrival until its answer, and a held task runs after the answer', async () => {
    const gate = new AnswerGate(10_000);
    let release!: () => void;
    const slow: ApiMethod = {
      names: ['slow'],
      handle: () => new Promise((resolve) => (release = () => resolve({ ok: true }))),
    };
    const app = createApp({ log: silentLogger(), apiTokens: [], allowedNetworks: [], methods: [slow], health: () => ({ status: 'ok' }), answerGate: gate });
    const ran: string[] = [];
    const answer = app.request('/api/slow');
    await turns(2);
    expect(gate.state.inProgress).toBe(1);
    gate.after(() => ran.push('placed'));
    await turns(3);
    expect(ran).toEqual([]);
    release();
    const res = await answer;
    expect(res.status).toBe(200);
    expect(gate.state.inProgress).toBe(0);
    await turns();
    expect(ran).toEqual(['placed']);
  });

  it('counts refused requests out again', async () => {
    const gate = new AnswerGate();
    const app = createApp({ log: silentLogger(), apiTokens: ['token-0123456789abcdef'], allowedNetworks: [], methods: [], health: () => ({ status: 'ok' }), answerGate: gate });
    expect((await app.request('/api/anything')).status).toBe(401);
    expect((await app.request('/nowhere')).status).toBe(401);
    expect(gate.state.inProgress).toBe(0);
  });
});

describe('makeCall places its call once the answers in progress are ready', () => {
  it('the originate waits for a slow request in progress, not only for its own answer', async () => {
    const db = openDatabase(':memory:');
    try {
      const gate = new AnswerGate(10_000);
      const log: string[] = [];
      const controller: CallController = {
        mode: 'ami',
        available: true,
        start: async (s) => void log.push(`originate ${s.sip}`),
        reconcile: async () => undefined,
        stop: async () => undefined,
      };
      const store = new CallStore(db);
      const settings = { operatorChannel: 'PJSIP/{sip}', clientChannel: 'Local/{phone}@from-internal', callerId: '{phone}', operatorRingTimeout: 30, clientRingTimeout: 30 };
      const service = new CallService(store, { status: () => 'online' }, controller, settings, silentLogger(), Date.now, undefined, undefined, (task) => gate.after(task));
      let release!: () => void;
      const slow: ApiMethod = { names: ['slow'], handle: () => new Promise((resolve) => (release = () => resolve({ ok: true }))) };
      const methods = [...callMethods(service, store, { sipPattern: /^\d+$/, urlOf: (id) => `http://cb/recordings/${id}` }), slow];
      const app = createApp({ log: silentLogger(), apiTokens: [], allowedNetworks: [], methods, health: () => ({ status: 'ok' }), answerGate: gate });

      const slowAnswer = app.request('/api/slow');
      await turns(2);
      const answers = await Promise.all(
        ['101', '102'].map(async (sip) => {
          const res = await app.request(`/api/makeCall?sip=${sip}&phone=380639920000&order_id=o-${sip}`);
          log.push(`answer ${sip}`);
          return res.status;
        }),
      );
      expect(answers).toEqual([200, 200]);
      // both calls are stored; neither is placed while the slow request is in progress
      expect(db.$client.prepare('SELECT count(*) AS n FROM calls').get()).toEqual({ n: 2 });
      await new Promise((r) => setTimeout(r, 20));
      expect(log).toEqual(['answer 101', 'answer 102']);
      release();
      await slowAnswer;
      await turns(2);
      expect(log).toEqual(['answer 101', 'answer 102', 'originate 101', 'originate 102']);
    } finally {
      db.$client.close();
    }
  });
});
