/**
 * GET /recordings/{id}: the recording file, streamed, with single-range
 * support (206 / 416) so players can seek and downloads can resume.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { RouteGroup } from '../http/app.js';
import { ApiError } from '../http/errors.js';
import type { CallStore } from './store.js';
import type { Context } from 'hono';
import type { RecordingRow } from '../db/schema.js';

const CONTENT_TYPE: Readonly<Record<string, string>> = {
  wav: 'audio/wav',
  wav49: 'audio/wav',
  gsm: 'audio/x-gsm',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  sln: 'audio/L16',
};

/** Parses one `bytes=` range against a size; undefined = whole file, null = unsatisfiable. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined | null {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // malformed or multi-range: send it all
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return null;
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return null;
  return { start, end };
}

/** Streams a recording's file: its content type, one Range (206), 416 outside the file, HEAD without a body. */
export async function streamRecording(c: Context, rec: Pick<RecordingRow, 'file' | 'format' | 'name'>): Promise<Response> {
  let size: number;
  try {
    size = (await stat(rec.file)).size;
  } catch {
    throw new ApiError('NOT_FOUND', 'the recording file is not on disk (yet)');
  }
  const type = CONTENT_TYPE[rec.format] ?? 'application/octet-stream';
  const headers: Record<string, string> = {
    'content-type': type,
    'accept-ranges': 'bytes',
    'content-disposition': `attachment; filename="${rec.name}.${rec.format}"`,
  };
  const range = parseRange(c.req.header('range'), size);
  if (range === null) {
    return c.body(null, 416, { ...headers, 'content-range': `bytes */${size}` });
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  const length = size === 0 ? 0 : end - start + 1;
  headers['content-length'] = String(length);
  if (range) headers['content-range'] = `bytes ${start}-${end}/${size}`;
  if (c.req.method === 'HEAD' || length === 0) return c.body(null, range ? 206 : 200, headers);
  const stream = Readable.toWeb(createReadStream(rec.file, { start, end })) as ReadableStream<Uint8Array>;
  return c.body(stream, range ? 206 : 200, headers);
}

export function recordingRoutes(store: CallStore): RouteGroup {
  return {
    prefix: '/recordings',
    doc: [
      {
        method: 'get',
        path: '/recordings/{id}',
        errors: ['NOT_FOUND'],
        operation: {
          tags: ['calls'],
          summary: 'Download a recording',
          description: 'The file of a recording (the `url` of recordList, orderRecords, callList), streamed with its content type. One `Range` (bytes=) is served as 206, so players can seek and downloads resume; an unsatisfiable range is 416. HEAD answers the headers alone.',
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9]{1,15}$' }, description: 'recording id' },
            { name: 'Range', in: 'header', required: false, schema: { type: 'string', example: 'bytes=0-1023' }, description: 'one byte range' },
          ],
          responses: {
            '200': { description: 'the whole file', headers: { 'Accept-Ranges': { schema: { type: 'string', const: 'bytes' } } }, content: Object.fromEntries(Object.values(CONTENT_TYPE).map((t) => [t, { schema: { type: 'string', contentMediaType: t } }])) },
            '206': { description: 'the requested range', headers: { 'Content-Range': { schema: { type: 'string', example: 'bytes 0-1023/160044' } } }, content: { 'audio/wav': { schema: { type: 'string', contentMediaType: 'audio/wav' } } } },
            '416': { description: 'the range lies outside the file', headers: { 'Content-Range': { schema: { type: 'string', example: 'bytes */160044' } } } },
          },
        },
      },
    ],
    install(app) {
      app.get('/recordings/:id{[0-9]{1,15}}', async (c) => {
        const rec = store.recording(Number(c.req.param('id')));
        if (!rec) throw new ApiError('NOT_FOUND', 'no such recording');
        return streamRecording(c, rec);
      });
    },
  };
}
