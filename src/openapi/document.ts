/**
 * The OpenAPI 3.1 document of the HTTP API, generated from what the app
 * serves: every registered ApiMethod (each of its names, GET and POST, the
 * plain, `.json` and `.xml` forms, `.txt` where it has one) with the zod
 * schema its handler validates with, every RouteGroup's own route
 * descriptions, /health, and the error envelope with its codes.
 */
import { z } from 'zod';
import type { ApiMethod, RouteGroup } from '../http/app.js';
import { ApiError, type ErrorCode } from '../http/errors.js';
import type { ApiDoc, ParamVariant, RouteDoc } from './types.js';
import { VERSION } from '../version.js';

/** Every error code, with a compile-time check that none of ErrorCode is missing. */
export const ERROR_CODES = [
  'INVALID_PARAMETER',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'PAYLOAD_TOO_LARGE',
  'DUPLICATE_EXTERNAL_KEY',
  'DUPLICATE_EVENT_ID',
  'UNKNOWN_OPERATOR',
  'OPERATOR_OFFLINE',
  'OPERATOR_BUSY',
  'PBX_UNAVAILABLE',
  'INTERNAL',
] as const satisfies readonly ErrorCode[];
type Missing = Exclude<ErrorCode, (typeof ERROR_CODES)[number]>;
const allCodesListed: [Missing] extends [never] ? true : Missing = true;
void allCodesListed;

const statusOf = (code: ErrorCode): number => new ApiError(code, '').status;

const ERROR_TEXT: Record<ErrorCode, string> = {
  INVALID_PARAMETER: 'a parameter is missing or invalid; `field` names it',
  UNAUTHORIZED: 'no API token, or not a valid one',
  FORBIDDEN: 'the client address is not in CALLBRIDGE_ALLOWED_NETWORKS',
  NOT_FOUND: 'no such method, path or object',
  METHOD_NOT_ALLOWED: 'another HTTP verb than GET or POST (or HEAD on a method that changes data)',
  PAYLOAD_TOO_LARGE: 'the body is over 1 MiB',
  DUPLICATE_EXTERNAL_KEY: 'the external_key was used for another call',
  DUPLICATE_EVENT_ID: 'the event_id was stored with other content',
  UNKNOWN_OPERATOR: 'Asterisk has no such SIP endpoint',
  OPERATOR_OFFLINE: 'the operator is not registered or unreachable',
  OPERATOR_BUSY: 'the operator is already in a call',
  PBX_UNAVAILABLE: 'the control link to Asterisk is down',
  INTERNAL: 'internal error (e.g. the database does not take writes)',
};

/** Errors any API method can answer with: access (401, 403), verb (405), body (413), parameters (400), failures (500). */
const COMMON_METHOD_ERRORS: readonly ErrorCode[] = ['INVALID_PARAMETER', 'UNAUTHORIZED', 'FORBIDDEN', 'METHOD_NOT_ALLOWED', 'PAYLOAD_TOO_LARGE', 'INTERNAL'];
const COMMON_ROUTE_ERRORS: readonly ErrorCode[] = ['UNAUTHORIZED', 'FORBIDDEN', 'INTERNAL'];

type Json = Record<string, unknown>;

const TAGS = [
  { name: 'calls', description: 'click-to-call, status chains, calls the PBX carries, recordings' },
  { name: 'presence', description: 'SIP endpoints and their status' },
  { name: 'events', description: 'events API of the dialplan hooks and the CRM' },
  { name: 'service', description: 'health, metrics, this document' },
  { name: 'simulator', description: 'control of the simulated PBX: served only in simulated mode (CALLBRIDGE_SIMULATE=1)' },
];

/** A zod schema as JSON Schema of what it accepts (its input side; transforms are described by what they take). */
function inputSchema(schema: z.ZodType): Json {
  const out = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  delete out.$schema;
  return out;
}

interface ParamSet {
  name: string;
  schema: Json;
  fixed: Readonly<Record<string, string>>;
}

function paramSets(params: ApiDoc['params']): ParamSet[] {
  if (!params) return [];
  if (Array.isArray(params)) {
    return (params as readonly ParamVariant[]).map((v) => ({ name: v.name, schema: inputSchema(v.schema), fixed: v.fixed ?? {} }));
  }
  return [{ name: 'parameters', schema: inputSchema(params as z.ZodType), fixed: {} }];
}

/** The body schema of one parameter set: its properties, with the fixed selectors as constants. */
function bodySchema(set: ParamSet, extra: boolean): Json {
  const properties = { ...((set.schema.properties as Json | undefined) ?? {}) };
  const required = [...((set.schema.required as string[] | undefined) ?? [])];
  for (const [k, v] of Object.entries(set.fixed)) {
    properties[k] = { type: 'string', const: v, description: 'any case' };
    required.push(k);
  }
  return {
    type: 'object',
    ...(set.name !== 'parameters' ? { title: set.name } : {}),
    properties: { ...properties, token: { type: 'string', description: 'API token, when not sent as Authorization: Bearer' } },
    ...(required.length ? { required } : {}),
    additionalProperties: extra ? { type: 'string' } : true,
  };
}

/** What the shared parameters mean, where their schema carries no description. */
const PARAM_NOTES: Readonly<Record<string, string>> = {
  page: 'page number, from 1 [1]',
  per_page: 'items per page, 1-100 [20]',
  before_id: 'keyset cursor: next_before_id of the previous page',
  since_id: 'the statuses after this id (next_since_id of the previous answer)',
  token: 'API token, when not sent as Authorization: Bearer',
};

/** Query parameters: the union of every set's properties, required only when every set requires it. */
function queryParameters(sets: ParamSet[]): Json[] {
  const byName = new Map<string, { schema: Json; requiredIn: number }>();
  for (const set of sets) {
    const props = { ...((set.schema.properties as Record<string, Json> | undefined) ?? {}) };
    for (const [k, v] of Object.entries(set.fixed)) props[k] = { type: 'string', enum: [v] };
    const req = new Set([...((set.schema.required as string[] | undefined) ?? []), ...Object.keys(set.fixed)]);
    for (const [name, schema] of Object.entries(props)) {
      const prev = byName.get(name);
      if (!prev) byName.set(name, { schema, requiredIn: req.has(name) ? 1 : 0 });
      else {
        if (prev.schema.enum && schema.enum) prev.schema = { ...prev.schema, enum: [...(prev.schema.enum as string[]), ...(schema.enum as string[])] };
        if (req.has(name)) prev.requiredIn += 1;
      }
    }
  }
  return [...byName].map(([name, { schema, requiredIn }]) => {
    const { description, ...rest } = schema;
    return {
      name,
      in: 'query',
      required: requiredIn === sets.length && sets.length > 0,
      ...(description || PARAM_NOTES[name] ? { description: description ?? PARAM_NOTES[name] } : {}),
      schema: rest,
    };
  });
}

function errorResponses(codes: readonly ErrorCode[]): Json {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) byStatus.set(statusOf(code), [...(byStatus.get(statusOf(code)) ?? []), code]);
  const out: Json = {};
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    out[String(status)] = {
      description: list.map((c) => `${c}: ${ERROR_TEXT[c]}`).join('; '),
      content: {
        'application/json': { schema: { $ref: '#/components/schemas/Error' }, example: { error: { code: list[0], message: ERROR_TEXT[list[0]!] } } },
        'application/xml': { schema: { $ref: '#/components/schemas/Error' } },
      },
    };
  }
  return out;
}

const opId = (name: string, suffix: string, verb: string) => `${name.replace(/[^A-Za-z0-9]/g, '_')}${suffix ? `_${suffix}` : ''}_${verb}`;

function methodPaths(m: ApiMethod, paths: Json, components: { schemas: Json }): void {
  const doc = m.doc;
  const sets = paramSets(doc?.params);
  const canonical = m.names[0]!;
  const schemaName = `${canonical.replace(/[^A-Za-z0-9]/g, '_')}Params`;
  const bodies = sets.map((s) => bodySchema(s, doc?.extraParams ?? false));
  components.schemas[schemaName] = bodies.length === 0 ? { type: 'object', additionalProperties: true } : bodies.length === 1 ? bodies[0] : { oneOf: bodies };
  const ref = { $ref: `#/components/schemas/${schemaName}` };
  const parameters = queryParameters(sets);
  const errors = [...COMMON_METHOD_ERRORS, ...(doc?.errors ?? [])];
  const aliasNote = m.names.length > 1 ? ` Also answers as ${m.names.filter((n) => n !== canonical).map((n) => `/api/${n}`).join(', ')}.` : '';
  const base = `${doc?.description ?? ''}${aliasNote} Names are case-insensitive; parameters come in the query string, a form body (URL-encoded or multipart) or a JSON object body, every value a string.`.trim();
  const example = doc?.example;
  for (const name of m.names) {
    for (const [suffix, format] of [['', 'json'], ['json', 'json'], ['xml', 'xml']] as const) {
      const path = `/api/${name}${suffix ? `.${suffix}` : ''}`;
      const okContent =
        format === 'xml'
          ? { 'application/xml': { schema: { type: 'string', description: 'the JSON answer\'s names under a <response> root; lists as repeated singular elements' } } }
          : { 'application/json': { schema: { type: 'object' }, ...(example ? { example: example.response } : {}) } };
      const op = (verb: 'get' | 'post'): Json => ({
        tags: [doc?.tag ?? 'other'],
        summary: doc?.summary ?? name,
        description: `${base}${format === 'xml' ? ' This form answers XML.' : ''}${m.changes ? ' HEAD does not run it (405).' : ''}`,
        operationId: opId(name, suffix, verb),
        parameters,
        ...(verb === 'post'
          ? {
              requestBody: {
                required: false,
                content: {
                  'application/x-www-form-urlencoded': { schema: ref, ...(example ? { example: example.request } : {}) },
                  'multipart/form-data': { schema: ref },
                  'application/json': { schema: ref, ...(example ? { example: example.request } : {}) },
                },
              },
            }
          : {}),
        responses: { '200': { description: 'done', content: okContent }, ...errorResponses(errors) },
      });
      paths[path] = { get: op('get'), post: op('post') };
    }
    if (m.text) {
      const op = (verb: 'get' | 'post'): Json => ({
        tags: [doc?.tag ?? 'other'],
        summary: `${doc?.summary ?? name} (plain text)`,
        description: doc?.text ?? 'the answer as plain text',
        operationId: opId(name, 'txt', verb),
        parameters,
        ...(verb === 'post' ? { requestBody: { required: false, content: { 'application/x-www-form-urlencoded': { schema: ref }, 'application/json': { schema: ref } } } } : {}),
        responses: {
          '200': { description: 'the answer', content: { 'text/plain': { schema: { type: 'string' }, ...(example ? { example: Object.values(example.response)[0] } : {}) } } },
          '404': { description: 'not known (empty body)' },
          ...Object.fromEntries(Object.entries(errorResponses(errors)).filter(([s]) => s !== '404')),
        },
      });
      paths[`/api/${name}.txt`] = { get: op('get'), post: op('post') };
    }
  }
}

function routePaths(doc: readonly RouteDoc[], open: boolean, paths: Json): void {
  for (const r of doc) {
    const item = (paths[r.path] ??= {}) as Json;
    const responses = { ...((r.operation.responses as Json | undefined) ?? {}) };
    const errors = [...(open ? COMMON_ROUTE_ERRORS.filter((c) => c !== 'UNAUTHORIZED') : COMMON_ROUTE_ERRORS), ...(r.errors ?? [])];
    for (const [status, resp] of Object.entries(errorResponses(errors))) responses[status] ??= resp;
    item[r.method] = {
      operationId: `${r.method}${r.path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+/g, '_')}`,
      ...r.operation,
      ...(open && !('security' in r.operation) ? { security: [] } : {}),
      responses,
    };
  }
}

/** What /health answers with (the route is the app's own). */
const HEALTH_DOC: RouteDoc = {
  method: 'get',
  path: '/health',
  errors: [],
  operation: {
    tags: ['service'],
    summary: 'Daemon health',
    description: 'Open (no token; the network allow-list applies). `status` is `degraded` (503) while AMI or ARI is down or the database takes no writes; `db_error` then says why.',
    responses: {
      '200': { description: 'all is well', content: { 'application/json': { schema: { $ref: '#/components/schemas/Health' }, example: { status: 'ok', ami: 'connected', ari: 'connected', db: 'ok', version: VERSION } } } },
      '503': { description: 'degraded', content: { 'application/json': { schema: { $ref: '#/components/schemas/Health' }, example: { status: 'degraded', ami: 'disconnected', ari: 'connected', db: 'ok', version: VERSION } } } },
    },
  },
};

export interface DocumentOptions {
  methods: readonly ApiMethod[];
  routes: readonly RouteGroup[];
  /** base URL of the servers entry; relative ('/') by default */
  serverUrl?: string;
  /** the API needs a token (CALLBRIDGE_API_TOKENS is set) */
  tokens?: boolean;
}

export function openApiDocument(opts: DocumentOptions): Json {
  const paths: Json = {};
  const components = {
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: {
              code: { type: 'string', enum: [...ERROR_CODES] },
              message: { type: 'string' },
              field: { type: 'string', description: 'the offending parameter (INVALID_PARAMETER)' },
              call_id: { type: 'integer', description: 'a refused makeCall: the id under which the attempt was recorded' },
              cdr_id: { type: 'integer', description: 'DUPLICATE_EVENT_ID: the stored record' },
            },
            additionalProperties: true,
          },
        },
        example: { error: { code: 'INVALID_PARAMETER', message: 'phone: must be 3-20 digits with an optional leading "+"', field: 'phone' } },
      },
      Health: {
        type: 'object',
        required: ['status'],
        properties: {
          status: { type: 'string', enum: ['ok', 'degraded'] },
          ami: { type: 'string', enum: ['connected', 'disconnected'] },
          ari: { type: 'string', enum: ['connected', 'disconnected', 'disabled'] },
          db: { type: 'string', enum: ['ok', 'error'] },
          db_error: { type: 'string' },
          version: { type: 'string' },
        },
        additionalProperties: true,
      },
    } as Json,
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer', description: 'one of CALLBRIDGE_API_TOKENS' },
      token: { type: 'apiKey', in: 'query', name: 'token', description: 'the same token as a parameter, for CRMs that can only build URLs' },
    },
  };
  routePaths([HEALTH_DOC], true, paths);
  for (const m of [...opts.methods].sort((a, b) => a.names[0]!.localeCompare(b.names[0]!))) methodPaths(m, paths, components);
  for (const g of opts.routes) routePaths(g.doc ?? [], g.open ?? false, paths);
  const sorted = Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b)));
  return {
    openapi: '3.1.0',
    info: {
      title: 'callbridge',
      version: VERSION,
      description:
        'Click-to-call, call status chains, presence and recordings for Asterisk / FreePBX. Every `/api/<method>` answers GET and POST; ' +
        'a `.json` or `.xml` suffix picks the format (JSON by default). Errors have one shape (`Error`). ' +
        (opts.tokens
          ? 'This daemon requires an API token: `Authorization: Bearer <token>` or `token=<token>`.'
          : 'This daemon runs without API tokens (loopback only); with CALLBRIDGE_API_TOKENS set every request needs one.'),
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: opts.serverUrl ?? '/' }],
    tags: TAGS,
    // without tokens configured the API is open (on loopback): the empty requirement says so
    security: opts.tokens ? [{ bearer: [] }, { token: [] }] : [{}, { bearer: [] }, { token: [] }],
    paths: sorted,
    components,
  };
}
