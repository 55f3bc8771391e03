/** How /openapi.json describes the hosted-PBX REST API (/rest, seed 003). */
import type { RouteDoc } from '../openapi/types.js';

const TAG = ['hosted-PBX REST'];
const cookie = [{ name: 'JSESSIONID', in: 'cookie', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{64}$' }, description: 'the session of POST /rest/security/authorize' }];
const text = (description: string) => ({ description, content: { 'text/plain': { schema: { type: 'string' } } } });
const denied = { '403': text('no session, or it expired: authorize again') };
const json = (description: string, schema: Record<string, unknown>) => ({ description, content: { 'application/json': { schema } } });
const nullable = (type: string) => ({ type: [type, 'null'] });
const leg = { type: ['object', 'null'], properties: { id: nullable('integer'), ext: nullable('string'), displayName: { type: 'string' } } };
const historyLeg = { type: ['object', 'null'], properties: { id: nullable('integer'), type: { type: 'integer', enum: [1, 2, 4] }, ext: nullable('string'), displayName: { type: 'string' } } };
const otherLegs = {
  type: ['array', 'null'],
  items: { type: 'object', properties: { id: nullable('string'), name: nullable('string'), num: { type: 'string' }, companyName: nullable('string'), url: nullable('string') } },
};
const uuidParam = { name: 'uuid', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-fA-F-]{32,36}$' }, description: 'the call uuid (32 hex digits)' };
const idParam = (name: string, description: string) => ({ name, in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9]{1,15}$' }, description });
const body = (schema: Record<string, unknown>) => ({ required: true, content: { 'application/json': { schema } } });

const historyParams = (pauses: boolean) => [
  ...cookie,
  { name: 'timeFrom', in: 'query', required: true, schema: { type: 'integer' }, description: 'start of the period, epoch ms (call start)' },
  { name: 'timeTo', in: 'query', required: true, schema: { type: 'integer' }, description: 'end of the period, epoch ms' },
  {
    name: 'directions',
    in: 'query',
    required: false,
    schema: { type: 'string', example: '1,4' },
    description: `1 internal, 2 outgoing, 4 incoming${pauses ? ', 32 pause, 64 unpause' : ''}: repeated, comma-separated or summed (5 = 1 + 4); all when absent`,
  },
  { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 50, default: 50 } },
  { name: 'offset', in: 'query', required: false, schema: { type: 'integer', minimum: 0, default: 0 } },
];
const historyRecord = {
  type: 'object',
  properties: {
    uuid: nullable('string'),
    parentUuid: { ...nullable('string'), description: 'of a child call (one operator a ring group or queue rang): the uuid of the group call; null otherwise' },
    endAt: { type: 'integer', description: 'epoch ms' },
    lgDirection: { type: 'integer', enum: [1, 2, 4, 32, 64] },
    otherLegNum: nullable('string'),
    otherLegName: nullable('string'),
    leg: historyLeg,
    leg2: historyLeg,
    billSecs: { type: 'integer' },
    duration: { type: 'integer' },
    disposition: { type: 'integer', enum: [0, 1, 2, 3, 4], description: '0 answered, 1 no answer, 2 congestion, 3 dial error, 4 busy' },
    transferHistory: { ...nullable('string'), example: '1000 > 1001' },
    audioRecUrl: nullable('string'),
    trunk: nullable('string'),
  },
};
const history = (path: string, summary: string, pauses = false): RouteDoc => ({
  method: 'get',
  path,
  operation: { tags: TAG, summary, parameters: historyParams(pauses), responses: { '200': json('calls, oldest first', { type: 'array', items: historyRecord }), '400': text('a parameter is missing or wrong (named)'), ...denied } },
});

const contact = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    firstName: nullable('string'),
    lastName: nullable('string'),
    companyTitle: nullable('string'),
    lastModified: { type: 'integer' },
    responsibleUserId: nullable('integer'),
    dateCreate: { type: 'integer' },
    createUserId: nullable('integer'),
    fields: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          enumCode: { type: 'string' },
          values: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, enumValueCode: { type: 'string' }, lastModified: { type: 'integer' }, value: { type: 'string' } } } },
        },
      },
    },
  },
};
const note = {
  type: 'object',
  properties: Object.fromEntries(
    [
      ['id', 'integer'], ['elementId', 'integer'], ['elementType', 'integer'], ['noteType', 'integer'], ['dateCreate', 'integer'], ['lastModified', 'integer'],
      ['content', ['string', 'null']], ['responsibleUserId', 'integer'], ['otherLegNum', 'string'], ['otherLegName', ['string', 'null']], ['status', ['string', 'null']],
      ['errorMsg', ['string', 'null']], ['uuid', 'string'], ['end', 'integer'], ['legId', 'integer'], ['logicDirection', 'integer'], ['billSec', 'integer'],
      ['recordLink', 'string'], ['trunk', 'string'], ['tag', 'string'],
    ].map(([k, t]) => [k as string, { type: t }]),
  ),
};
const one = json('1', { type: 'integer', const: 1 });
const paging = [
  { name: 'offset', in: 'query', required: false, schema: { type: 'integer', minimum: 0, default: 0 } },
  { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 0, maximum: 60, default: 30 } },
];
const CONTACTS = '/rest/crm/contacts/v2';

/** The collection answers with and without the trailing slash (the seed writes `/rest/crm/contacts/v2/`). */
const bothSlashes = (d: RouteDoc): RouteDoc[] => [d, { ...d, path: `${d.path}/`, operation: { ...d.operation, operationId: undefined, summary: `${String(d.operation.summary)} (the same, with the trailing slash)` } }];

export const restDoc: readonly RouteDoc[] = [
  {
    method: 'post',
    path: '/rest/security/authorize',
    operation: {
      tags: TAG,
      summary: 'Open a session (JSESSIONID cookie)',
      description:
        'The API key is one of CALLBRIDGE_REST_API_KEYS (else one of CALLBRIDGE_API_TOKENS); with none configured, any key is accepted from loopback clients only. ' +
        'When CALLBRIDGE_REST_DOMAIN is set, `domain` must be it. Failed attempts are limited to 10 a minute per client address (429 after that).',
      requestBody: body({ type: 'object', required: ['domain', 'apiKey'], properties: { domain: { type: 'string', example: 'pbx.clinic.example' }, apiKey: { type: 'string' } } }),
      responses: {
        '200': { description: 'the session', headers: { 'Set-Cookie': { schema: { type: 'string', example: 'JSESSIONID=5f0c…; Path=/rest; HttpOnly; SameSite=Lax' } } } },
        '400': text('domain or apiKey missing or malformed'),
        '403': text('the domain or API key is not valid'),
        '413': text('the body is too large'),
        '429': text('too many failed authorizations from this address'),
      },
    },
  },
  {
    method: 'get',
    path: '/rest/users',
    operation: {
      tags: TAG,
      summary: 'The operators (SIP endpoints)',
      parameters: cookie,
      responses: { '200': json('users', { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, displayName: { type: 'string' }, ext: { type: 'string' }, email: nullable('string') } } }), ...denied },
    },
  },
  {
    method: 'get',
    path: '/rest/user/status',
    operation: {
      tags: TAG,
      summary: "The status of the session's operator",
      description: 'The operator is the one the API key is bound to (`<ext>:<key>` in CALLBRIDGE_REST_API_KEYS), or `ext`. 0 online (registered, free or talking), 1 offline or away (paused), 2 not monitored.',
      parameters: [...cookie, { name: 'ext', in: 'query', required: false, schema: { type: 'string' } }],
      responses: { '200': json('status', { type: 'object', properties: { status: { type: 'integer', enum: [0, 1, 2] }, ext: { type: 'string' }, presence: nullable('string') } }), '400': text('ext is not valid'), ...denied },
    },
  },
  {
    method: 'post',
    path: '/rest/user/makeCall',
    operation: {
      tags: TAG,
      summary: 'Place a click-to-call',
      description: 'The same call as /api/makeCall (validation, refusals, status chain), without an order. `legExt` may be a JSON number.',
      parameters: cookie,
      requestBody: body({ type: 'object', required: ['legExt', 'otherLegNum'], properties: { legExt: { type: ['string', 'integer'], example: '1000' }, otherLegNum: { type: 'string', example: '+380993034330' } } }),
      responses: {
        '200': json('the call', { type: 'object', properties: { uuid: { type: 'string', pattern: '^[0-9a-f]{32}$' } } }),
        '400': text('legExt or otherLegNum is not valid'),
        '409': text('the operator is unknown, offline or busy'),
        '503': text('Asterisk is not connected'),
        ...denied,
      },
    },
  },
  {
    method: 'get',
    path: '/rest/calls/active/v3',
    operation: {
      tags: TAG,
      summary: 'Calls in progress (click-to-call and PBX calls)',
      parameters: cookie,
      responses: {
        '200': json('calls', {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              uuid: { type: 'string' },
              parentUuid: { ...nullable('string'), description: 'of an operator a ring group or queue rings now: the uuid of the group call; null otherwise' },
              lastEvent: { type: 'string', enum: ['call.dial', 'call.bridge'] },
              dialAt: { type: 'integer' },
              bridgeAt: nullable('integer'),
              lgDirection: { type: 'integer', enum: [1, 2, 4] },
              leg,
              leg2: leg,
              otherLegs,
              trunkNum: nullable('string'),
              trunkName: nullable('string'),
            },
          },
        }),
        ...denied,
      },
    },
  },
  {
    method: 'get',
    path: '/rest/calls/active/{uuid}/hangup',
    operation: {
      tags: TAG,
      summary: 'Hang up a call in progress',
      parameters: [...cookie, uuidParam],
      responses: { '200': { description: 'Asterisk was asked to hang up every channel of the call' }, '404': text('no such call, or it ended'), '409': text('the call has no channel yet'), '503': text('Asterisk could not be asked'), ...denied },
    },
  },
  history('/rest/calls/company.api', 'Calls of the company in a period'),
  history('/rest/calls/missed.api', 'Incoming calls nobody answered and nobody has returned since'),
  history('/rest/calls/users.api', "Calls of the operators, with their pauses (32) and unpauses (64)", true),
  ...(['get', 'head'] as const).map(
    (method): RouteDoc => ({
      method,
      path: '/rest/public/calls/{uuid}/audio',
      operation: {
        tags: TAG,
        summary: "A call's recording",
        description: 'The signed link of audioRecUrl works without a session until `expires` (CALLBRIDGE_REST_AUDIO_LINK_TTL); the bare path needs the session cookie. One Range is served as 206.',
        parameters: [
          uuidParam,
          { name: 'expires', in: 'query', required: false, schema: { type: 'string', pattern: '^[0-9]{1,16}$' } },
          { name: 'sig', in: 'query', required: false, schema: { type: 'string', pattern: '^[0-9a-f]{32}$' } },
          { name: 'Range', in: 'header', required: false, schema: { type: 'string', example: 'bytes=0-1023' } },
        ],
        responses: {
          '200': { description: 'the file', content: { 'audio/wav': { schema: { type: 'string', contentMediaType: 'audio/wav' } } } },
          '206': { description: 'the range asked for' },
          '403': text('not signed, expired, and no session'),
          '404': text('no such call, or no recording'),
          '416': { description: 'the range lies outside the file' },
        },
      },
    }),
  ),
  {
    method: 'get',
    path: `${CONTACTS}/{id}`,
    operation: { tags: TAG, summary: 'A contact', parameters: [...cookie, idParam('id', 'contact id')], responses: { '200': json('the contact', contact), '404': text('no such contact'), ...denied } },
  },
  {
    method: 'delete',
    path: `${CONTACTS}/{id}`,
    operation: { tags: TAG, summary: 'Delete a contact', parameters: [...cookie, idParam('id', 'contact id')], responses: { '200': one, '404': text('no such contact'), ...denied } },
  },
  ...bothSlashes({
    method: 'get',
    path: CONTACTS,
    operation: {
      tags: TAG,
      summary: 'Contacts, paged and searched',
      parameters: [
        ...cookie,
        { name: 'field', in: 'query', required: false, schema: { type: 'string' } },
        ...paging,
        { name: 'searchText', in: 'query', required: false, schema: { type: 'string' } },
        { name: 'searchNoteText', in: 'query', required: false, schema: { type: 'string' } },
        { name: 'filterBy', in: 'query', required: false, schema: { type: 'integer', enum: [0, 1] }, description: '0 by date created, 1 by date modified' },
        { name: 'from', in: 'query', required: false, schema: { type: 'integer' } },
        { name: 'to', in: 'query', required: false, schema: { type: 'integer' } },
      ],
      responses: { '200': json('contacts', { type: 'array', items: contact }), '400': text('a parameter is wrong (named)'), ...denied },
    },
  }),
  ...bothSlashes({
    method: 'post',
    path: CONTACTS,
    operation: {
      tags: TAG,
      summary: 'Create a contact (no id) or update one (id)',
      parameters: cookie,
      requestBody: body(contact),
      responses: { '200': json('1 for an update; the new contact for a create', { oneOf: [{ type: 'integer', const: 1 }, contact] }), '400': text('a field is wrong (named)'), '404': text('no contact with that id'), ...denied },
    },
  }),
  {
    method: 'get',
    path: `${CONTACTS}/searchByOLNum`,
    operation: {
      tags: TAG,
      summary: 'Contacts with a phone number',
      description: 'Numbers match on their last 10 digits (89001234567, +79001234567 and 9001234567 are one number).',
      parameters: [...cookie, { name: 'otherLegNum', in: 'query', required: true, schema: { type: 'string' } }, ...paging],
      responses: { '200': json('contacts', { type: 'array', items: contact }), '400': text('otherLegNum is missing'), ...denied },
    },
  },
  {
    method: 'post',
    path: `${CONTACTS}/batch`,
    operation: {
      tags: TAG,
      summary: 'Save many contacts',
      parameters: cookie,
      requestBody: body({ type: 'object', properties: { merge: { type: 'integer', enum: [0, 1] }, contacts: { type: 'array', maxItems: 1000, items: contact } } }),
      responses: { '201': json('counts', { type: 'object', properties: { succeeded: { type: 'integer' }, failed: { type: 'integer' } } }), '400': text('the body is wrong'), ...denied },
    },
  },
  {
    method: 'get',
    path: `${CONTACTS}/{id}/notes`,
    operation: { tags: TAG, summary: "A contact's notes", parameters: [...cookie, idParam('id', 'contact id')], responses: { '200': json('notes', { type: 'array', items: note }), '404': text('no such contact'), ...denied } },
  },
  {
    method: 'post',
    path: `${CONTACTS}/{id}/notes`,
    operation: {
      tags: TAG,
      summary: 'Add a note',
      parameters: [...cookie, idParam('id', 'contact id')],
      requestBody: body(note),
      responses: { '200': json('the stored note', note), '400': text('a field is wrong'), '404': text('no such contact'), ...denied },
    },
  },
  {
    method: 'put',
    path: `${CONTACTS}/{id}/notes`,
    operation: {
      tags: TAG,
      summary: 'Edit a note (the body names it by id)',
      parameters: [...cookie, idParam('id', 'contact id')],
      requestBody: body(note),
      responses: { '200': one, '400': text('a field is wrong'), '404': text('no such contact or note'), ...denied },
    },
  },
  {
    method: 'delete',
    path: `${CONTACTS}/{cntId}/notes/{noteId}`,
    operation: {
      tags: TAG,
      summary: 'Delete a note',
      parameters: [...cookie, idParam('cntId', 'contact id'), idParam('noteId', 'note id')],
      responses: { '200': one, '404': text('no such contact or note'), ...denied },
    },
  },
];
