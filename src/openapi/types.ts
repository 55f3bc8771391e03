/**
 * What a feature tells the API document about its methods and routes. The
 * parameter schemas are the very zod objects the handlers validate with
 * (given to `parse`), so the document cannot drift from what is accepted.
 */
import type { z } from 'zod';
import type { ErrorCode } from '../http/errors.js';

/** One parameter set of a method; `fixed` names parameters whose value selects this set (e.g. `type=coming`). */
export interface ParamVariant {
  name: string;
  schema: z.ZodType;
  fixed?: Readonly<Record<string, string>>;
}

export interface ApiDoc {
  summary: string;
  description?: string;
  /** grouping in the interactive docs */
  tag: string;
  /** the schema `handle` validates its parameters with, or its alternatives */
  params?: z.ZodType | readonly ParamVariant[];
  /** parameters beyond the schema are kept (stored with the event) rather than ignored */
  extraParams?: boolean;
  /** a request's parameters and the answer it gets */
  example?: { request: Readonly<Record<string, string>>; response: Readonly<Record<string, unknown>> };
  /** error codes the method itself answers with (the access and format errors are added for every method) */
  errors?: readonly ErrorCode[];
  /** `/api/<name>.txt`: what the plain-text answer is */
  text?: string;
}

/** A plain route of a RouteGroup, as OpenAPI describes it. */
export interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'delete' | 'head';
  /** OpenAPI path template, e.g. /recordings/{id} */
  path: string;
  /** an OpenAPI 3.1 operation object (summary, parameters, responses, ...) */
  operation: Record<string, unknown>;
  /** error codes the route answers with (the access errors are added) */
  errors?: readonly ErrorCode[];
}
