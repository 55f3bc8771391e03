/**
 * GET /rest/calls/company.api, /rest/calls/missed.api and /rest/calls/users.api
 * (seed 003): a JSON array of call records (see history.ts). A bad parameter
 * is answered 400 with a plain-text message naming it, as the seed's errors
 * are plain text. The session check is the middleware's in front.
 */
import type { Context, Hono } from 'hono';
import { HistoryParamError, callEntryRecord, historyRecord, parseHistoryQuery, userRecord, type HistoryDeps, type HistoryQueries, type HistoryQuery } from './history.js';

type Answer = (q: HistoryQuery) => Array<Record<string, unknown>>;

export function installHistoryRoutes(app: Hono<any>, queries: HistoryQueries, deps: HistoryDeps): void {
  const route = (pauses: boolean, answer: Answer) => (c: Context) => {
    let q: HistoryQuery;
    try {
      q = parseHistoryQuery(c.req.queries(), { pauses });
    } catch (err) {
      if (err instanceof HistoryParamError) return c.text(err.message, 400);
      throw err;
    }
    return c.json(answer(q));
  };
  app.get('/rest/calls/company.api', route(false, (q) => queries.company(q).map((e) => callEntryRecord(e, deps))));
  app.get('/rest/calls/missed.api', route(false, (q) => queries.missed(q).map((call) => historyRecord(call, deps))));
  app.get('/rest/calls/users.api', route(true, (q) => queries.users(q).map((e) => userRecord(e, deps))));
}
