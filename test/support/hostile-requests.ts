/**
 * Hostile requests generated from an OpenAPI operation: bodies, content types, path and
 * query parameters a careless or malicious client sends. Each request says what must hold:
 * `reject` (a 4xx: the request is invalid by the documented schema) or `survive` (any answer
 * but a 5xx: the request may be valid, e.g. an odd but legal string).
 */

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  default?: unknown;
};

export interface HostileRequest {
  label: string;
  /** Path with its parameters already placed (raw: not normalised, possibly malformed). */
  path: string;
  /** Replaces the operation's valid path parameters, if the variant is about them. */
  pathParams?: Record<string, string>;
  query?: string;
  /** undefined: no body; a string or bytes: sent as is. */
  body?: string | Buffer;
  contentType?: string | null;
  /** Authorization header: undefined keeps the role's valid credentials, null sends none. */
  authorization?: string | null;
  /** Headers replacing the role's own (null: not sent). */
  headers?: Record<string, string | null>;
  expect: 'reject' | 'survive';
}

export function sample<T>(items: T[], count: number, random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, count);
}

/** Follows local `$ref`s against the document's own `$defs`. */
function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace(/^#\/\$defs\//, '');
  return root.$defs?.[name] ?? {};
}

function typesOf(schema: JsonSchema): string[] | null {
  if (schema.type === undefined) return null;
  return Array.isArray(schema.type) ? schema.type : [schema.type];
}

const STRING_CANDIDATES = [
  '2026-10',
  '2026-10-15',
  '2026-10-15T10:00:00+08:00',
  'https://shop.example/item/1',
  'abcdefgh1234',
  '12345',
  'x',
];

/** A plausible value the schema accepts (best effort: the variants matter, not the base). */
export function exampleOf(schema: JsonSchema, root: JsonSchema, depth = 0): unknown {
  const s = resolve(schema, root);
  if (s.const !== undefined) return s.const;
  if (s.enum?.length) return s.enum[0];
  const options = s.anyOf ?? s.oneOf;
  if (options?.length) {
    const option = options.find((o) => !typesOf(o)?.includes('null')) ?? options[0]!;
    return exampleOf(option, root, depth);
  }
  if (s.allOf?.length) return exampleOf(s.allOf[0]!, root, depth);
  const type = typesOf(s)?.[0];
  if (type === 'string') {
    if (s.format === 'date-time') return '2026-10-15T10:00:00+08:00';
    if (s.format === 'date') return '2026-10-15';
    if (s.format === 'uri' || s.format === 'url') return 'https://shop.example/item/1';
    if (s.format === 'email') return 'someone@shop.example';
    const fits = STRING_CANDIDATES.find((c) => accepts(s, c, root));
    return fits ?? 'x'.repeat(Math.max(1, s.minLength ?? 1));
  }
  if (type === 'integer' || type === 'number') {
    const low = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 1);
    return s.maximum !== undefined ? Math.min(low, s.maximum) : low;
  }
  if (type === 'boolean') return true;
  if (type === 'null') return null;
  if (type === 'array') {
    if (depth > 6 || !s.items) return [];
    return Array.from({ length: Math.max(1, s.minItems ?? 1) }, () =>
      exampleOf(s.items!, root, depth + 1),
    );
  }
  if (type === 'object' || s.properties) {
    const out: Record<string, unknown> = {};
    if (depth > 6) return out;
    for (const name of s.required ?? [])
      out[name] = exampleOf(s.properties?.[name] ?? {}, root, depth + 1);
    return out;
  }
  return 'x';
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/**
 * Does the schema accept the value? The keywords the service's zod schemas produce; a keyword
 * not known here accepts, so a "reject" expectation is only ever drawn from what the document
 * says for sure.
 */
export function accepts(schema: JsonSchema, value: unknown, root: JsonSchema): boolean {
  const s = resolve(schema, root);
  if (s.const !== undefined && value !== s.const) return false;
  if (s.enum && !s.enum.includes(value)) return false;
  if (s.anyOf && !s.anyOf.some((o) => accepts(o, value, root))) return false;
  if (s.oneOf && !s.oneOf.some((o) => accepts(o, value, root))) return false;
  if (s.allOf && !s.allOf.every((o) => accepts(o, value, root))) return false;
  const types = typesOf(s);
  const actual = jsonType(value);
  if (types && !types.includes(actual) && !(actual === 'integer' && types.includes('number')))
    return false;
  if (typeof value === 'string') {
    // JSON in UTF-8 cannot hold an unpaired surrogate: a string with one is not text.
    if (/\p{Cs}/u.test(value)) return false;
    const length = [...value].length;
    if (s.minLength !== undefined && length < s.minLength) return false;
    if (s.maxLength !== undefined && length > s.maxLength) return false;
    // The service's schemas often trim before they match: either spelling may be the one checked.
    const pattern = s.pattern ? new RegExp(s.pattern, 'u') : null;
    if (pattern && !pattern.test(value) && !pattern.test(value.trim())) return false;
  }
  if (typeof value === 'number') {
    if (s.minimum !== undefined && value < s.minimum) return false;
    if (s.maximum !== undefined && value > s.maximum) return false;
    if (s.exclusiveMinimum !== undefined && value <= s.exclusiveMinimum) return false;
    if (s.exclusiveMaximum !== undefined && value >= s.exclusiveMaximum) return false;
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) return false;
    if (s.maxItems !== undefined && value.length > s.maxItems) return false;
    if (s.items && !value.every((v) => accepts(s.items!, v, root))) return false;
  }
  if (actual === 'object') {
    const record = value as Record<string, unknown>;
    for (const name of s.required ?? []) if (!(name in record)) return false;
    for (const [name, v] of Object.entries(record)) {
      const property = s.properties?.[name];
      if (property) {
        if (!accepts(property, v, root)) return false;
      } else if (s.additionalProperties === false) return false;
      else if (
        typeof s.additionalProperties === 'object' &&
        !accepts(s.additionalProperties, v, root)
      )
        return false;
    }
  }
  return true;
}

/** A field of the body: where it sits and its schema (object properties, first array items). */
interface Field {
  path: Array<string | number>;
  schema: JsonSchema;
  required: boolean;
}

function fieldsOf(schema: JsonSchema, root: JsonSchema, base: unknown, prefix: Field['path'] = []) {
  const out: Field[] = [];
  const s = resolve(schema, root);
  const options = s.anyOf ?? s.oneOf;
  // A union: the fields of the branch the base value took.
  const branch = options?.find((o) => accepts(o, base, root)) ?? options?.[0];
  const shape = branch ? resolve(branch, root) : s;
  if (prefix.length > 4) return out;
  for (const [name, property] of Object.entries(shape.properties ?? {})) {
    const path = [...prefix, name];
    out.push({ path, schema: property, required: shape.required?.includes(name) ?? false });
    const inner = (base as Record<string, unknown> | undefined)?.[name];
    const p = resolve(property, root);
    if (inner !== undefined) out.push(...fieldsOf(p, root, inner, path));
    if (Array.isArray(inner) && inner.length && p.items)
      out.push(...fieldsOf(p.items, root, inner[0], [...path, 0]));
  }
  return out;
}

function withValue(base: unknown, path: Field['path'], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(base) as Record<string | number, unknown>;
  let node = copy;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    if (node[key] === undefined || node[key] === null || typeof node[key] !== 'object')
      node[key] = typeof path[i + 1] === 'number' ? [] : {};
    node = node[key] as Record<string | number, unknown>;
  }
  const last = path[path.length - 1]!;
  if (value === MISSING) delete node[last];
  else node[last] = value;
  return copy;
}

const MISSING = Symbol('missing');
const DEEP = '\u0001deep\u0001';

/** Values of every JSON type, to put where another is expected. */
const OF_EACH_TYPE: unknown[] = ['seven', 7, 7.5, true, { a: 1 }, [1, 'a'], null];

/** Numbers as written on the wire (2^53+1 and -0 do not survive a JS number). */
const EDGE_NUMBERS = [
  '1e308',
  '-0',
  '"NaN"',
  '"Infinity"',
  '9007199254740993',
  '-1',
  '-100',
  '0.1',
  '1e-320',
];
/** A placeholder for raw JSON text, swapped in after JSON.stringify. */
const rawJson = (text: string) => `\u0002${text}\u0002`;
const spliceRaw = (json: string) =>
  json.replace(/"\\u0002(.*?)\\u0002"/g, (_, t: string) => t.replace(/\\"/g, '"'));

/** Strings that break naive code: lone surrogates, NUL, bidi overrides, emoji, joiners. */
export const EDGE_STRINGS = [
  'a\ud800b',
  '\udfff',
  'nul\u0000byte',
  'rtl\u202egnp.exe',
  '👩‍👩‍👧‍👦 𝕏 🀄',
  'zero\u200bwidth\u200djoin\ufeff',
  '',
  '   ',
  '<script>alert(1)</script>',
  "'; DROP TABLE shops; --",
  '=cmd|" /C calc"!A0',
  '../../etc/passwd',
  '%00%ZZ',
  'ａｂｃ\u0301\u0301\u0301',
];

export function deeplyNested(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

function deepArray(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

export interface OperationShape {
  method: string;
  path: string;
  pathParams: string[];
  query: Array<{ name: string; schema: JsonSchema }>;
  body?: JsonSchema;
}

/** Hostile values for a path parameter (raw, as a client may put them on the wire). */
export const HOSTILE_PATH_VALUES = [
  '..',
  '%2e%2e',
  'a%2Fb',
  '%2F..%2F..%2Fetc%2Fpasswd',
  'x'.repeat(300),
  encodeURIComponent('ünï€😀'),
  '%00',
  '%ZZ',
  '%',
  '%F0%28%8C%28',
  encodeURIComponent('a\u202eb'),
  '__proto__',
  'constructor',
];

/**
 * Every hostile request for one operation, with the operation's valid body as the base
 * of the mutations. Structural variants are all kept; per-field ones are sampled.
 */
export function hostileRequests(
  op: OperationShape,
  random: () => number,
  perFieldSample = 14,
): HostileRequest[] {
  const out: HostileRequest[] = [];
  const root = op.body ?? {};
  const base = op.body ? exampleOf(op.body, root) : undefined;
  const baseText = base === undefined ? undefined : JSON.stringify(base);
  const json = 'application/json';
  const hasBody = op.body !== undefined;
  const bodyRequired = hasBody && (resolve(op.body!, root).required?.length ?? 0) > 0;
  const push = (r: Omit<HostileRequest, 'path'>) => out.push({ path: op.path, ...r });

  // Bodies that are not an object of the documented shape at all.
  if (hasBody) {
    const judge = (raw: string): HostileRequest['expect'] => {
      try {
        return accepts(op.body!, JSON.parse(raw), root) ? 'survive' : 'reject';
      } catch {
        return 'reject';
      }
    };
    for (const raw of [
      '{"a":',
      '{"a":1}}',
      "{'a':1}",
      'null',
      '[]',
      '[{}]',
      '42',
      '"text"',
      'true',
    ])
      push({ label: `body ${raw}`, body: raw, contentType: json, expect: judge(raw) });
    push({
      label: 'body nested 10,000 deep',
      body: deeplyNested(10_000),
      contentType: json,
      expect: judge(deeplyNested(10_000)),
    });
    push({
      label: 'body array nested 10,000 deep',
      body: deepArray(10_000),
      contentType: json,
      expect: 'reject',
    });
    push({
      label: 'body with a 2 MB string',
      body: JSON.stringify({ ...(base as object), big: 'x'.repeat(2 * 1024 * 1024) }),
      contentType: json,
      expect: 'reject',
    });
    push({
      label: 'body invalid UTF-8 bytes',
      body: Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]),
      contentType: json,
      expect: 'reject',
    });
    push({
      label: 'body empty',
      body: '',
      contentType: json,
      expect: bodyRequired ? 'reject' : 'survive',
    });
    push({
      label: 'body form-urlencoded',
      body: 'name=x&role=admin',
      contentType: 'application/x-www-form-urlencoded',
      expect: 'reject',
    });
    push({
      label: 'body text/plain garbage',
      body: 'hello there',
      contentType: 'text/plain',
      expect: 'reject',
    });
    push({
      label: 'valid body as text/plain',
      body: baseText,
      contentType: 'text/plain',
      expect: 'survive',
    });
    push({
      label: 'valid body without content type',
      body: baseText,
      contentType: null,
      expect: 'survive',
    });
    push({
      label: 'valid body in latin1 charset',
      body: baseText,
      contentType: 'application/json; charset=iso-8859-1',
      expect: 'survive',
    });
    push({
      label: 'body with prototype keys',
      body: `{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}},${(baseText ?? '{}').slice(1)}`,
      contentType: json,
      expect: 'survive',
    });
    // An unknown key a strict schema names in its refusal: never echoed back whole.
    for (const count of [1, 300])
      push({
        label: `${count} unknown keys of 50 KB`,
        body: JSON.stringify({
          ...(base as object),
          ...Object.fromEntries(
            Array.from({ length: count }, (_, i) => [
              `${i}${'k'.repeat(count === 1 ? 50_000 : 3000)}`,
              1,
            ]),
          ),
        }),
        contentType: json,
        expect: 'survive',
      });
  } else if (op.method !== 'get') {
    // A body where none is documented: ignored or refused, never a crash.
    push({ label: 'unexpected JSON body', body: '{"a":1}', contentType: json, expect: 'survive' });
    push({
      label: 'unexpected malformed body',
      body: '{"a":',
      contentType: json,
      expect: 'survive',
    });
  } else {
    push({ label: 'body on GET', body: '{"a":1}', contentType: json, expect: 'survive' });
  }

  // Per field: missing, the wrong type, edge numbers, edge strings, an extra field.
  if (hasBody) {
    const fieldVariants: HostileRequest[] = [];
    const variant = (label: string, value: unknown, expect: HostileRequest['expect']) =>
      fieldVariants.push({
        path: op.path,
        label,
        body: JSON.stringify(value),
        contentType: json,
        expect,
      });
    for (const field of fieldsOf(op.body!, root, base)) {
      const name = field.path.join('.');
      const s = resolve(field.schema, root);
      if (field.required)
        variant(`${name} missing`, withValue(base, field.path, MISSING), 'reject');
      for (const value of OF_EACH_TYPE) {
        const body = withValue(base, field.path, value);
        if (!accepts(field.schema, value, root))
          variant(
            `${name} = ${JSON.stringify(value)}`,
            body,
            accepts(op.body!, body, root) ? 'survive' : 'reject',
          );
      }
      const types = typesOf(s) ?? [];
      if (types.includes('number') || types.includes('integer'))
        for (const text of EDGE_NUMBERS) {
          const body = withValue(base, field.path, JSON.parse(text));
          fieldVariants.push({
            path: op.path,
            label: `${name} = ${text}`,
            body: spliceRaw(JSON.stringify(withValue(base, field.path, rawJson(text)))),
            contentType: json,
            expect: accepts(op.body!, body, root) ? 'survive' : 'reject',
          });
        }
      if (
        types.includes('string') ||
        (s.anyOf ?? s.oneOf)?.some((o) => typesOf(o)?.includes('string'))
      )
        for (const value of EDGE_STRINGS) {
          const body = withValue(base, field.path, value);
          variant(
            `${name} = ${JSON.stringify(value)}`,
            body,
            accepts(op.body!, body, root) ? 'survive' : 'reject',
          );
        }
      const deep = JSON.stringify(withValue(base, field.path, DEEP)).replace(
        JSON.stringify(DEEP),
        deeplyNested(10_000),
      );
      fieldVariants.push({
        path: op.path,
        label: `${name} nested 10,000 deep`,
        body: deep,
        contentType: json,
        expect: accepts(field.schema, {}, root) ? 'survive' : 'reject',
      });
    }
    variant(
      'unknown extra fields',
      { ...(base as object), zzExtra: 'x', nested: { deep: [1] } },
      accepts(op.body!, { ...(base as object), zzExtra: 'x', nested: { deep: [1] } }, root)
        ? 'survive'
        : 'reject',
    );
    out.push(...sample(fieldVariants, perFieldSample, random));
    // Every array as long as the body limit allows: work per item must not add up to a hang.
    for (const field of fieldsOf(op.body!, root, base)) {
      const s = resolve(field.schema, root);
      if (!typesOf(s)?.includes('array') || !s.items) continue;
      const item = exampleOf(s.items, root);
      const count = Math.min(20_000, Math.floor(900_000 / (JSON.stringify(item).length + 1)));
      const body = withValue(
        base,
        field.path,
        Array.from({ length: count }, () => item),
      );
      push({
        label: `${field.path.join('.')} × ${count} items`,
        body: JSON.stringify(body),
        contentType: json,
        expect: accepts(op.body!, body, root) ? 'survive' : 'reject',
      });
    }
  }

  // Path parameters, each in turn, with the valid body.
  for (const name of op.pathParams)
    for (const value of sample(HOSTILE_PATH_VALUES, 6, random))
      push({
        label: `path ${name} = ${value.length > 40 ? `${value.slice(0, 12)}…(${value.length})` : value}`,
        pathParams: { [name]: value },
        body: baseText,
        contentType: hasBody ? json : undefined,
        expect: 'reject',
      });

  // Query parameters: the documented ones bent, and a few nobody documented.
  const queryVariants: HostileRequest[] = [];
  for (const q of op.query) {
    const values = [
      '',
      '-1',
      '0',
      '1e308',
      '99999999999999999999',
      '-0',
      'NaN',
      '2026-13-45',
      '%00',
      '%ZZ',
      'x'.repeat(3000),
    ];
    for (const value of values) {
      let decoded = value;
      try {
        decoded = decodeURIComponent(value);
      } catch {
        // Left as sent: the service sees it undecoded too.
      }
      const numeric = typesOf(q.schema)?.some((t) => t === 'integer' || t === 'number');
      const invalid = value !== '' && !accepts(q.schema, numeric ? Number(decoded) : decoded, {});
      queryVariants.push({
        path: op.path,
        label: `query ${q.name}=${value.slice(0, 20)}`,
        query: `${q.name}=${value}`,
        expect: invalid ? 'reject' : 'survive',
      });
    }
    queryVariants.push({
      path: op.path,
      label: `query ${q.name} repeated`,
      query: `${q.name}=1&${q.name}=2`,
      expect: 'survive',
    });
    queryVariants.push({
      path: op.path,
      label: `query ${q.name}[] array`,
      query: `${q.name}[]=1&${q.name}[]=2`,
      expect: 'survive',
    });
  }
  queryVariants.push({
    path: op.path,
    label: 'query unknown names',
    query: 'zz=1&zz=2&__proto__=x&constructor=y',
    expect: 'survive',
  });
  queryVariants.push({
    path: op.path,
    label: 'query malformed escapes',
    query: 'a=%ZZ&b=%&%00=1',
    expect: 'survive',
  });
  for (const r of sample(queryVariants, 10, random))
    out.push({ ...r, body: baseText, contentType: hasBody ? json : undefined });
  return out;
}

/**
 * Mutations of a valid JSON document, schema-less: every key deleted in turn, every node
 * replaced by a value of each other type, every string by the edge strings, every number by
 * the edge numbers, a node nested 10,000 deep. For platform deliveries, whose shape is the
 * platform's, not ours. Each mutation is applied to a fresh document from `make` (fresh event
 * ids, so a mutation is processed, not dropped as a redelivery). Sampled.
 */
export function treeMutations(
  make: () => unknown,
  random: () => number,
  count: number,
): Array<{ label: string; body: string }> {
  const out: Array<{ label: string; path: Array<string | number>; value: unknown }> = [];
  const emit = (path: Array<string | number>, value: unknown, label: string) =>
    out.push({ label: `${path.join('.') || '(root)'} ${label}`, path, value });
  const walk = (node: unknown, path: Array<string | number>) => {
    if (path.length > 8) return;
    if (path.length) emit(path, MISSING, 'missing');
    for (const value of OF_EACH_TYPE)
      if (jsonType(value) !== jsonType(node)) emit(path, value, `= ${JSON.stringify(value)}`);
    emit(path, DEEP, 'nested 10,000 deep');
    if (typeof node === 'string') {
      for (const value of EDGE_STRINGS) emit(path, value, `= ${JSON.stringify(value)}`);
      emit(path, 'x'.repeat(100_000), '= 100 KB string');
    }
    if (typeof node === 'number')
      for (const text of EDGE_NUMBERS) emit(path, rawJson(text), `= ${text}`);
    if (Array.isArray(node)) {
      emit(path, [], '= []');
      emit(
        path,
        Array.from({ length: 1000 }, () => node[0] ?? null),
        '× 1000 items',
      );
      for (const [i, item] of node.entries()) walk(item, [...path, i]);
    } else if (node && typeof node === 'object')
      for (const [key, item] of Object.entries(node)) walk(item, [...path, key]);
  };
  walk(make(), []);
  return sample(out, count, random).map(({ label, path, value }) => ({
    label,
    body: spliceRaw(JSON.stringify(withValue(make(), path, value))).replace(
      JSON.stringify(DEEP),
      deeplyNested(10_000),
    ),
  }));
}
