/** ContactStore: ids, dates, the phone index, list / search / filters, batch, notes, byPhone and callerName, read back from SQLite. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/index.js';
import {
  ContactStore,
  isPhoneCode,
  nameOf,
  phoneKey,
  safeCallerName,
  type Contact,
  type ContactInput,
} from '../../src/contacts/store.js';

let db: Db;
let store: ContactStore;
let clock: number;

beforeEach(() => {
  db = openDatabase(':memory:');
  clock = 1_700_000_000_000;
  store = new ContactStore(db, () => clock);
});
afterEach(() => db.$client.close());

const phonesOf = (contactId: number) =>
  db.$client.prepare('SELECT digits FROM contact_phones WHERE contact_id = ? ORDER BY digits').pluck().all(contactId) as string[];
const allPhones = () => db.$client.prepare('SELECT digits, contact_id AS contactId FROM contact_phones ORDER BY digits, contact_id').all();
const count = (table: string) => db.$client.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;

function person(first: string, last: string, phone?: string, extra: NonNullable<ContactInput['fields']> = []): ContactInput {
  return {
    firstName: first,
    lastName: last,
    fields: [...(phone ? [{ enumCode: 'Телефон', values: [{ enumValueCode: 'Рабочий', value: phone }] }] : []), ...extra],
  };
}

describe('phoneKey', () => {
  it.each([
    ['89001234567', '9001234567'],
    ['+79001234567', '9001234567'],
    ['9001234567', '9001234567'],
    ['+7 (900) 123-45-67', '9001234567'],
    ['+380440000000', '0440000000'],
    ['0440000000', '0440000000'],
    ['101', '101'],
    ['12-34', '1234'],
    ['12', null],
    ['', null],
    ['abc', null],
  ])('%j → %j', (number, key) => expect(phoneKey(number)).toBe(key));
});

describe('isPhoneCode', () => {
  it.each([
    ['Телефон', true],
    ['ТЕЛЕФОН', true],
    ['Phone', true],
    ['Мобильный', true],
    ['mobile', true],
    ['Рабочий телефон', true],
    ['Тел.', true],
    ['Work phone', true],
    ['Email', false],
    ['Компания', false],
    ['', false],
    [null, false],
  ])('%j → %s', (code, phone) => expect(isPhoneCode(code)).toBe(phone));
});

describe('create, get', () => {
  it('assigns the contact id, field and value ids from contact_ids, and the dates', () => {
    const c = store.create({
      id: 555,
      firstName: 'Петр',
      lastName: 'Петров',
      companyTitle: null,
      responsibleUserId: 18,
      createUserId: 59,
      dateCreate: 1,
      lastModified: 2,
      fields: [
        { id: 9, enumCode: 'Компания', values: [{ id: 10, enumValueCode: 'Компания', lastModified: 3, value: 'Phonet' }] },
        { enumCode: 'Телефон', values: [{ value: '+380440000000' }, { enumValueCode: 'Мобильный', value: '8 900 123 45 67' }] },
      ],
    });
    expect(c).toEqual({
      id: 1,
      firstName: 'Петр',
      lastName: 'Петров',
      companyTitle: null,
      lastModified: clock,
      responsibleUserId: 18,
      dateCreate: clock,
      createUserId: 59,
      fields: [
        { id: 1, enumCode: 'Компания', values: [{ id: 2, enumValueCode: 'Компания', lastModified: clock, value: 'Phonet' }] },
        {
          id: 3,
          enumCode: 'Телефон',
          values: [
            { id: 4, enumValueCode: 'Телефон', lastModified: clock, value: '+380440000000' },
            { id: 5, enumValueCode: 'Мобильный', lastModified: clock, value: '8 900 123 45 67' },
          ],
        },
      ],
    });
    expect(store.get(1)).toEqual(c);
    expect(store.get(2)).toBeUndefined();
    expect(phonesOf(1)).toEqual(['0440000000', '9001234567']);
    // the id sequence keeps only its newest row
    expect(db.$client.prepare('SELECT id FROM contact_ids').pluck().all()).toEqual([5]);
    const next = store.create({ fields: [{ enumCode: 'Email', values: [{ value: 'a@b.c' }] }] });
    expect(next.fields[0]!.id).toBe(6);
    expect(next.fields[0]!.values[0]!.id).toBe(7);
  });

  it('indexes values of phone fields and values whose enumValueCode names a phone, nothing else', () => {
    const c = store.create({
      fields: [
        { enumCode: 'Email', values: [{ value: '900111222333@mail.example' }] },
        { enumCode: 'Контакты', values: [{ enumValueCode: 'Mobile', value: '+1 555 0100' }, { enumValueCode: 'Skype', value: '5550199' }] },
        { enumCode: 'Work Phone', values: [{ value: '12' }, { value: '101' }, { value: null }] },
      ],
    });
    expect(phonesOf(c.id)).toEqual(['101', '15550100']);
  });
});

describe('update', () => {
  it('keeps the ids that belong to the contact, replaces foreign, unknown and repeated ones', () => {
    const a = store.create(person('Анна', 'Иванова', '89001234567'));
    const b = store.create(person('Борис', 'Сидоров', '89007654321'));
    const aField = a.fields[0]!;
    const bField = b.fields[0]!;
    clock += 1000;
    const updated = store.update({
      id: a.id,
      fields: [
        { id: aField.id, enumCode: 'Телефон', values: [{ id: aField.values[0]!.id, enumValueCode: 'Рабочий', value: '89001234567' }] },
        { id: bField.id, enumCode: 'Email', values: [{ id: bField.values[0]!.id, value: 'anna@example.com' }] },
        { id: aField.id, enumCode: 'Категория', values: [{ id: 424242, value: 'VIP' }, { id: aField.values[0]!.id, value: 'x' }] },
      ],
    })!;
    const [phone, email, category] = updated.fields;
    expect(phone!.id).toBe(aField.id);
    expect(phone!.values[0]).toEqual({ id: aField.values[0]!.id, enumValueCode: 'Рабочий', lastModified: a.lastModified, value: '89001234567' });
    const taken = new Set([aField.id, aField.values[0]!.id, bField.id, bField.values[0]!.id, 424242]);
    for (const id of [email!.id, email!.values[0]!.id, category!.id, category!.values[0]!.id, category!.values[1]!.id]) {
      expect(taken.has(id)).toBe(false);
    }
    expect(new Set(updated.fields.flatMap((f) => [f.id, ...f.values.map((v) => v.id)])).size).toBe(7);
    expect(email!.values[0]!.lastModified).toBe(clock);
    expect(updated.lastModified).toBe(clock);
    expect(updated.dateCreate).toBe(a.dateCreate);
    // b is untouched
    expect(store.get(b.id)).toEqual(b);
  });

  it('a value keeps its lastModified only while its text and enumValueCode stay', () => {
    const a = store.create(person('Анна', 'Иванова', '89001234567'));
    const f = a.fields[0]!;
    const v = f.values[0]!;
    clock += 5000;
    const same = store.update({ id: a.id, fields: [{ id: f.id, enumCode: f.enumCode, values: [{ id: v.id, enumValueCode: v.enumValueCode, value: v.value }] }] })!;
    expect(same.fields[0]!.values[0]!.lastModified).toBe(a.lastModified);
    clock += 5000;
    const changed = store.update({ id: a.id, fields: [{ id: f.id, enumCode: f.enumCode, values: [{ id: v.id, enumValueCode: 'Мобильный', value: v.value }] }] })!;
    expect(changed.fields[0]!.values[0]).toMatchObject({ id: v.id, lastModified: clock });
  });

  it('absent members are kept, null clears them', () => {
    const a = store.create({ ...person('Анна', 'Иванова', '89001234567'), companyTitle: 'ООО Ромашка', responsibleUserId: 7 });
    const kept = store.update({ id: a.id, lastName: 'Петрова' })!;
    expect(kept).toMatchObject({ firstName: 'Анна', lastName: 'Петрова', companyTitle: 'ООО Ромашка', responsibleUserId: 7, fields: a.fields });
    const cleared = store.update({ id: a.id, companyTitle: null, responsibleUserId: null, fields: null })!;
    expect(cleared).toMatchObject({ firstName: 'Анна', companyTitle: null, responsibleUserId: null, fields: [] });
    expect(phonesOf(a.id)).toEqual([]);
  });

  it('an unknown id is undefined and stores nothing', () => {
    expect(store.update({ id: 77, firstName: 'X' })).toBeUndefined();
    expect(count('contacts')).toBe(0);
  });

  it('keeps contact_phones in sync after update and delete', () => {
    const a = store.create(person('Анна', 'Иванова', '+7 900 123-45-67'));
    const b = store.create(person('Борис', 'Сидоров', '89001234567'));
    expect(allPhones()).toEqual([
      { digits: '9001234567', contactId: a.id },
      { digits: '9001234567', contactId: b.id },
    ]);
    store.update({ id: a.id, fields: [{ enumCode: 'Phone', values: [{ value: '380440000000' }, { value: '101' }] }] });
    expect(phonesOf(a.id)).toEqual(['0440000000', '101']);
    expect(store.searchByPhone('9001234567').map((c) => c.id)).toEqual([b.id]);
    store.addNote(b.id, { content: 'позвонить' });
    expect(store.delete(b.id)).toBe(true);
    expect(store.delete(b.id)).toBe(false);
    expect(allPhones()).toEqual([
      { digits: '0440000000', contactId: a.id },
      { digits: '101', contactId: a.id },
    ]);
    expect(count('contact_notes')).toBe(0);
    expect(store.get(b.id)).toBeUndefined();
    expect(store.searchByPhone('89001234567')).toEqual([]);
  });
});

describe('list', () => {
  function seed(): Contact[] {
    const out: Contact[] = [];
    for (let i = 1; i <= 5; i++) {
      clock = 1_000_000 + i * 1000;
      out.push(store.create(person(`Имя${i}`, `Фамилия${i}`, `8900000000${i}`)));
    }
    return out;
  }

  it('newest modified first, with offset and limit', () => {
    const c = seed();
    clock = 9_000_000;
    store.update({ id: c[1]!.id, firstName: 'Изменён' });
    expect(store.list().map((x) => x.id)).toEqual([2, 5, 4, 3, 1]);
    expect(store.list({ offset: 1, limit: 2 }).map((x) => x.id)).toEqual([5, 4]);
    expect(store.list({ offset: 10 })).toEqual([]);
    expect(store.list({ limit: 0 })).toEqual([]);
    expect(store.list({ filterBy: 0 }).map((x) => x.id)).toEqual([5, 4, 3, 2, 1]);
  });

  it('default limit 30, at most 60; offset >= 0', () => {
    for (let i = 0; i < 65; i++) store.create({ firstName: `c${i}` });
    expect(store.list()).toHaveLength(30);
    expect(store.list({ limit: 60 })).toHaveLength(60);
    expect(() => store.list({ limit: 61 })).toThrow(RangeError);
    expect(() => store.list({ limit: -1 })).toThrow(RangeError);
    expect(() => store.list({ offset: -1 })).toThrow(RangeError);
    expect(() => store.searchByPhone('101', { limit: 61 })).toThrow(RangeError);
  });

  it('filterBy 0 bounds the creation date, 1 the modification date (from and to inclusive)', () => {
    const c = seed();
    clock = 50_000_000;
    store.update({ id: c[0]!.id, firstName: 'Изменён' });
    const ids = (q: Parameters<ContactStore['list']>[0]) => store.list(q).map((x) => x.id);
    expect(ids({ filterBy: 0, from: 1_002_000, to: 1_004_000 })).toEqual([4, 3, 2]);
    expect(ids({ filterBy: 0, from: 1_004_000 })).toEqual([5, 4]);
    expect(ids({ filterBy: 0, to: 1_001_000 })).toEqual([1]);
    expect(ids({ filterBy: 1, from: 40_000_000 })).toEqual([1]);
    expect(ids({ filterBy: 1, to: 1_004_999 })).toEqual([4, 3, 2]);
    expect(ids({ from: 40_000_000 })).toEqual([1]);
  });

  it('searchText: names, company, field values; any case, ё as е; number forms of phones', () => {
    store.create({ firstName: 'Пётр', lastName: 'Смирнов' });
    store.create({ companyTitle: 'ООО Ромашка' });
    store.create({ fields: [{ enumCode: 'Email', values: [{ value: 'Sales@Example.com' }] }] });
    store.create(person('Анна', 'Кузнецова', '+7 (900) 123-45-67'));
    const found = (searchText: string) => store.list({ searchText }).map((c) => c.id);
    expect(found('ПЕТР')).toEqual([1]);
    expect(found('смир')).toEqual([1]);
    expect(found('ромаш')).toEqual([2]);
    expect(found('sales@example')).toEqual([3]);
    expect(found('89001234567')).toEqual([4]);
    expect(found('123-45')).toEqual([4]);
    expect(found('Email')).toEqual([]);
    expect(found('нет такого')).toEqual([]);
    expect(store.list({ searchText: 'о', offset: 1, limit: 1 }).map((c) => c.id)).toEqual([2]);
  });

  it('searchNoteText: the content of a note, any case', () => {
    const a = store.create({ firstName: 'A' });
    const b = store.create({ firstName: 'B' });
    store.create({ firstName: 'C' });
    store.addNote(a.id, { content: 'Перезвонить в ПЯТНИЦУ\nпосле обеда' });
    store.addNote(b.id, { content: 'договор подписан' });
    store.addNote(b.id, { content: null, otherLegName: 'пятница' });
    expect(store.list({ searchNoteText: 'пятниц' }).map((c) => c.id)).toEqual([a.id]);
    expect(store.list({ searchNoteText: 'ДОГОВОР' }).map((c) => c.id)).toEqual([b.id]);
    expect(store.list({ searchNoteText: 'договор', searchText: 'A' })).toEqual([]);
  });

  it('field limits the answer to the fields named', () => {
    store.create(person('Анна', 'Иванова', '89001234567', [{ enumCode: 'Email', values: [{ value: 'a@b.c' }] }, { enumCode: 'Категория', values: [{ value: 'VIP' }] }]));
    const [c] = store.list({ field: ['email', 'Телефон'] });
    expect(c!.fields.map((f) => f.enumCode)).toEqual(['Телефон', 'Email']);
    expect(store.list()[0]!.fields).toHaveLength(3);
  });
});

describe('searchByPhone', () => {
  it('finds every number form, newest modified first, with paging', () => {
    clock = 1000;
    const a = store.create(person('Анна', 'Иванова', '+79001234567'));
    clock = 2000;
    const b = store.create(person('Борис', 'Сидоров', '8 (900) 123-45-67'));
    clock = 3000;
    store.create(person('Вера', 'Орлова', '89990000000'));
    for (const form of ['89001234567', '+79001234567', '9001234567', '+7 900 123 45 67', '79001234567']) {
      expect(store.searchByPhone(form).map((c) => c.id), form).toEqual([b.id, a.id]);
    }
    expect(store.searchByPhone('9001234567', { offset: 1 }).map((c) => c.id)).toEqual([a.id]);
    expect(store.searchByPhone('9001234567', { limit: 1 }).map((c) => c.id)).toEqual([b.id]);
    expect(store.searchByPhone('12')).toEqual([]);
    expect(store.searchByPhone('9001234560')).toEqual([]);
  });
});

describe('batch', () => {
  it('merge 1 updates contacts whose id exists and creates the others', () => {
    const a = store.create(person('Анна', 'Иванова', '89001234567'));
    clock += 10;
    const r = store.batch(1, [
      { id: a.id, firstName: 'Анна-Мария', fields: [{ enumCode: 'Телефон', values: [{ value: '89005550000' }] }] },
      { id: 999, firstName: 'Новый' },
      { firstName: 'Ещё' },
    ]);
    expect(r).toEqual({ succeeded: 3, failed: 0 });
    expect(count('contacts')).toBe(3);
    expect(store.get(a.id)).toMatchObject({ firstName: 'Анна-Мария', lastModified: clock });
    expect(phonesOf(a.id)).toEqual(['9005550000']);
    expect(store.get(999)).toBeUndefined();
    expect(store.list().map((c) => c.firstName).sort()).toEqual(['Анна-Мария', 'Ещё', 'Новый']);
  });

  it('merge 0 always creates', () => {
    const a = store.create(person('Анна', 'Иванова', '89001234567'));
    expect(store.batch(0, [{ ...a, firstName: 'Копия' }])).toEqual({ succeeded: 1, failed: 0 });
    expect(count('contacts')).toBe(2);
    expect(store.get(a.id)!.firstName).toBe('Анна');
    expect(store.searchByPhone('89001234567').map((c) => c.firstName)).toEqual(['Копия', 'Анна']);
  });

  it('counts invalid contacts in failed and stores the rest', () => {
    const tooMany = Array.from({ length: 101 }, (_, i) => ({ enumCode: `f${i}`, values: [] }));
    const r = store.batch(1, [
      { firstName: 'Хороший', fields: [{ enumCode: 'Phone', values: [{ value: '101' }] }] },
      { firstName: 42 },
      { fields: tooMany },
      { lastName: 'Перевод\r\nстроки' },
      'not a contact',
      null,
      { fields: [{ enumCode: 'Phone', values: [{ value: 79001234567 }] }] },
    ]);
    expect(r).toEqual({ succeeded: 1, failed: 6 });
    expect(count('contacts')).toBe(1);
    expect(allPhones()).toEqual([{ digits: '101', contactId: 1 }]);
  });
});

describe('names', () => {
  it.each<[Partial<Contact>, string | null]>([
    [{ firstName: 'Петр', lastName: 'Петров' }, 'Петр Петров'],
    [{ firstName: ' Петр ', lastName: null }, 'Петр'],
    [{ firstName: '', lastName: 'Петров' }, 'Петров'],
    [{ fields: [{ id: 1, enumCode: 'Имя', values: [{ id: 2, enumValueCode: 'Имя', lastModified: 0, value: 'Иван' }] }, { id: 3, enumCode: 'Фамилия', values: [{ id: 4, enumValueCode: 'Фамилия', lastModified: 0, value: 'Иванов' }] }] }, 'Иван Иванов'],
    [{ fields: [{ id: 1, enumCode: 'Last name', values: [{ id: 2, enumValueCode: null, lastModified: 0, value: 'Smith' }] }] }, 'Smith'],
    [{ fields: [{ id: 1, enumCode: 'name', values: [{ id: 2, enumValueCode: null, lastModified: 0, value: ' ' }, { id: 3, enumValueCode: null, lastModified: 0, value: 'John' }] }] }, 'John'],
    [{ companyTitle: 'ООО Ромашка' }, 'ООО Ромашка'],
    [{ fields: [{ id: 1, enumCode: 'Компания', values: [{ id: 2, enumValueCode: 'Компания', lastModified: 0, value: 'Phonet' }] }] }, 'Phonet'],
    [{ fields: [{ id: 1, enumCode: 'Email', values: [{ id: 2, enumValueCode: 'Email', lastModified: 0, value: 'a@b.c' }] }] }, null],
  ])('%j → %j', (partial, name) => {
    expect(nameOf({ firstName: null, lastName: null, companyTitle: null, fields: [], ...partial })).toBe(name);
  });

  it.each<[string | null, string | undefined]>([
    ['Петр Петров', 'Петр Петров'],
    ['"Boss" <sip:evil@x>', 'Boss sip:evil@x'],
    ['a\\b', 'a b'],
    ['tab\there\x1b[31m', 'tab here [31m'],
    ['line\r\nbreak\u2028x', 'line break x'],
    ['\u202eevil', 'evil'],
    ['   ', undefined],
    ['<>""', undefined],
    [null, undefined],
    ['Ж'.repeat(50), 'Ж'.repeat(40)],
    ['😀'.repeat(41), '😀'.repeat(40)],
    [`${'a'.repeat(39)} b`, 'a'.repeat(39)],
  ])('safeCallerName(%j) → %j', (name, safe) => expect(safeCallerName(name)).toBe(safe));

  it('byPhone: the newest modified contact with that phone, its name, company and number as stored', () => {
    clock = 1000;
    const a = store.create({ ...person('Анна', 'Иванова', '+7 900 123-45-67'), companyTitle: 'ООО Ромашка' });
    clock = 2000;
    const b = store.create({ fields: [{ enumCode: 'Компания', values: [{ value: 'Phonet' }] }, { enumCode: 'Mobile', values: [{ value: '89001234567' }] }] });
    expect(store.byPhone('9001234567')).toEqual({ id: b.id, name: 'Phonet', companyName: 'Phonet', num: '89001234567' });
    clock = 3000;
    store.update({ id: a.id, lastName: 'Петрова' });
    expect(store.byPhone('+79001234567')).toEqual({ id: a.id, name: 'Анна Петрова', companyName: 'ООО Ромашка', num: '+7 900 123-45-67' });
    expect(store.callerName('89001234567')).toBe('Анна Петрова');
    expect(store.byPhone('89990000000')).toBeUndefined();
    expect(store.byPhone('1')).toBeUndefined();
    expect(store.callerName('89990000000')).toBeUndefined();
    const c = store.create({ fields: [{ enumCode: 'Телефон', values: [{ value: '555' }] }] });
    expect(store.byPhone('555')).toEqual({ id: c.id, name: null, companyName: null, num: '555' });
    expect(store.callerName('555')).toBeUndefined();
  });

  it('callerName strips what a hostile name carries', () => {
    store.create({ firstName: '"><script>', lastName: 'Dial\\(SIP/evil)', fields: [{ enumCode: 'Phone', values: [{ value: '101' }] }] });
    expect(store.callerName('101')).toBe('script Dial (SIP/evil)');
  });
});

describe('notes', () => {
  it('add, list, edit, delete, all in the seed shape', () => {
    const a = store.create({ firstName: 'A' });
    const b = store.create({ firstName: 'B' });
    clock = 5000;
    const n = store.addNote(a.id, { id: 77, elementId: b.id, dateCreate: 1, content: 'первая\nстрока', otherLegNum: '89001234567', billSec: 12, status: null })!;
    expect(n).toEqual({
      id: 1,
      elementId: a.id,
      elementType: 0,
      noteType: 0,
      dateCreate: 5000,
      lastModified: 5000,
      content: 'первая\nстрока',
      responsibleUserId: 0,
      otherLegNum: '89001234567',
      otherLegName: null,
      status: null,
      errorMsg: null,
      uuid: '',
      end: 0,
      legId: 0,
      logicDirection: 0,
      billSec: 12,
      recordLink: '',
      trunk: '',
      tag: '',
    });
    expect(store.addNote(999, { content: 'x' })).toBeUndefined();
    clock = 6000;
    const edited = store.editNote(a.id, { id: n.id, content: null, tag: 'важно', billSec: null })!;
    expect(edited).toEqual({ ...n, content: null, tag: 'важно', lastModified: 6000 });
    expect(store.editNote(b.id, { id: n.id, content: 'чужая' })).toBeUndefined();
    expect(store.editNote(a.id, { id: 999, content: 'нет' })).toBeUndefined();
    const second = store.addNote(a.id, { content: 'вторая' })!;
    expect(store.notes(a.id)!.map((x) => x.id)).toEqual([n.id, second.id]);
    expect(store.notes(b.id)).toEqual([]);
    expect(store.notes(999)).toBeUndefined();
    expect(store.deleteNote(b.id, n.id)).toBe(false);
    expect(store.deleteNote(a.id, n.id)).toBe(true);
    expect(store.deleteNote(a.id, n.id)).toBe(false);
    expect(store.notes(a.id)!.map((x) => x.id)).toEqual([second.id]);
  });
});
