/**
 * The contact book of the hosted-PBX REST API (/rest/crm/contacts/v2, seed
 * 003): contacts with their fields and values, their notes, and the phone
 * index the calls use to name a caller.
 *
 * A contact is one row of `contacts`; its `fields` column holds the seed's
 * list `[{id, enumCode, values: [{id, enumValueCode, lastModified, value}]}]`
 * as JSON. Field and value ids come from the `contact_ids` sequence; an id the
 * client sends is kept when it already belongs to that contact, any other id
 * (unknown, another contact's, or a repeat within the same contact) is
 * replaced by a new one. `dateCreate` and `lastModified` (epoch ms) are set
 * here, never taken from the client; a value keeps its `lastModified` while
 * its id, `enumValueCode` and `value` stay the same.
 *
 * Phone index (`contact_phones`): every value of a phone field (enumCode
 * "Телефон", "Phone", "Мобильный", "Mobile", or an enumCode / enumValueCode
 * containing "тел" or "phone", case-insensitive) is indexed by phoneKey: its
 * digits only, cut to the last 10 digits when it has 10 or more. So
 * 89001234567, +7 (900) 123-45-67 and 9001234567 are the same phone, and
 * +380440000000 matches 0440000000; short numbers (an extension "101") are
 * kept whole. The index is rewritten in the same transaction as the contact.
 *
 * Text search (searchText, searchNoteText) is case-insensitive over the whole
 * of Unicode ("ПЕТР" finds "Петр") and treats "ё" as "е".
 */
import type { Statement } from 'better-sqlite3';
import { z } from 'zod';
import type { Db } from '../db/index.js';

export const MAX_TEXT = 1000;
/** Note `content` may be longer than other strings, and may hold line breaks. */
export const MAX_NOTE_CONTENT = 10_000;
export const MAX_FIELDS = 100;
export const MAX_VALUES = 50;
export const MAX_BATCH = 1000;
export const DEFAULT_LIMIT = 30;
export const MAX_LIMIT = 60;

// ---------------------------------------------------------------- shapes

export interface ContactValue {
  id: number;
  enumValueCode: string | null;
  lastModified: number;
  value: string | null;
}

export interface ContactField {
  id: number;
  enumCode: string;
  values: ContactValue[];
}

/** A contact as the API answers it (seed 003, "Получение контакта"). */
export interface Contact {
  id: number;
  firstName: string | null;
  lastName: string | null;
  companyTitle: string | null;
  lastModified: number;
  responsibleUserId: number | null;
  dateCreate: number;
  createUserId: number | null;
  fields: ContactField[];
}

/** A note as the API answers it (seed 003, "Получение списка заметок у контакта"). */
export interface Note {
  id: number;
  elementId: number;
  elementType: number;
  noteType: number;
  dateCreate: number;
  lastModified: number;
  content: string | null;
  responsibleUserId: number;
  otherLegNum: string;
  otherLegName: string | null;
  status: string | null;
  errorMsg: string | null;
  uuid: string;
  end: number;
  legId: number;
  logicDirection: number;
  billSec: number;
  recordLink: string;
  trunk: string;
  tag: string;
}

// ---------------------------------------------------------------- input validation

const LINE_OR_NUL = /[\0\r\n]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const typeError = (what: string) => (issue: { input?: unknown }) => (issue.input === undefined ? 'required' : `must be ${what}`);

/** A one-line string: at most MAX_TEXT characters, no NUL, CR or LF, well-formed Unicode. */
const text = z
  .string({ error: typeError('a string') })
  .max(MAX_TEXT, `must be at most ${MAX_TEXT} characters`)
  .refine((s) => !LINE_OR_NUL.test(s), 'must not contain NUL, CR or LF')
  .refine((s) => !LONE_SURROGATE.test(s), 'must be valid Unicode');

/** Note content: line breaks allowed, NUL never. */
const noteContent = z
  .string({ error: typeError('a string') })
  .max(MAX_NOTE_CONTENT, `must be at most ${MAX_NOTE_CONTENT} characters`)
  .refine((s) => !s.includes('\0'), 'must not contain NUL')
  .refine((s) => !LONE_SURROGATE.test(s), 'must be valid Unicode');

const int = z.number({ error: typeError('a number') }).int('must be a whole number');
/** An id: 1 to 15 digits; 0 (what the seed's examples send for "none yet") stands for no id. */
const idNumber = z
  .number({ error: typeError('a number') })
  .int('must be a whole number')
  .min(0, 'must be a positive id (or 0 for none)')
  .max(999_999_999_999_999, 'must have at most 15 digits')
  .transform((n) => (n === 0 ? null : n));

const valueSchema = z.object(
  {
    id: idNumber.nullish(),
    enumValueCode: text.nullish(),
    /** ignored: set by the store */
    lastModified: int.nullish(),
    value: text.nullish(),
  },
  { error: typeError('an object') },
);

const fieldSchema = z.object(
  {
    id: idNumber.nullish(),
    enumCode: text.min(1, 'must not be empty'),
    values: z
      .array(valueSchema, { error: typeError('an array') })
      .max(MAX_VALUES, `must hold at most ${MAX_VALUES} values`)
      .nullish(),
  },
  { error: typeError('an object') },
);

/**
 * A contact as a client sends it. Absent (undefined) members keep what an
 * update finds stored; null clears them (`fields: null` = no fields).
 * `lastModified` and `dateCreate` are accepted and ignored.
 */
export const contactInputSchema = z.object(
  {
    id: idNumber.nullish(),
    firstName: text.nullish(),
    lastName: text.nullish(),
    companyTitle: text.nullish(),
    lastModified: int.nullish(),
    responsibleUserId: int.nullish(),
    dateCreate: int.nullish(),
    createUserId: int.nullish(),
    fields: z
      .array(fieldSchema, { error: typeError('an array') })
      .max(MAX_FIELDS, `must hold at most ${MAX_FIELDS} fields`)
      .nullish(),
  },
  { error: typeError('a JSON object') },
);

export type ContactInput = z.output<typeof contactInputSchema>;

/**
 * A note as a client sends it. `elementId`, `dateCreate` and `lastModified`
 * are set by the store; `id` names the note to edit. On an edit an absent
 * member keeps its stored value; null does the same for numbers and for the
 * strings the seed never shows as null, and clears content, otherLegName,
 * status and errorMsg.
 */
export const noteInputSchema = z.object(
  {
    id: idNumber.nullish(),
    elementId: int.nullish(),
    elementType: int.nullish(),
    noteType: int.nullish(),
    dateCreate: int.nullish(),
    lastModified: int.nullish(),
    content: noteContent.nullish(),
    responsibleUserId: int.nullish(),
    otherLegNum: text.nullish(),
    otherLegName: text.nullish(),
    status: text.nullish(),
    errorMsg: text.nullish(),
    uuid: text.nullish(),
    end: int.nullish(),
    legId: int.nullish(),
    logicDirection: int.nullish(),
    billSec: int.nullish(),
    recordLink: text.nullish(),
    trunk: text.nullish(),
    tag: text.nullish(),
  },
  { error: typeError('a JSON object') },
);

export type NoteInput = z.output<typeof noteInputSchema>;

/** `fields[0].values[2].value` from a zod issue path. */
export function issuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

/** "<field>: <problem>" of the first issue of a failed parse. */
export function describeIssue(error: z.ZodError, root = 'body'): string {
  const issue = error.issues[0];
  if (!issue) return `${root}: invalid`;
  return `${issue.path.length ? issuePath(issue.path) : root}: ${issue.message}`;
}

// ---------------------------------------------------------------- query

export interface ContactQuery {
  /** enumCodes of the fields to answer (case-insensitive); absent or empty: every field */
  field?: readonly string[];
  offset?: number;
  limit?: number;
  /** substring of a name, the company title or a field value */
  searchText?: string;
  /** substring of the content of one of the contact's notes */
  searchNoteText?: string;
  /** 0: from/to bound the creation date, 1 (the default when from or to is given): the modification date */
  filterBy?: 0 | 1;
  from?: number;
  to?: number;
}

export interface Page {
  offset?: number;
  limit?: number;
}

export interface PhoneMatch {
  id: number;
  name: string | null;
  companyName: string | null;
  /** the contact's phone value that matched, as the contact holds it */
  num: string;
}

// ---------------------------------------------------------------- phones and names

const PHONE_CODES = new Set(['телефон', 'phone', 'мобильный', 'mobile']);

/** Whether an enumCode / enumValueCode names a phone field. */
export function isPhoneCode(code: string | null | undefined): boolean {
  if (!code) return false;
  const c = code.trim().toLowerCase();
  return PHONE_CODES.has(c) || c.includes('тел') || c.includes('phone');
}

/** The key of a phone in the index: digits only, the last 10 when there are 10 or more; null below 3 digits. */
export function phoneKey(number: string): string | null {
  const digits = number.replace(/\D/g, '');
  if (digits.length < 3) return null;
  return digits.length >= 10 ? digits.slice(-10) : digits;
}

/** Case and ё/е folding for the text searches. */
export function fold(s: string): string {
  return s.toLowerCase().replace(/ё/g, 'е');
}

const FIRST_NAME_CODES = new Set(['имя', 'first name', 'name']);
const LAST_NAME_CODES = new Set(['фамилия', 'last name']);
const COMPANY_CODES = new Set(['компания', 'company']);

function fieldText(fields: readonly ContactField[], codes: ReadonlySet<string>): string | null {
  for (const f of fields) {
    if (!codes.has(f.enumCode.trim().toLowerCase())) continue;
    for (const v of f.values) {
      const t = v.value?.trim();
      if (t) return t;
    }
  }
  return null;
}

function joinNames(a: string | null | undefined, b: string | null | undefined): string | null {
  const parts = [a?.trim(), b?.trim()].filter((s): s is string => !!s);
  return parts.length ? parts.join(' ') : null;
}

/** The company of a contact: companyTitle, else its "Компания"/"Company" field. */
export function companyOf(c: Pick<Contact, 'companyTitle' | 'fields'>): string | null {
  return c.companyTitle?.trim() || fieldText(c.fields, COMPANY_CODES);
}

/**
 * The display name of a contact: firstName + lastName; else the "Имя"/"First
 * name"/"Name" and "Фамилия"/"Last name" fields; else the company.
 */
export function nameOf(c: Pick<Contact, 'firstName' | 'lastName' | 'companyTitle' | 'fields'>): string | null {
  return (
    joinNames(c.firstName, c.lastName) ??
    joinNames(fieldText(c.fields, FIRST_NAME_CODES), fieldText(c.fields, LAST_NAME_CODES)) ??
    companyOf(c)
  );
}

export const MAX_CALLER_NAME = 40;
// control and format characters, line and paragraph separators, and what a caller ID string uses as syntax
const CALLER_UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}"<>\\]/gu;

/** A name made safe for a caller ID: no control characters, no `"<>\`, at most 40 characters, trimmed; undefined when empty. */
export function safeCallerName(name: string | null | undefined): string | undefined {
  if (!name) return undefined;
  const cleaned = name.replace(CALLER_UNSAFE, ' ').replace(/\s+/g, ' ').trim();
  const cut = Array.from(cleaned).slice(0, MAX_CALLER_NAME).join('').trim();
  return cut || undefined;
}

// ---------------------------------------------------------------- store

interface ContactRowRaw {
  id: number;
  first_name: string | null;
  last_name: string | null;
  company_title: string | null;
  responsible_user_id: number | null;
  create_user_id: number | null;
  date_create: number;
  last_modified: number;
  fields: string;
}

interface NoteRowRaw {
  id: number;
  contact_id: number;
  date_create: number;
  last_modified: number;
  data: string;
}

type NoteData = Omit<Note, 'id' | 'elementId' | 'dateCreate' | 'lastModified'>;

const NOTE_DEFAULTS: NoteData = {
  elementType: 0,
  noteType: 0,
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
const NOTE_NULLABLE = new Set<keyof NoteData>(['content', 'otherLegName', 'status', 'errorMsg']);
const NOTE_KEYS = Object.keys(NOTE_DEFAULTS) as (keyof NoteData)[];

function toContact(r: ContactRowRaw): Contact {
  return {
    id: r.id,
    firstName: r.first_name,
    lastName: r.last_name,
    companyTitle: r.company_title,
    lastModified: r.last_modified,
    responsibleUserId: r.responsible_user_id,
    dateCreate: r.date_create,
    createUserId: r.create_user_id,
    fields: JSON.parse(r.fields) as ContactField[],
  };
}

function toNote(r: NoteRowRaw): Note {
  const data = JSON.parse(r.data) as Partial<NoteData>;
  return {
    id: r.id,
    elementId: r.contact_id,
    elementType: data.elementType ?? 0,
    noteType: data.noteType ?? 0,
    dateCreate: r.date_create,
    lastModified: r.last_modified,
    content: data.content ?? null,
    responsibleUserId: data.responsibleUserId ?? 0,
    otherLegNum: data.otherLegNum ?? '',
    otherLegName: data.otherLegName ?? null,
    status: data.status ?? null,
    errorMsg: data.errorMsg ?? null,
    uuid: data.uuid ?? '',
    end: data.end ?? 0,
    legId: data.legId ?? 0,
    logicDirection: data.logicDirection ?? 0,
    billSec: data.billSec ?? 0,
    recordLink: data.recordLink ?? '',
    trunk: data.trunk ?? '',
    tag: data.tag ?? '',
  };
}

function checkPage(offset: number, limit: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError('offset: must be a whole number >= 0');
  if (!Number.isSafeInteger(limit) || limit < 0 || limit > MAX_LIMIT) throw new RangeError(`limit: must be a whole number from 0 to ${MAX_LIMIT}`);
}

function matchesText(c: Contact, needle: string, digits: string | null): boolean {
  const hit = (s: string | null | undefined) => !!s && fold(s).includes(needle);
  if (hit(c.firstName) || hit(c.lastName) || hit(c.companyTitle)) return true;
  for (const f of c.fields) {
    for (const v of f.values) {
      if (hit(v.value)) return true;
      if (digits && v.value && v.value.replace(/\D/g, '').includes(digits)) return true;
    }
  }
  return false;
}

function project(c: Contact, codes: ReadonlySet<string> | undefined): Contact {
  if (!codes) return c;
  return { ...c, fields: c.fields.filter((f) => codes.has(fold(f.enumCode.trim()))) };
}

export class ContactStore {
  private readonly selectOne: Statement<[number], ContactRowRaw>;
  private readonly insertContact: Statement<
    [string | null, string | null, string | null, number | null, number | null, number, number, string],
    { id: number }
  >;
  private readonly updateContact: Statement<
    [string | null, string | null, string | null, number | null, number | null, number, string, number]
  >;
  private readonly deleteContact: Statement<[number]>;
  private readonly nextId: Statement<[], { id: number }>;
  private readonly trimIds: Statement<[number]>;
  private readonly clearPhones: Statement<[number]>;
  private readonly insertPhone: Statement<[string, number]>;
  private readonly byPhoneStmt: Statement<[string], ContactRowRaw>;
  private readonly searchPhoneStmt: Statement<[string, number, number], ContactRowRaw>;
  private readonly existsStmt: Statement<[number], { id: number }>;
  private readonly notesOf: Statement<[number], NoteRowRaw>;
  private readonly noteOne: Statement<[number, number], NoteRowRaw>;
  private readonly insertNote: Statement<[number, number, number, string], NoteRowRaw>;
  private readonly updateNote: Statement<[number, string, number, number]>;
  private readonly deleteNoteStmt: Statement<[number, number]>;
  private readonly listStatements = new Map<string, Statement<unknown[], ContactRowRaw>>();

  constructor(
    readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {
    const c = db.$client;
    c.function('contacts_fold', { deterministic: true }, (v: unknown) => (typeof v === 'string' ? fold(v) : null));
    this.selectOne = c.prepare('SELECT * FROM contacts WHERE id = ?');
    this.insertContact = c.prepare(
      'INSERT INTO contacts (first_name, last_name, company_title, responsible_user_id, create_user_id, date_create, last_modified, fields) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id',
    );
    this.updateContact = c.prepare(
      'UPDATE contacts SET first_name = ?, last_name = ?, company_title = ?, responsible_user_id = ?, create_user_id = ?, last_modified = ?, fields = ? WHERE id = ?',
    );
    this.deleteContact = c.prepare('DELETE FROM contacts WHERE id = ?');
    this.nextId = c.prepare('INSERT INTO contact_ids DEFAULT VALUES RETURNING id');
    // AUTOINCREMENT never hands out an id twice, so the rows below the newest are not needed
    this.trimIds = c.prepare('DELETE FROM contact_ids WHERE id < ?');
    this.clearPhones = c.prepare('DELETE FROM contact_phones WHERE contact_id = ?');
    this.insertPhone = c.prepare('INSERT OR IGNORE INTO contact_phones (digits, contact_id) VALUES (?, ?)');
    this.byPhoneStmt = c.prepare(
      'SELECT c.* FROM contact_phones p JOIN contacts c ON c.id = p.contact_id WHERE p.digits = ? ORDER BY c.last_modified DESC, c.id DESC LIMIT 1',
    );
    this.searchPhoneStmt = c.prepare(
      'SELECT c.* FROM contact_phones p JOIN contacts c ON c.id = p.contact_id WHERE p.digits = ? ORDER BY c.last_modified DESC, c.id DESC LIMIT ? OFFSET ?',
    );
    this.existsStmt = c.prepare('SELECT id FROM contacts WHERE id = ?');
    this.notesOf = c.prepare('SELECT * FROM contact_notes WHERE contact_id = ? ORDER BY id');
    this.noteOne = c.prepare('SELECT * FROM contact_notes WHERE id = ? AND contact_id = ?');
    this.insertNote = c.prepare('INSERT INTO contact_notes (contact_id, date_create, last_modified, data) VALUES (?, ?, ?, ?) RETURNING *');
    this.updateNote = c.prepare('UPDATE contact_notes SET last_modified = ?, data = ? WHERE id = ? AND contact_id = ?');
    this.deleteNoteStmt = c.prepare('DELETE FROM contact_notes WHERE id = ? AND contact_id = ?');
  }

  // ------------------------------------------------------------ contacts

  /** Whether a contact with that id exists. */
  has(id: number): boolean {
    return this.existsStmt.get(id) !== undefined;
  }

  get(id: number): Contact | undefined {
    const row = this.selectOne.get(id);
    return row ? toContact(row) : undefined;
  }

  /**
   * A page of contacts, newest first: by modification date, or by creation
   * date when filterBy is 0. Throws RangeError on an offset below 0 or a
   * limit outside 0..60.
   */
  list(q: ContactQuery = {}): Contact[] {
    const offset = q.offset ?? 0;
    const limit = q.limit ?? DEFAULT_LIMIT;
    checkPage(offset, limit);
    const byCreation = q.filterBy === 0;
    const col = byCreation ? 'date_create' : 'last_modified';
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.from !== undefined) {
      where.push(`${col} >= ?`);
      args.push(q.from);
    }
    if (q.to !== undefined) {
      where.push(`${col} <= ?`);
      args.push(q.to);
    }
    const noteNeedle = q.searchNoteText ? fold(q.searchNoteText) : '';
    if (noteNeedle) {
      where.push("id IN (SELECT contact_id FROM contact_notes WHERE instr(contacts_fold(json_extract(data, '$.content')), ?) > 0)");
      args.push(noteNeedle);
    }
    const needle = q.searchText ? fold(q.searchText) : '';
    const paged = !needle;
    let sql = `SELECT * FROM contacts${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${col} DESC, id DESC`;
    if (paged) {
      sql += ' LIMIT ? OFFSET ?';
      args.push(limit, offset);
    }
    const stmt = this.listStatement(sql);
    const codes = q.field?.length ? new Set(q.field.map((f) => fold(f.trim()))) : undefined;
    if (paged) return stmt.all(...args).map((r) => project(toContact(r), codes));

    if (limit === 0) return [];
    // digits of a number-like search also find the phone written another way ("+7 900 123" finds "89001234567")
    const digitsOnly = /^[\d\s()+\-.]+$/.test(q.searchText!) ? q.searchText!.replace(/\D/g, '') : '';
    const digits = digitsOnly.length >= 3 ? (digitsOnly.length >= 10 ? digitsOnly.slice(-10) : digitsOnly) : null;
    const out: Contact[] = [];
    let skip = offset;
    for (const row of stmt.iterate(...args)) {
      const c = toContact(row);
      if (!matchesText(c, needle, digits)) continue;
      if (skip > 0) {
        skip--;
        continue;
      }
      out.push(project(c, codes));
      if (out.length >= limit) break;
    }
    return out;
  }

  /** The contacts holding that phone (see phoneKey), newest modified first; none when the number has fewer than 3 digits. */
  searchByPhone(number: string, page: Page = {}): Contact[] {
    const offset = page.offset ?? 0;
    const limit = page.limit ?? DEFAULT_LIMIT;
    checkPage(offset, limit);
    const key = phoneKey(number);
    if (!key) return [];
    return this.searchPhoneStmt.all(key, limit, offset).map(toContact);
  }

  /** Stores a new contact (its `id`, if any, is not used) and answers it with every id assigned. */
  create(input: ContactInput): Contact {
    return this.db.$client.transaction(() => this.createInTx(input))();
  }

  /** Updates the contact `input.id`; undefined when there is no such contact. */
  update(input: ContactInput & { id: number }): Contact | undefined {
    return this.db.$client.transaction(() => this.updateInTx(input.id, input))();
  }

  /** Removes a contact with its notes and phones; false when there is no such contact. */
  delete(id: number): boolean {
    return this.db.$client.transaction(() => {
      this.clearPhones.run(id);
      return this.deleteContact.run(id).changes > 0;
    })();
  }

  /**
   * Loads many contacts in one transaction. merge 1: a contact whose `id`
   * exists is updated, any other is created; merge 0: every one is created.
   * A contact that is not valid (contactInputSchema) or cannot be stored is
   * counted in `failed` and leaves nothing behind; the others are stored.
   */
  batch(merge: 0 | 1, contacts: readonly unknown[]): { succeeded: number; failed: number } {
    if (contacts.length > MAX_BATCH) throw new RangeError(`contacts: must hold at most ${MAX_BATCH} contacts`);
    const sqlite = this.db.$client;
    let succeeded = 0;
    let failed = 0;
    sqlite.transaction(() => {
      for (const raw of contacts) {
        const parsed = contactInputSchema.safeParse(raw);
        if (!parsed.success) {
          failed++;
          continue;
        }
        const input = parsed.data;
        try {
          // a nested transaction is a savepoint: a failing contact is rolled back alone
          sqlite.transaction(() => {
            if (merge === 1 && input.id != null && this.existsStmt.get(input.id)) this.updateInTx(input.id, input);
            else this.createInTx(input);
          })();
          succeeded++;
        } catch {
          failed++;
        }
      }
    })();
    return { succeeded, failed };
  }

  /** The newest modified contact holding that phone, with its display name and company. */
  byPhone(number: string): PhoneMatch | undefined {
    const key = phoneKey(number);
    if (!key) return undefined;
    const row = this.byPhoneStmt.get(key);
    if (!row) return undefined;
    const c = toContact(row);
    let num = number;
    outer: for (const f of c.fields) {
      for (const v of f.values) {
        if (v.value && (isPhoneCode(f.enumCode) || isPhoneCode(v.enumValueCode)) && phoneKey(v.value) === key) {
          num = v.value;
          break outer;
        }
      }
    }
    return { id: c.id, name: nameOf(c), companyName: companyOf(c), num };
  }

  /** byPhone's name made safe for a caller ID (safeCallerName); undefined when there is none. */
  callerName(number: string): string | undefined {
    return safeCallerName(this.byPhone(number)?.name);
  }

  // ------------------------------------------------------------ notes

  /** The notes of a contact, oldest first; undefined when there is no such contact. */
  notes(contactId: number): Note[] | undefined {
    if (!this.existsStmt.get(contactId)) return undefined;
    return this.notesOf.all(contactId).map(toNote);
  }

  /** Adds a note to a contact (the input's id, elementId and dates are not used); undefined when there is no such contact. */
  addNote(contactId: number, input: NoteInput): Note | undefined {
    return this.db.$client.transaction(() => {
      if (!this.existsStmt.get(contactId)) return undefined;
      const t = this.now();
      const row = this.insertNote.get(contactId, t, t, JSON.stringify(mergeNote({ ...NOTE_DEFAULTS }, input)))!;
      return toNote(row);
    })();
  }

  /** Changes the note `input.id` of a contact; undefined when the contact or that note of it does not exist. */
  editNote(contactId: number, input: NoteInput & { id: number }): Note | undefined {
    return this.db.$client.transaction(() => {
      const row = this.noteOne.get(input.id, contactId);
      if (!row) return undefined;
      const current = toNote(row);
      const data: NoteData = { ...NOTE_DEFAULTS };
      for (const k of NOTE_KEYS) (data as Record<string, unknown>)[k] = current[k];
      const t = this.now();
      this.updateNote.run(t, JSON.stringify(mergeNote(data, input)), input.id, contactId);
      return toNote(this.noteOne.get(input.id, contactId)!);
    })();
  }

  /** Removes a note of a contact; false when the contact or that note of it does not exist. */
  deleteNote(contactId: number, noteId: number): boolean {
    return this.deleteNoteStmt.run(noteId, contactId).changes > 0;
  }

  // ------------------------------------------------------------ internals

  private listStatement(sql: string): Statement<unknown[], ContactRowRaw> {
    let stmt = this.listStatements.get(sql);
    if (!stmt) {
      stmt = this.db.$client.prepare<unknown[], ContactRowRaw>(sql);
      this.listStatements.set(sql, stmt);
    }
    return stmt;
  }

  private createInTx(input: ContactInput): Contact {
    const t = this.now();
    const ids = new IdSource(this.nextId);
    const fields = this.buildFields(input.fields ?? [], undefined, ids, t);
    const row = this.insertContact.get(
      input.firstName ?? null,
      input.lastName ?? null,
      input.companyTitle ?? null,
      input.responsibleUserId ?? null,
      input.createUserId ?? null,
      t,
      t,
      JSON.stringify(fields),
    )!;
    ids.finish(this.trimIds);
    this.indexPhones(row.id, fields);
    return this.get(row.id)!;
  }

  private updateInTx(id: number, input: ContactInput): Contact | undefined {
    const row = this.selectOne.get(id);
    if (!row) return undefined;
    const current = toContact(row);
    const t = this.now();
    const ids = new IdSource(this.nextId);
    const fields = input.fields === undefined ? current.fields : this.buildFields(input.fields ?? [], current.fields, ids, t);
    const keep = <T>(given: T | undefined, stored: T): T => (given === undefined ? stored : given);
    this.updateContact.run(
      keep(input.firstName, current.firstName),
      keep(input.lastName, current.lastName),
      keep(input.companyTitle, current.companyTitle),
      keep(input.responsibleUserId, current.responsibleUserId),
      keep(input.createUserId, current.createUserId),
      t,
      JSON.stringify(fields),
      id,
    );
    ids.finish(this.trimIds);
    this.clearPhones.run(id);
    this.indexPhones(id, fields);
    return this.get(id);
  }

  /** The stored form of the fields sent, with their ids kept or assigned (see the module comment). */
  private buildFields(
    given: NonNullable<ContactInput['fields']>,
    stored: readonly ContactField[] | undefined,
    ids: IdSource,
    t: number,
  ): ContactField[] {
    const ownFields = new Set<number>();
    const ownValues = new Map<number, ContactValue>();
    for (const f of stored ?? []) {
      ownFields.add(f.id);
      for (const v of f.values) ownValues.set(v.id, v);
    }
    const usedFields = new Set<number>();
    const usedValues = new Set<number>();
    return given.map((f) => {
      const fieldId = f.id != null && ownFields.has(f.id) && !usedFields.has(f.id) ? f.id : ids.next();
      usedFields.add(fieldId);
      const values = (f.values ?? []).map((v): ContactValue => {
        const enumValueCode = v.enumValueCode ?? f.enumCode;
        const value = v.value ?? null;
        const before = v.id != null && !usedValues.has(v.id) ? ownValues.get(v.id) : undefined;
        const valueId = before ? before.id : ids.next();
        usedValues.add(valueId);
        const unchanged = before && before.enumValueCode === enumValueCode && before.value === value;
        return { id: valueId, enumValueCode, lastModified: unchanged ? before.lastModified : t, value };
      });
      return { id: fieldId, enumCode: f.enumCode, values };
    });
  }

  private indexPhones(contactId: number, fields: readonly ContactField[]): void {
    for (const f of fields) {
      const fieldIsPhone = isPhoneCode(f.enumCode);
      for (const v of f.values) {
        if (!v.value || !(fieldIsPhone || isPhoneCode(v.enumValueCode))) continue;
        const key = phoneKey(v.value);
        if (key) this.insertPhone.run(key, contactId);
      }
    }
  }
}

/** Ids from the contact_ids sequence; `finish` drops the sequence rows below the last one taken. */
class IdSource {
  private last = 0;
  constructor(private readonly stmt: Statement<[], { id: number }>) {}
  next(): number {
    this.last = this.stmt.get()!.id;
    return this.last;
  }
  finish(trim: Statement<[number]>): void {
    if (this.last) trim.run(this.last);
  }
}

function mergeNote(base: NoteData, input: NoteInput): NoteData {
  const out = base as Record<string, unknown>;
  for (const k of NOTE_KEYS) {
    const v = input[k];
    if (v === undefined) continue;
    if (v === null && !NOTE_NULLABLE.has(k)) continue;
    out[k] = v;
  }
  return base;
}
