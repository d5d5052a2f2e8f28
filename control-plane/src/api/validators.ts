import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

type AddFormats = (ajv: Ajv) => Ajv;
const addFormats: AddFormats =
  ((addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats));

/**
 * Request validation for the API, stricter than fastify's defaults:
 * - bodies are validated as sent: no type coercion (`"5"` is not a number), no removal of unknown
 *   fields (they are refused, named in the error), no defaults injected into what gets stored;
 * - query strings, path parameters and headers are text by nature, so they are coerced to the
 *   declared scalar types (`?limit=10`);
 * - all errors are collected, so one response names every bad field. The body limit (1 MiB by
 *   default) bounds the work this costs.
 */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const common: Options = { allErrors: true, strict: false, removeAdditional: false, useDefaults: false };
  const bodyAjv = addFormats(new Ajv({ ...common, coerceTypes: false }));
  const textAjv = addFormats(new Ajv({ ...common, coerceTypes: true, useDefaults: true }));
  return ({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? bodyAjv : textAjv;
    return ajv.compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>;
  };
}

/** A standalone validator (for JSON Schemas that are not request parts, e.g. the filter's config schema). */
export function createJsonSchemaValidator(): Ajv {
  return addFormats(new Ajv({ allErrors: true, strict: false, removeAdditional: false, useDefaults: false, coerceTypes: false }));
}
