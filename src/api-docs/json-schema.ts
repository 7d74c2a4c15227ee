/**
 * The JSON Schema subset both API documents use. It is kept to what draft-07 (AsyncAPI's schema
 * format) and 2020-12 (OpenAPI 3.1's) read the same way: no tuple keywords, no `$ref` beside
 * other keywords, `null` as a type. So one schema serves both documents and the tests' ajv.
 */
export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  description?: string;
  format?: string;
  enum?: readonly (string | number | boolean | null)[];
  const?: string | number | boolean;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: boolean | JsonSchema;
  oneOf?: JsonSchema[];
  examples?: unknown[];
}

/** A reference to a schema of `components.schemas` (the same place in both documents). */
export function ref(name: string): JsonSchema {
  return { $ref: `#/components/schemas/${name}` };
}

/** An object whose listed properties are all required and no others allowed. */
export function closed(properties: Record<string, JsonSchema>, description?: string): JsonSchema {
  return { type: 'object', ...(description === undefined ? {} : { description }), properties, required: Object.keys(properties), additionalProperties: false };
}

export const DECIMAL: JsonSchema = { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]+)?$', description: 'an exact decimal, in the symbol\'s decimals' };
export const DECIMAL_OR_NULL: JsonSchema = { type: ['string', 'null'], pattern: '^-?[0-9]+(\\.[0-9]+)?$', description: 'an exact decimal, or null when there is none' };
export const TIMESTAMP: JsonSchema = { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$', description: 'ISO-8601 UTC to the microsecond' };
export const TIMESTAMP_OR_NULL: JsonSchema = { type: ['string', 'null'], pattern: TIMESTAMP.pattern, description: 'ISO-8601 UTC to the microsecond, or null before the first event' };
export const SEQUENCE: JsonSchema = { type: 'integer', minimum: 0, description: "the symbol's sequence: every accepted event takes the next one" };
export const INTEGER: JsonSchema = { type: 'integer', minimum: 0 };
export const STRING: JsonSchema = { type: 'string' };
export const BOOLEAN: JsonSchema = { type: 'boolean' };
export const LEVEL: JsonSchema = { type: 'array', items: DECIMAL, minItems: 2, maxItems: 2, description: '[price, size]' };
export const LEVELS: JsonSchema = { type: 'array', items: LEVEL, description: 'best first' };
