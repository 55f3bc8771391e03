/**
 * HTTP routes of the contact book, /rest/crm/contacts/v2 (seed 003, "CRM
 * teler. Контакты"). Errors are plain text naming the field
 * (`limit: must be a whole number from 0 to 60`), with 400 for a bad input,
 * 404 for an unknown contact or note, 413 for a body over the limit and 415
 * for a body that is not declared as JSON. Bodies are JSON: Content-Type
 * application/json (or another JSON media type), or none at all when the body
 * parses as JSON. Authentication happens in front of these routes.
 */
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import {
  contactInputSchema,
  describeIssue,
  MAX_BATCH,
  MAX_FIELDS,
  MAX_LIMIT,
  MAX_TEXT,
  noteInputSchema,
  phoneKey,
  type ContactQuery,
  type ContactStore,
} from './store.js';

export const CONTACTS_BASE = '/rest/crm/contacts/v2';
/** Largest body of a single contact or note. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Largest body of POST /batch (up to 1000 contacts). */
export const MAX_BATCH_BODY_BYTES = 16 * 1024 * 1024;

export interface ContactRouteOptions {
  /** The address of a contact, sent as `Location` when one is created (default: its path under /rest/crm/contacts/v2). */
  urlOf?: (id: number) => string;
}

const ID_RE = /^\d{1,15}$/;

class HttpProblem {
  constructor(
    readonly status: 400 | 404 | 413 | 415,
    readonly message: string,
  ) {}
}

const bad = (message: string) => new HttpProblem(400, message);
const contactNotFound = (id: number) => new HttpProblem(404, `contact ${id} not found`);

function pathId(c: Context, name: string): number {
  const raw = c.req.param(name) ?? '';
  if (!ID_RE.test(raw)) throw bad(`${name}: must be 1 to 15 digits`);
  return Number(raw);
}

// ---------------------------------------------------------------- query strings

const queryText = z
  .string({ error: (i) => (i.input === undefined ? 'required' : 'must be a string') })
  .max(MAX_TEXT, `must be at most ${MAX_TEXT} characters`)
  .refine((s) => !/[\0\r\n]/.test(s), 'must not contain NUL, CR or LF');
const offsetParam = z.string().regex(/^\d{1,15}$/, 'must be a whole number >= 0').transform(Number);
const limitParam = z
  .string()
  .regex(/^\d{1,15}$/, `must be a whole number from 0 to ${MAX_LIMIT}`)
  .transform(Number)
  .refine((n) => n <= MAX_LIMIT, `must be a whole number from 0 to ${MAX_LIMIT}`);
const msParam = z.string().regex(/^\d{1,15}$/, 'must be a time in epoch milliseconds').transform(Number);

const pageShape = { offset: offsetParam.optional(), limit: limitParam.optional() };

const listQuerySchema = z.object({
  ...pageShape,
  field: z.array(queryText).max(MAX_FIELDS, `must be given at most ${MAX_FIELDS} times`).optional(),
  searchText: queryText.optional(),
  searchNoteText: queryText.optional(),
  filterBy: z.enum(['0', '1'], 'must be 0 or 1').optional(),
  from: msParam.optional(),
  to: msParam.optional(),
});

const phoneQuerySchema = z.object({
  ...pageShape,
  otherLegNum: queryText.refine((s) => phoneKey(s) !== null, 'must contain at least 3 digits'),
});

/** The query string as one value per name (`field` may repeat); an empty value counts as absent. */
function queryOf(c: Context, repeatable: readonly string[] = []): Record<string, string | string[]> {
  const all = c.req.queries();
  const out: Record<string, string | string[]> = {};
  for (const [name, values] of Object.entries(all)) {
    const given = values.filter((v) => v !== '');
    if (!given.length) continue;
    if (repeatable.includes(name)) out[name] = given;
    else if (given.length > 1) throw bad(`${name}: must be given once`);
    else out[name] = given[0]!;
  }
  return out;
}

function parseWith<S extends z.ZodType>(schema: S, input: unknown, root: string): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw bad(describeIssue(r.error, root));
}

// ---------------------------------------------------------------- bodies

function isJsonType(header: string | undefined): boolean {
  if (header === undefined || header.trim() === '') return true;
  const type = header.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json' || type === 'text/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The JSON body, at most `maxBytes`, strict UTF-8. */
async function jsonBody(c: Context, maxBytes: number): Promise<unknown> {
  if (!isJsonType(c.req.header('content-type'))) throw new HttpProblem(415, 'Content-Type: must be application/json');
  const declared = c.req.header('content-length');
  if (declared && /^\d+$/.test(declared) && Number(declared) > maxBytes) throw new HttpProblem(413, `body: must be at most ${maxBytes} bytes`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const stream = c.req.raw.body;
  if (stream) {
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new HttpProblem(413, `body: must be at most ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  }
  const bytes = Buffer.concat(chunks);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw bad('body: must be valid UTF-8');
  }
  if (text.trim() === '') throw bad('body: required (a JSON object)');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw bad('body: must be JSON');
  }
}

const batchSchema = z.object(
  {
    merge: z.union([z.literal(0), z.literal(1)], { error: (i) => (i.input === undefined ? 'required' : 'must be 0 or 1') }),
    contacts: z
      .array(z.unknown(), { error: (i) => (i.input === undefined ? 'required' : 'must be an array') })
      .max(MAX_BATCH, `must hold at most ${MAX_BATCH} contacts`),
  },
  { error: 'must be a JSON object' },
);

// ---------------------------------------------------------------- routes

type Handler = (c: Context) => Response | Promise<Response>;

function guarded(handler: Handler): Handler {
  return async (c) => {
    try {
      return await handler(c);
    } catch (err) {
      if (err instanceof HttpProblem) return c.text(err.message, err.status);
      throw err;
    }
  };
}

export function installContactRoutes(app: Hono<any>, store: ContactStore, opts: ContactRouteOptions = {}): void {
  const base = CONTACTS_BASE;
  const urlOf = opts.urlOf ?? ((id: number) => `${base}/${id}`);

  const list = guarded((c) => {
    const q = parseWith(listQuerySchema, queryOf(c, ['field']), 'query');
    const query: ContactQuery = {
      offset: q.offset,
      limit: q.limit,
      field: q.field,
      searchText: q.searchText,
      searchNoteText: q.searchNoteText,
      filterBy: q.filterBy === undefined ? undefined : q.filterBy === '0' ? 0 : 1,
      from: q.from,
      to: q.to,
    };
    return c.json(store.list(query));
  });

  const save = guarded(async (c) => {
    const input = parseWith(contactInputSchema, await jsonBody(c, MAX_BODY_BYTES), 'body');
    if (input.id != null) {
      const id = input.id;
      if (!store.update({ ...input, id })) throw contactNotFound(id);
      return c.json(1);
    }
    const created = store.create(input);
    c.header('Location', urlOf(created.id));
    return c.json(created);
  });

  app.get(`${base}/searchByOLNum`, guarded((c) => {
    const q = parseWith(phoneQuerySchema, queryOf(c), 'query');
    return c.json(store.searchByPhone(q.otherLegNum, { offset: q.offset, limit: q.limit }));
  }));

  app.post(`${base}/batch`, guarded(async (c) => {
    const body = parseWith(batchSchema, await jsonBody(c, MAX_BATCH_BODY_BYTES), 'body');
    return c.json(store.batch(body.merge, body.contacts), 201);
  }));

  app.get(base, list);
  app.get(`${base}/`, list);
  app.post(base, save);
  app.post(`${base}/`, save);

  app.get(`${base}/:id`, guarded((c) => {
    const id = pathId(c, 'id');
    const contact = store.get(id);
    if (!contact) throw contactNotFound(id);
    return c.json(contact);
  }));

  app.delete(`${base}/:id`, guarded((c) => {
    const id = pathId(c, 'id');
    if (!store.delete(id)) throw contactNotFound(id);
    return c.json(1);
  }));

  app.get(`${base}/:id/notes`, guarded((c) => {
    const id = pathId(c, 'id');
    const notes = store.notes(id);
    if (!notes) throw contactNotFound(id);
    return c.json(notes);
  }));

  app.post(`${base}/:id/notes`, guarded(async (c) => {
    const id = pathId(c, 'id');
    const input = parseWith(noteInputSchema, await jsonBody(c, MAX_BODY_BYTES), 'body');
    const note = store.addNote(id, input);
    if (!note) throw contactNotFound(id);
    return c.json(note);
  }));

  app.put(`${base}/:id/notes`, guarded(async (c) => {
    const id = pathId(c, 'id');
    const input = parseWith(noteInputSchema, await jsonBody(c, MAX_BODY_BYTES), 'body');
    if (input.id == null) throw bad('id: required (the id of the note)');
    const noteId = input.id;
    if (!store.editNote(id, { ...input, id: noteId })) {
      throw store.has(id) ? new HttpProblem(404, `note ${noteId} not found`) : contactNotFound(id);
    }
    return c.json(1);
  }));

  app.delete(`${base}/:cntId/notes/:noteId`, guarded((c) => {
    const cntId = pathId(c, 'cntId');
    const noteId = pathId(c, 'noteId');
    if (!store.deleteNote(cntId, noteId)) {
      throw store.has(cntId) ? new HttpProblem(404, `note ${noteId} not found`) : contactNotFound(cntId);
    }
    return c.json(1);
  }));
}
