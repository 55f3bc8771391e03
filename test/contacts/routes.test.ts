/** /rest/crm/contacts/v2 over a real Hono app: every endpoint, the seed's shapes and types, paging, searches, batch, notes, and the refusals. */
import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/index.js';
import { installContactRoutes } from '../../src/contacts/routes.js';
import { ContactStore } from '../../src/contacts/store.js';

const BASE = '/rest/crm/contacts/v2';

let db: Db;
let store: ContactStore;
let app: Hono;
let clock: number;

beforeEach(() => {
  db = openDatabase(':memory:');
  clock = 1_443_597_876_000;
  store = new ContactStore(db, () => clock);
  app = new Hono();
  installContactRoutes(app, store);
});
afterEach(() => db.$client.close());

const count = (table: string) => db.$client.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
const phones = () => db.$client.prepare('SELECT digits, contact_id AS contactId FROM contact_phones ORDER BY contact_id, digits').all();

type Json = Record<string, unknown>;

function send(method: string, path: string, body?: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  return app.request(path, {
    method,
    headers: body === undefined ? {} : headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function json<T = Json>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return JSON.parse(text) as T;
}

async function refused(res: Response, status: number, message: RegExp): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  expect(text).toMatch(message);
}

/** The seed's contact: every member with its type. */
function expectContactShape(c: Json): void {
  expect(Object.keys(c)).toEqual(['id', 'firstName', 'lastName', 'companyTitle', 'lastModified', 'responsibleUserId', 'dateCreate', 'createUserId', 'fields']);
  expect(Number.isInteger(c.id)).toBe(true);
  for (const k of ['firstName', 'lastName', 'companyTitle']) expect(c[k] === null || typeof c[k] === 'string', k).toBe(true);
  for (const k of ['responsibleUserId', 'createUserId']) expect(c[k] === null || Number.isInteger(c[k]), k).toBe(true);
  expect(Number.isInteger(c.lastModified)).toBe(true);
  expect(Number.isInteger(c.dateCreate)).toBe(true);
  expect(Array.isArray(c.fields)).toBe(true);
  for (const f of c.fields as Json[]) {
    expect(Object.keys(f)).toEqual(['id', 'enumCode', 'values']);
    expect(Number.isInteger(f.id)).toBe(true);
    expect(typeof f.enumCode).toBe('string');
    for (const v of f.values as Json[]) {
      expect(Object.keys(v)).toEqual(['id', 'enumValueCode', 'lastModified', 'value']);
      expect(Number.isInteger(v.id)).toBe(true);
      expect(typeof v.enumValueCode).toBe('string');
      expect(Number.isInteger(v.lastModified)).toBe(true);
      expect(typeof v.value).toBe('string');
    }
  }
}

const NOTE_TYPES: Record<string, 'number' | 'string' | 'string|null'> = {
  id: 'number',
  elementId: 'number',
  elementType: 'number',
  noteType: 'number',
  dateCreate: 'number',
  lastModified: 'number',
  content: 'string|null',
  responsibleUserId: 'number',
  otherLegNum: 'string',
  otherLegName: 'string|null',
  status: 'string|null',
  errorMsg: 'string|null',
  uuid: 'string',
  end: 'number',
  legId: 'number',
  logicDirection: 'number',
  billSec: 'number',
  recordLink: 'string',
  trunk: 'string',
  tag: 'string',
};

function expectNoteShape(n: Json): void {
  expect(Object.keys(n)).toEqual(Object.keys(NOTE_TYPES));
  for (const [k, type] of Object.entries(NOTE_TYPES)) {
    if (type === 'number') expect(Number.isInteger(n[k]), k).toBe(true);
    else if (type === 'string') expect(typeof n[k], k).toBe('string');
    else expect(n[k] === null || typeof n[k] === 'string', k).toBe(true);
  }
}

const SEED_CONTACT = {
  lastModified: 1443597876359,
  responsibleUserId: 18,
  dateCreate: 1443597876000,
  createUserId: 59,
  fields: [
    { enumCode: 'Имя', values: [{ enumValueCode: 'Имя', value: 'Петр' }] },
    { enumCode: 'Фамилия', values: [{ enumValueCode: 'Фамилия', value: 'Петров' }] },
    { enumCode: 'Телефон', values: [{ enumValueCode: 'Рабочий', value: '+380440000000' }, { enumValueCode: 'Мобильный', value: '8 (900) 123-45-67' }] },
    { enumCode: 'Компания', values: [{ enumValueCode: 'Компания', value: 'Phonet' }] },
  ],
};

async function create(body: Json = SEED_CONTACT): Promise<Json> {
  return json(await send('POST', `${BASE}/`, body));
}

describe('GET /{id}', () => {
  it('answers the contact in the seed shape; 404 for an unknown one', async () => {
    const made = await create();
    const got = await json(await send('GET', `${BASE}/${made.id}`));
    expectContactShape(got);
    expect(got).toEqual(made);
    expect(got).toMatchObject({ firstName: null, lastName: null, companyTitle: null, responsibleUserId: 18, createUserId: 59, dateCreate: clock, lastModified: clock });
    await refused(await send('GET', `${BASE}/424242`), 404, /^contact 424242 not found$/);
  });

  it.each(['abc', '-1', '1.5', '1234567890123456', '%20'])('id %j → 400', async (id) => {
    await refused(await send('GET', `${BASE}/${id}`), 400, /^id: must be 1 to 15 digits$/);
  });
});

describe('POST / (create and update)', () => {
  it('without id: creates, answers the stored contact with all its ids and a Location', async () => {
    const res = await send('POST', `${BASE}/`, SEED_CONTACT);
    expect(res.headers.get('location')).toBe(`${BASE}/1`);
    const c = await json(res);
    expectContactShape(c);
    expect(c.id).toBe(1);
    const ids = (c.fields as Json[]).flatMap((f) => [f.id, ...(f.values as Json[]).map((v) => v.id)]);
    expect(new Set(ids).size).toBe(9);
    expect(store.get(1)).toEqual(c);
    expect(phones()).toEqual([
      { digits: '0440000000', contactId: 1 },
      { digits: '9001234567', contactId: 1 },
    ]);
  });

  it('also at the path without a trailing slash, and the Location follows urlOf', async () => {
    const other = new Hono();
    installContactRoutes(other, store, { urlOf: (id) => `https://pbx.example/rest/crm/contacts/v2/${id}` });
    const res = await other.request(BASE, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ firstName: 'Анна' }) });
    expect(res.status).toBe(200);
    expect(res.headers.get('location')).toBe('https://pbx.example/rest/crm/contacts/v2/1');
  });

  it('with id: updates, answers 1, keeps the ids it was sent, rewrites the phone index', async () => {
    const made = await create();
    const fields = made.fields as Json[];
    clock += 60_000;
    const body = { ...made, firstName: 'Пётр', fields: [fields[0], { ...fields[2], values: [{ enumValueCode: 'Рабочий', value: '+7 495 000-00-00' }] }] };
    expect(await json(await send('POST', BASE, body))).toBe(1);
    const got = await json(await send('GET', `${BASE}/${made.id}`));
    expectContactShape(got);
    expect(got.firstName).toBe('Пётр');
    expect(got.lastModified).toBe(clock);
    expect(got.dateCreate).toBe(made.dateCreate);
    expect((got.fields as Json[]).map((f) => f.id)).toEqual([fields[0]!.id, fields[2]!.id]);
    expect(phones()).toEqual([{ digits: '4950000000', contactId: made.id }]);
  });

  it('id 0 (the seed examples\' "none") creates', async () => {
    const c = await json(await send('POST', `${BASE}/`, { id: 0, firstName: 'A', fields: [{ id: 0, enumCode: 'Имя', values: [{ id: 0, value: 'A' }] }] }));
    expect(c.id).toBe(1);
    expect((c.fields as Json[])[0]!.id).toBe(1);
  });

  it('with an unknown id: 404 and nothing stored', async () => {
    await refused(await send('POST', `${BASE}/`, { id: 7068, firstName: 'X' }), 404, /^contact 7068 not found$/);
    expect(count('contacts')).toBe(0);
  });

  it.each<[string, unknown, RegExp]>([
    ['a string id', { id: '7068' }, /^id: must be a number$/],
    ['a fractional id', { id: 1.5 }, /^id: must be a whole number$/],
    ['a negative id', { id: -1 }, /^id: must be a positive id \(or 0 for none\)$/],
    ['a number as a name', { firstName: 5 }, /^firstName: must be a string$/],
    ['a CR/LF in a name', { firstName: 'Петр\r\nX-Header: 1' }, /^firstName: must not contain NUL, CR or LF$/],
    ['a NUL in a company', { companyTitle: 'a\u0000b' }, /^companyTitle: must not contain NUL, CR or LF$/],
    ['a string over 1000 characters', { lastName: 'x'.repeat(1001) }, /^lastName: must be at most 1000 characters$/],
    ['a lone surrogate', { lastName: 'a\ud800' }, /^lastName: must be valid Unicode$/],
    ['fields not an array', { fields: {} }, /^fields: must be an array$/],
    ['a field without enumCode', { fields: [{ values: [] }] }, /^fields\[0\]\.enumCode: required$/],
    ['a value that is a number', { fields: [{ enumCode: 'Телефон', values: [{ value: 79001234567 }] }] }, /^fields\[0\]\.values\[0\]\.value: must be a string$/],
    ['an LF in a value', { fields: [{ enumCode: 'Имя', values: [{ value: 'a\nb' }] }] }, /^fields\[0\]\.values\[0\]\.value: must not contain NUL, CR or LF$/],
    ['101 fields', { fields: Array.from({ length: 101 }, () => ({ enumCode: 'x', values: [] })) }, /^fields: must hold at most 100 fields$/],
    ['51 values', { fields: [{ enumCode: 'x', values: Array.from({ length: 51 }, () => ({ value: 'v' })) }] }, /^fields\[0\]\.values: must hold at most 50 values$/],
    ['an array body', [SEED_CONTACT], /^body: must be a JSON object$/],
    ['not JSON', '{"firstName": "Петр"', /^body: must be JSON$/],
    ['an empty body', '', /^body: required/],
  ])('%s → 400', async (_, body, message) => {
    await refused(await send('POST', `${BASE}/`, body), 400, message);
    expect(count('contacts')).toBe(0);
  });

  it('100 fields of 50 values and 1000-character strings are accepted', async () => {
    const fields = Array.from({ length: 100 }, (_, i) => ({ enumCode: `f${i}`, values: Array.from({ length: 50 }, () => ({ value: 'v' })) }));
    const c = await create({ firstName: 'x'.repeat(1000), fields });
    expect((c.fields as Json[]).length).toBe(100);
  });

  it('a body not declared as JSON is 415; a body without Content-Type is read as JSON', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      await refused(await send('POST', `${BASE}/`, { firstName: 'A' }, { 'content-type': type }), 415, /^Content-Type: must be application\/json$/);
    }
    expect(count('contacts')).toBe(0);
    // a byte body carries no Content-Type of its own
    const untyped = (text: string) => app.request(`${BASE}/`, { method: 'POST', body: new TextEncoder().encode(text) });
    const c = await json(await untyped(JSON.stringify({ firstName: 'A' })));
    expect(c.firstName).toBe('A');
    const d = await json(await send('POST', `${BASE}/`, { firstName: 'B' }, { 'content-type': 'application/json; charset=utf-8' }));
    expect(d.firstName).toBe('B');
    await refused(await untyped('firstName=A'), 400, /^body: must be JSON$/);
  });

  it('a body over 1 MiB is 413', async () => {
    await refused(await send('POST', `${BASE}/`, JSON.stringify({ firstName: 'A', pad: 'x'.repeat(1024 * 1024) })), 413, /^body: must be at most 1048576 bytes$/);
  });

  it('invalid UTF-8 is 400', async () => {
    const bytes = new Uint8Array([...Buffer.from('{"firstName":"'), 0xff, ...Buffer.from('"}')]);
    const res = await app.request(`${BASE}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes });
    await refused(res, 400, /^body: must be valid UTF-8$/);
  });
});

describe('a hostile name', () => {
  it('CR/LF never gets in; quotes and angle brackets are stored and stripped by callerName', async () => {
    const hostile = { firstName: 'Evil"\r\nAction: Originate', fields: [{ enumCode: 'Телефон', values: [{ value: '89001234567' }] }] };
    await refused(await send('POST', `${BASE}/`, hostile), 400, /^firstName: must not contain NUL, CR or LF$/);
    const batch = await json(await send('POST', `${BASE}/batch`, { merge: 0, contacts: [hostile] }), 201);
    expect(batch).toEqual({ succeeded: 0, failed: 1 });
    expect(count('contacts')).toBe(0);
    expect(store.callerName('89001234567')).toBeUndefined();

    const c = await create({ firstName: '"Boss" <sip:666@evil>', lastName: 'Smith\\', fields: hostile.fields });
    expect(c.firstName).toBe('"Boss" <sip:666@evil>');
    expect(store.byPhone('+79001234567')).toEqual({ id: c.id, name: '"Boss" <sip:666@evil> Smith\\', companyName: null, num: '89001234567' });
    expect(store.callerName('+79001234567')).toBe('Boss sip:666@evil Smith');
  });
});

describe('GET / (list)', () => {
  async function seed(n: number): Promise<void> {
    for (let i = 1; i <= n; i++) {
      clock = 1_000_000 + i * 1000;
      await create({ firstName: `Имя${i}`, fields: [{ enumCode: 'Телефон', values: [{ value: `8900000${String(i).padStart(4, '0')}` }] }] });
    }
  }
  const ids = async (query: string) => (await json<Json[]>(await send('GET', `${BASE}/${query}`))).map((c) => c.id);

  it('a JSON array of contacts in the seed shape, at both paths', async () => {
    await seed(2);
    for (const path of [BASE, `${BASE}/`]) {
      const list = await json<Json[]>(await send('GET', path));
      expect(list).toHaveLength(2);
      list.forEach(expectContactShape);
    }
    await json<Json[]>(await send('GET', `${BASE}?searchText=`));
  });

  it('paging: default 30, limit up to 60, offset', async () => {
    await seed(65);
    expect(await ids('')).toHaveLength(30);
    expect(await ids('?limit=60')).toHaveLength(60);
    expect(await ids('?limit=0')).toEqual([]);
    expect(await ids('?limit=3')).toEqual([65, 64, 63]);
    expect(await ids('?offset=63&limit=5')).toEqual([2, 1]);
    expect(await ids('?offset=100')).toEqual([]);
  });

  it.each<[string, RegExp]>([
    ['limit=61', /^limit: must be a whole number from 0 to 60$/],
    ['limit=-1', /^limit: must be a whole number from 0 to 60$/],
    ['limit=ten', /^limit: must be a whole number from 0 to 60$/],
    ['offset=-1', /^offset: must be a whole number >= 0$/],
    ['offset=1.5', /^offset: must be a whole number >= 0$/],
    ['offset=1&offset=2', /^offset: must be given once$/],
    ['filterBy=2', /^filterBy: must be 0 or 1$/],
    ['from=yesterday', /^from: must be a time in epoch milliseconds$/],
    ['to=-5', /^to: must be a time in epoch milliseconds$/],
    [`searchText=${'a'.repeat(1001)}`, /^searchText: must be at most 1000 characters$/],
    ['searchText=a%0D%0Ab', /^searchText: must not contain NUL, CR or LF$/],
    ['searchNoteText=a%00', /^searchNoteText: must not contain NUL, CR or LF$/],
  ])('%s → 400', async (query, message) => {
    await refused(await send('GET', `${BASE}/?${query}`), 400, message);
  });

  it('filterBy 0 / 1 with from and to', async () => {
    await seed(5);
    clock = 9_000_000;
    await json(await send('POST', BASE, { id: 2, lastName: 'Изменён' }));
    expect(await ids('?filterBy=0&from=1002000&to=1004000')).toEqual([4, 3, 2]);
    expect(await ids('?filterBy=0&to=1002000')).toEqual([2, 1]);
    expect(await ids('?filterBy=1&from=5000000')).toEqual([2]);
    expect(await ids('?filterBy=1&to=1004000')).toEqual([4, 3, 1]);
    expect(await ids('?filterBy=1')).toEqual([2, 5, 4, 3, 1]);
    expect(await ids('?filterBy=0')).toEqual([5, 4, 3, 2, 1]);
  });

  it('searchText over names and field values, searchNoteText over notes, field limits the fields answered', async () => {
    await create({ firstName: 'Пётр', fields: [{ enumCode: 'Email', values: [{ value: 'petr@example.com' }] }, { enumCode: 'Телефон', values: [{ value: '+79001234567' }] }] });
    await create({ companyTitle: 'ООО Ромашка' });
    await create({ lastName: 'Сидоров' });
    await json(await send('POST', `${BASE}/3/notes`, { content: 'Договор\nподписан' }));
    expect(await ids(`?searchText=${encodeURIComponent('петр')}`)).toEqual([1]);
    expect(await ids('?searchText=EXAMPLE.COM')).toEqual([1]);
    expect(await ids(`?searchText=${encodeURIComponent('900 123-45')}`)).toEqual([1]);
    expect(await ids(`?searchText=${encodeURIComponent('8 (900) 123 45 67')}`)).toEqual([1]);
    expect(await ids(`?searchText=${encodeURIComponent('ромашка')}`)).toEqual([2]);
    expect(await ids(`?searchNoteText=${encodeURIComponent('ДОГОВОР')}`)).toEqual([3]);
    expect(await ids(`?searchNoteText=${encodeURIComponent('договор')}&searchText=${encodeURIComponent('петр')}`)).toEqual([]);
    const [c] = await json<Json[]>(await send('GET', `${BASE}/?searchText=petr&field=Email&field=${encodeURIComponent('Компания')}`));
    expect((c!.fields as Json[]).map((f) => f.enumCode)).toEqual(['Email']);
  });
});

describe('GET /searchByOLNum', () => {
  it('finds the contacts of a phone in every number form, with paging', async () => {
    clock = 1000;
    await create({ firstName: 'A', fields: [{ enumCode: 'Телефон', values: [{ value: '+7 (900) 123-45-67' }] }] });
    clock = 2000;
    await create({ firstName: 'B', fields: [{ enumCode: 'Mobile', values: [{ value: '89001234567' }] }] });
    await create({ firstName: 'C', fields: [{ enumCode: 'Email', values: [{ value: '89001234567@example.com' }] }] });
    for (const form of ['89001234567', '+79001234567', '9001234567', '79001234567', '+7 900 123 45 67']) {
      const list = await json<Json[]>(await send('GET', `${BASE}/searchByOLNum?otherLegNum=${encodeURIComponent(form)}`));
      list.forEach(expectContactShape);
      expect(list.map((c) => c.firstName), form).toEqual(['B', 'A']);
    }
    const page = async (q: string) => (await json<Json[]>(await send('GET', `${BASE}/searchByOLNum?otherLegNum=89001234567&${q}`))).map((c) => c.firstName);
    expect(await page('offset=1')).toEqual(['A']);
    expect(await page('limit=1')).toEqual(['B']);
    expect(await json(await send('GET', `${BASE}/searchByOLNum?otherLegNum=89990000000`))).toEqual([]);
  });

  it.each<[string, RegExp]>([
    ['', /^otherLegNum: required$/],
    ['?otherLegNum=', /^otherLegNum: required$/],
    ['?otherLegNum=12', /^otherLegNum: must contain at least 3 digits$/],
    ['?otherLegNum=101%0D%0A', /^otherLegNum: must not contain NUL, CR or LF$/],
    ['?otherLegNum=101&limit=61', /^limit: must be a whole number from 0 to 60$/],
    ['?otherLegNum=101&offset=-1', /^offset: must be a whole number >= 0$/],
  ])('%j → 400', async (query, message) => {
    await refused(await send('GET', `${BASE}/searchByOLNum${query}`), 400, message);
  });
});

describe('DELETE /{id}', () => {
  it('answers 1 and removes the contact, its phones and notes; 404 after', async () => {
    const a = await create();
    const b = await create({ firstName: 'B', fields: [{ enumCode: 'Phone', values: [{ value: '101' }] }] });
    await json(await send('POST', `${BASE}/${a.id}/notes`, { content: 'x' }));
    expect(await json(await send('DELETE', `${BASE}/${a.id}`))).toBe(1);
    await refused(await send('GET', `${BASE}/${a.id}`), 404, /not found/);
    await refused(await send('DELETE', `${BASE}/${a.id}`), 404, new RegExp(`^contact ${a.id} not found$`));
    await refused(await send('DELETE', `${BASE}/x1`), 400, /^id: must be 1 to 15 digits$/);
    expect(phones()).toEqual([{ digits: '101', contactId: b.id }]);
    expect(count('contact_notes')).toBe(0);
  });
});

describe('POST /batch', () => {
  it('merge 1: an existing id is updated, the rest created; 201 with the counts', async () => {
    const a = await create();
    const res = await send('POST', `${BASE}/batch`, {
      merge: 1,
      contacts: [
        { id: a.id, firstName: 'Обновлён', fields: [{ id: 32049, enumCode: 'Категория', values: [{ id: 33431, enumValueCode: 'Категория', lastModified: 1446027499803, value: 'EMPL' }] }] },
        { id: 7068, firstName: 'Новый' },
        { firstName: 'Второй новый', fields: [{ enumCode: 'Телефон', values: [{ value: '101' }] }] },
      ],
    });
    expect(await json(res, 201)).toEqual({ succeeded: 3, failed: 0 });
    expect(count('contacts')).toBe(3);
    const got = await json(await send('GET', `${BASE}/${a.id}`));
    expect(got.firstName).toBe('Обновлён');
    expect((got.fields as Json[]).map((f) => f.enumCode)).toEqual(['Категория']);
    await refused(await send('GET', `${BASE}/7068`), 404, /not found/);
    expect(phones()).toEqual([{ digits: '101', contactId: 3 }]);
  });

  it('merge 0: every contact is created, and a failing one is counted in failed', async () => {
    const a = await create();
    const res = await send('POST', `${BASE}/batch`, {
      merge: 0,
      contacts: [{ ...a, firstName: 'Копия' }, { firstName: ['not', 'a', 'string'] }, { fields: [{ enumCode: 'Имя', values: [{ value: 'x\ny' }] }] }, 17],
    });
    expect(await json(res, 201)).toEqual({ succeeded: 1, failed: 3 });
    expect(count('contacts')).toBe(2);
    expect((await json(await send('GET', `${BASE}/${a.id}`))).firstName).toBeNull();
  });

  it.each<[string, unknown, RegExp]>([
    ['no merge', { contacts: [] }, /^merge: required$/],
    ['merge 2', { merge: 2, contacts: [] }, /^merge: must be 0 or 1$/],
    ['merge "1"', { merge: '1', contacts: [] }, /^merge: must be 0 or 1$/],
    ['no contacts', { merge: 1 }, /^contacts: required$/],
    ['contacts not an array', { merge: 1, contacts: {} }, /^contacts: must be an array$/],
    ['1001 contacts', { merge: 0, contacts: Array.from({ length: 1001 }, () => ({})) }, /^contacts: must hold at most 1000 contacts$/],
    ['an array', [], /^body: must be a JSON object$/],
  ])('%s → 400', async (_, body, message) => {
    await refused(await send('POST', `${BASE}/batch`, body), 400, message);
    expect(count('contacts')).toBe(0);
  });

  it('1000 contacts are accepted', async () => {
    const contacts = Array.from({ length: 1000 }, (_, i) => ({ firstName: `c${i}`, fields: [{ enumCode: 'Телефон', values: [{ value: `+7900${String(i).padStart(7, '0')}` }] }] }));
    expect(await json(await send('POST', `${BASE}/batch`, { merge: 1, contacts }), 201)).toEqual({ succeeded: 1000, failed: 0 });
    expect(count('contact_phones')).toBe(1000);
  });
});

describe('notes', () => {
  const SEED_NOTE = {
    id: 0,
    elementId: 0,
    elementType: 0,
    noteType: 0,
    dateCreate: 0,
    lastModified: 0,
    content: null,
    responsibleUserId: 0,
    otherLegNum: '',
    otherLegName: null,
    status: null,
    errorMsg: null,
    uuid: '',
    end: 0,
    legId: 0,
    logicDirection: 0,
    billSec: 0,
    recordLink: '',
    trunk: '',
    tag: '',
  };

  it('POST adds a note and answers it with its id, elementId and dates; GET lists them', async () => {
    const c = await create();
    clock += 1000;
    const body = { ...SEED_NOTE, content: 'Клиент просил\nперезвонить', otherLegNum: '+79001234567', billSec: 42, uuid: 'abc-123', responsibleUserId: 18 };
    const note = await json(await send('POST', `${BASE}/${c.id}/notes`, body));
    expectNoteShape(note);
    expect(note).toEqual({ ...body, id: 1, elementId: c.id, dateCreate: clock, lastModified: clock });
    const minimal = await json(await send('POST', `${BASE}/${c.id}/notes`, {}));
    expectNoteShape(minimal);
    expect(minimal).toEqual({ ...SEED_NOTE, id: 2, elementId: c.id, dateCreate: clock, lastModified: clock });
    const list = await json<Json[]>(await send('GET', `${BASE}/${c.id}/notes`));
    list.forEach(expectNoteShape);
    expect(list).toEqual([note, minimal]);
    expect(await json(await send('GET', `${BASE}/${(await create({})).id}/notes`))).toEqual([]);
  });

  it('PUT changes the note named by the body id and answers 1', async () => {
    const c = await create();
    const note = await json(await send('POST', `${BASE}/${c.id}/notes`, { content: 'старое', tag: 'a' }));
    clock += 5000;
    expect(await json(await send('PUT', `${BASE}/${c.id}/notes`, { id: note.id, content: 'новое', status: 'done' }))).toBe(1);
    const [got] = await json<Json[]>(await send('GET', `${BASE}/${c.id}/notes`));
    expectNoteShape(got!);
    expect(got).toEqual({ ...note, content: 'новое', status: 'done', lastModified: clock });
  });

  it('DELETE /{cntId}/notes/{noteId} answers 1', async () => {
    const c = await create();
    const note = await json(await send('POST', `${BASE}/${c.id}/notes`, { content: 'x' }));
    expect(await json(await send('DELETE', `${BASE}/${c.id}/notes/${note.id}`))).toBe(1);
    expect(await json(await send('GET', `${BASE}/${c.id}/notes`))).toEqual([]);
    await refused(await send('DELETE', `${BASE}/${c.id}/notes/${note.id}`), 404, new RegExp(`^note ${note.id} not found$`));
  });

  it('404 for an unknown contact or note, a note of another contact included', async () => {
    const a = await create();
    const b = await create({ firstName: 'B' });
    const note = await json(await send('POST', `${BASE}/${a.id}/notes`, { content: 'x' }));
    await refused(await send('GET', `${BASE}/999/notes`), 404, /^contact 999 not found$/);
    await refused(await send('POST', `${BASE}/999/notes`, { content: 'x' }), 404, /^contact 999 not found$/);
    await refused(await send('PUT', `${BASE}/999/notes`, { id: note.id, content: 'x' }), 404, /^contact 999 not found$/);
    await refused(await send('PUT', `${BASE}/${b.id}/notes`, { id: note.id, content: 'x' }), 404, new RegExp(`^note ${note.id} not found$`));
    await refused(await send('PUT', `${BASE}/${a.id}/notes`, { id: 555, content: 'x' }), 404, /^note 555 not found$/);
    await refused(await send('DELETE', `${BASE}/999/notes/${note.id}`), 404, /^contact 999 not found$/);
    await refused(await send('DELETE', `${BASE}/${b.id}/notes/${note.id}`), 404, new RegExp(`^note ${note.id} not found$`));
    expect(count('contact_notes')).toBe(1);
    expect((await json<Json[]>(await send('GET', `${BASE}/${a.id}/notes`)))[0]!.content).toBe('x');
  });

  it.each<[string, string, string, unknown, RegExp]>([
    ['a bad contact id', 'POST', `${BASE}/abc/notes`, { content: 'x' }, /^id: must be 1 to 15 digits$/],
    ['a bad note id', 'DELETE', `${BASE}/1/notes/n1`, undefined, /^noteId: must be 1 to 15 digits$/],
    ['a bad cntId', 'DELETE', `${BASE}/1x/notes/1`, undefined, /^cntId: must be 1 to 15 digits$/],
    ['PUT without id', 'PUT', `${BASE}/1/notes`, { content: 'x' }, /^id: required/],
    ['PUT with id 0', 'PUT', `${BASE}/1/notes`, { id: 0, content: 'x' }, /^id: required/],
    ['NUL in content', 'POST', `${BASE}/1/notes`, { content: 'a\u0000b' }, /^content: must not contain NUL$/],
    ['CR in otherLegNum', 'POST', `${BASE}/1/notes`, { otherLegNum: '101\r' }, /^otherLegNum: must not contain NUL, CR or LF$/],
    ['a string billSec', 'POST', `${BASE}/1/notes`, { billSec: '12' }, /^billSec: must be a number$/],
    ['a number tag', 'PUT', `${BASE}/1/notes`, { id: 1, tag: 5 }, /^tag: must be a string$/],
    ['content over 10000 characters', 'POST', `${BASE}/1/notes`, { content: 'x'.repeat(10_001) }, /^content: must be at most 10000 characters$/],
    ['not JSON', 'POST', `${BASE}/1/notes`, 'content=x', /^body: must be JSON$/],
  ])('%s → 400', async (_, method, path, body, message) => {
    await create();
    await refused(await send(method, path, body), 400, message);
    expect(count('contact_notes')).toBe(0);
  });
});
