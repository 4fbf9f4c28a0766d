// fast-check arbitraries of malformed requests, each carrying the answer the contract names for it ("Which error wins").
import fc from 'fast-check';
import { CANCELLATION_REASONS, REFUND_STATUSES, REQUESTABLE_REFUND_REASONS } from '../../src/refunds/types.js';
import { auth, KEYS } from './gateway.js';

export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

type Where = 'body' | 'query' | 'path' | 'header';

export interface Expected {
  status: number;
  code: string;
  /** For validation_error: at least one listed problem is in one of these. */
  wheres?: Where[];
}

export interface MalformedCase {
  route: RouteName;
  /** What was broken, in words, for the counterexample. */
  defects: string[];
  request: FuzzRequest;
  expected: Expected;
}

export const ROUTE_NAMES = ['createRefund', 'cancel', 'getRefund', 'listRefunds', 'getPayment', 'listEvents', 'createBatch', 'getBatch', 'listBatchItems', 'cancelBatch'] as const;
export type RouteName = (typeof ROUTE_NAMES)[number];

/** A JSON member as raw text, so a body can repeat keys, hold `1e400` or nest thousands deep. */
type Member = [key: string, rawValue: string];

const member = (key: string, value: unknown): Member => [key, JSON.stringify(value)];
const objectText = (members: Member[]): string => `{${members.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;

interface Template {
  method: 'GET' | 'POST';
  /** The path with `{id}` where an id goes. */
  path: string;
  id?: string;
  /** A valid body (members), or none. */
  body?: Member[];
  /** A key that holds the scope of the route, and one that does not. */
  key: string;
  wrongScopeKeys: string[];
  idempotencyKey?: 'required' | 'optional';
  /** Methods the path does not allow. */
  wrongMethods: string[];
}

/** One valid batch item, as members: the batch body's mutations break a copy of it. */
const BATCH_ITEM: Member[] = [member('key', 'item-1'), member('payment_intent', 'pi_Fuzz1'), member('amount', 100), member('metadata', { order: '42' })];
const itemsOf = (...items: Member[][]): string => `[${items.map(objectText).join(',')}]`;

const TEMPLATES: Record<RouteName, Template> = {
  createRefund: {
    method: 'POST',
    path: '/v1/refunds',
    body: [member('payment_intent', 'pi_Fuzz1'), member('amount', 100), member('metadata', { order: '42' })],
    key: KEYS.billing,
    wrongScopeKeys: [KEYS.support, KEYS.ops],
    idempotencyKey: 'required',
    wrongMethods: ['PUT', 'PATCH', 'DELETE', 'OPTIONS'],
  },
  cancel: {
    method: 'POST',
    path: '/v1/payment-intents/{id}/cancel',
    id: 'pi_Fuzz1',
    body: [member('cancellation_reason', 'requested_by_customer')],
    key: KEYS.ops,
    wrongScopeKeys: [KEYS.support],
    idempotencyKey: 'optional',
    wrongMethods: ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
  },
  getRefund: { method: 'GET', path: '/v1/refunds/{id}', id: 're_Fuzz1', key: KEYS.support, wrongScopeKeys: [KEYS.ops], wrongMethods: ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] },
  listRefunds: { method: 'GET', path: '/v1/refunds', key: KEYS.support, wrongScopeKeys: [KEYS.ops], wrongMethods: ['PUT', 'PATCH', 'DELETE', 'OPTIONS'] },
  getPayment: { method: 'GET', path: '/v1/payments/{id}', id: 'pi_Fuzz1', key: KEYS.support, wrongScopeKeys: [KEYS.ops], wrongMethods: ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] },
  listEvents: { method: 'GET', path: '/v1/events', key: KEYS.support, wrongScopeKeys: [KEYS.ops], wrongMethods: ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] },
  createBatch: {
    method: 'POST',
    path: '/v1/refund-batches',
    body: [['items', itemsOf(BATCH_ITEM, [member('key', 'item-2'), member('charge', 'ch_Fuzz2')])]],
    key: KEYS.billing,
    wrongScopeKeys: [KEYS.support, KEYS.ops],
    idempotencyKey: 'required',
    wrongMethods: ['GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
  },
  getBatch: { method: 'GET', path: '/v1/refund-batches/{id}', id: 'rb_Fuzz1', key: KEYS.support, wrongScopeKeys: [KEYS.ops], wrongMethods: ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] },
  listBatchItems: { method: 'GET', path: '/v1/refund-batches/{id}/items', id: 'rb_Fuzz1', key: KEYS.support, wrongScopeKeys: [KEYS.ops], wrongMethods: ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] },
  cancelBatch: {
    method: 'POST',
    path: '/v1/refund-batches/{id}/cancel',
    id: 'rb_Fuzz1',
    body: [],
    key: KEYS.billing,
    wrongScopeKeys: [KEYS.support, KEYS.ops],
    idempotencyKey: 'optional',
    wrongMethods: ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
  },
};

// ---- small pieces ----

/** `arbitrary` in `percent`% of cases, undefined otherwise. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>, percent: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: 100 - percent }, { arbitrary, weight: percent });

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const alnum = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...ALNUM), minLength: min, maxLength: max });
/** Anything a caller could type, and more: unicode, lone surrogates, control characters. */
const anyText = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }));
const deep = (depth: number, open: '[' | '{'): string => (open === '[' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + 'null' + '}'.repeat(depth));
const deepValue = fc.tuple(fc.integer({ min: 2, max: 3000 }), fc.constantFrom<'[' | '{'>('[', '{')).map(([d, o]) => deep(d, o));
/** Any JSON value as text, from a plain one to a deeply nested one. */
const anyJsonText = fc.oneof(fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'), deepValue);

/** An id that its slot refuses: wrong prefix, unicode, too long, punctuation, empty after the prefix. */
const badId = (prefix: string) =>
  fc.oneof(
    alnum(1, 20).map((s) => `zz_${s}`),
    alnum(1, 20).map((s) => (prefix === 're' ? `ch_${s}` : `re_${s}`)),
    fc.constantFrom('ü', 'é', '１', 'ß', '😀', '\u200b', '-', '.', ' ', '%', '/').map((c) => `${prefix}_a${c}b`),
    fc.integer({ min: 251, max: 600 }).map((n) => `${prefix}_${'a'.repeat(n)}`),
    fc.constant(`${prefix}_`),
    fc.constant(prefix),
  );
const badIdJson = (prefix: string) => fc.oneof(badId(prefix).map((s) => JSON.stringify(s)), fc.constantFrom('1', 'null', 'true', '[]', '{}', `["${prefix}_1"]`));

// ---- body defects: each leaves the body certainly invalid ----

const notJson = (valid: string) =>
  fc.oneof(
    // A proper prefix of an object is never JSON.
    fc.integer({ min: 1, max: Math.max(1, valid.length - 1) }).map((n) => valid.slice(0, n)),
    fc.string({ minLength: 1, maxLength: 60 }).filter((s) => s.trim() !== '' && !parses(s)),
    fc.constant(`\uFEFF${valid}`),
    fc.constantFrom("{'charge': 'ch_1'}", '{charge: "ch_1"}', '{"amount": 01}', '{"amount": NaN}', '{"a": undefined}', '{"a":1,}', '[1,]', 'nul', 'tru', '"unterminated'),
  );

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Bytes that are not UTF-8, spliced into a valid body: lenient decoding would turn them into U+FFFD. */
const notUtf8 = (valid: string) => {
  // Inside a free-text string (a metadata value) is where lenient decoding would go unnoticed; anywhere else too.
  const inside = valid.indexOf('"42"') + 2;
  const at = inside > 1 ? fc.oneof(fc.constant(inside), fc.integer({ min: 0, max: valid.length })) : fc.integer({ min: 0, max: valid.length });
  return fc
    .tuple(at, fc.constantFrom([0xff], [0xfe], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0x80]))
    .map(([i, bytes]) => Buffer.concat([Buffer.from(valid.slice(0, i)), Buffer.from(bytes), Buffer.from(valid.slice(i))]));
};

const nonObjectJson = fc.oneof(
  fc.constantFrom('null', '[]', '""', '0', 'false', 'true', '-1', '1e400'),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }).map((a) => JSON.stringify(a)),
  anyText.map((s) => JSON.stringify(s)),
  fc.double().map((d) => JSON.stringify(d)),
  deepValue.filter((t) => t.startsWith('[')),
);

const BAD_AMOUNTS = ['0', '-1', '1.5', '100000000', '"100"', 'true', 'null', '[]', '{}', '1e21', '-0.5', '1e400', '-1e400', '0.0000001', '99999999999999999999', '9007199254740993', '1e308', '-0', '"1e2"', '" 100"'];
const badAmount = fc.oneof(
  fc.constantFrom(...BAD_AMOUNTS),
  fc.integer({ min: 100_000_000 }).map(String),
  fc.integer({ max: 0 }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)).map(String),
  deepValue,
);

/** Each way metadata breaks the contract (and Stripe's limits), as its own generator. */
const badMetadata: fc.Arbitrary<string>[] = [
  fc.constantFrom('"x"', '1', '[]', 'null', 'true', '[{"a":"b"}]'),
  fc.constantFrom('__proto__', 'constructor', 'prototype').map((k) => `{"order":"42","${k}":"v"}`),
  fc.constant('{"__proto__":{"x":"y"}}'),
  fc.integer({ min: 41, max: 200 }).map((n) => objectText([member('k'.repeat(n), 'v')])),
  fc.constantFrom('a[b', 'a]', '[', '', 'gateway_caller', 'gateway_x').map((k) => objectText([member(k, 'v')])),
  fc.integer({ min: 501, max: 3000 }).map((n) => objectText([member('note', 'v'.repeat(n))])),
  anyJsonText.filter((t) => !t.startsWith('"')).map((v) => `{"order":${v}}`),
  fc.integer({ min: 49, max: 80 }).map((n) => objectText(Array.from({ length: n }, (_, i) => member(`k${i}`, 'v')))),
  fc.constant('{"order":"1","order":"2"}'),
];

const REFUND_KEYS = new Set(['charge', 'payment_intent', 'amount', 'currency', 'reason', 'metadata']);
const unknownKey = (known: Set<string>) => fc.oneof(anyText, alnum(1, 30)).filter((k) => !known.has(k));

type Mutation = { what: string; apply: (members: Member[]) => Member[] };
const set = (key: string, raw: string) => (members: Member[]): Member[] => [...members.filter(([k]) => k !== key), [key, raw]];
const without = (...keys: string[]) => (members: Member[]): Member[] => members.filter(([k]) => !keys.includes(k));
const setting = (key: string, values: fc.Arbitrary<string>): fc.Arbitrary<Mutation> => values.map((v) => ({ what: `${key} ${v.slice(0, 40)}`, apply: set(key, v) }));
const adding = (known: Set<string>): fc.Arbitrary<Mutation> =>
  fc.tuple(unknownKey(known), anyJsonText).map(([k, v]) => ({ what: `unknown field ${JSON.stringify(k).slice(0, 30)}`, apply: (m: Member[]) => [...m, [k, v] as Member] }));
/** Hundreds of unknown fields: every one is listed, and the answer must still be a plain 400. */
const flooding: fc.Arbitrary<Mutation> = fc
  .integer({ min: 50, max: 400 })
  .map((n) => ({ what: `${n} unknown fields`, apply: (m: Member[]) => [...m, ...Array.from({ length: n }, (_, i) => member(`x${i}`, i))] }));
const repeating: fc.Arbitrary<Mutation> = fc.constant({ what: 'a repeated key', apply: (m: Member[]) => [...m, ...m.slice(0, 1)] });
const forbidding: fc.Arbitrary<Mutation> = fc
  .constantFrom('__proto__', 'constructor', 'prototype')
  .map((k) => ({ what: `top-level key ${k}`, apply: (m: Member[]) => [...m, [k, '{}'] as Member] }));

/** Every way to break a refund body, each as likely as the others (a nested oneof would make the deep ones rare). */
const refundMutations: fc.Arbitrary<Mutation>[] = [
  setting('amount', badAmount),
  setting('payment_intent', badIdJson('pi')),
  badIdJson('ch').map((v) => ({ what: `charge instead ${v.slice(0, 30)}`, apply: (m: Member[]) => set('charge', v)(without('payment_intent')(m)) })),
  // Sets both, so that it stays wrong whatever another mutation did before it (every mutation must be wrong on its own).
  fc.constant({ what: 'charge and payment_intent', apply: (m: Member[]) => set('payment_intent', '"pi_Fuzz1"')(set('charge', '"ch_Fuzz1"')(m)) }),
  fc.constant({ what: 'neither charge nor payment_intent', apply: without('charge', 'payment_intent') }),
  setting('currency', fc.constantFrom('"USD"', '"us"', '"usdd"', '""', '1', 'null', '"u$d"', '"€"')),
  setting(
    'reason',
    fc.oneof(anyText.filter((r) => !(REQUESTABLE_REFUND_REASONS as readonly string[]).includes(r)).map((r) => JSON.stringify(r)), fc.constantFrom('null', '1', '"expired_uncaptured_charge"')),
  ),
  ...badMetadata.map((values) => setting('metadata', values)),
  adding(REFUND_KEYS),
  flooding,
  repeating,
  forbidding,
];

const cancelMutations: fc.Arbitrary<Mutation>[] = [
  setting(
    'cancellation_reason',
    fc.oneof(anyText.filter((r) => !(CANCELLATION_REASONS as readonly string[]).includes(r)).map((r) => JSON.stringify(r)), fc.constantFrom('null', '1', '[]', '"Duplicate"'), deepValue),
  ),
  adding(new Set(['cancellation_reason'])),
  flooding,
  fc.constant({ what: 'a repeated key', apply: (m: Member[]) => [...m, member('cancellation_reason', 'abandoned')] }),
  forbidding,
];

/** A batch's items with one item broken the way a refund body breaks (each refund mutation, inside the batch). */
const itemMutations: fc.Arbitrary<Mutation>[] = [...refundMutations, setting('key', fc.constantFrom('""', '1', 'null', '"clé"', '"tab\\there"', JSON.stringify('k'.repeat(256)))), fc.constant({ what: 'an item without key', apply: without('key') })].map(
  (mutation) => mutation.map(({ what, apply }) => ({ what: `item ${what}`, apply: set('items', itemsOf([member('key', 'item-0'), member('charge', 'ch_Fuzz0')], apply(BATCH_ITEM))) })),
);

const batchMutations: fc.Arbitrary<Mutation>[] = [
  ...itemMutations,
  setting('items', fc.constantFrom('null', '{}', '"x"', '1', 'true', '[]', '[1]', '[null]', '["item"]', '[[]]')),
  fc.constant({ what: 'no items', apply: without('items') }),
  fc.constant({ what: 'an item key twice', apply: set('items', itemsOf(BATCH_ITEM, [member('charge', 'ch_Fuzz2'), member('key', 'item-1')])) }),
  adding(new Set(['items'])),
  flooding,
  forbidding,
  fc.constant({ what: 'a repeated key', apply: (m: Member[]) => [...m, ['items', itemsOf(BATCH_ITEM)] as Member] }),
];

/** The cancel of a batch takes no body but `{}`: anything in it is refused. */
const cancelBatchMutations: fc.Arbitrary<Mutation>[] = [adding(new Set()), flooding, forbidding];

const BODY_MUTATIONS = { createRefund: refundMutations, cancel: cancelMutations, createBatch: batchMutations, cancelBatch: cancelBatchMutations };
type BodyRoute = keyof typeof BODY_MUTATIONS;
const hasBody = (route: RouteName): route is BodyRoute => route in BODY_MUTATIONS;

/** A body that its route's schema refuses, as text or bytes. */
function badBody(route: BodyRoute): fc.Arbitrary<{ what: string; payload: string | Buffer }> {
  const valid = objectText(TEMPLATES[route].body ?? []);
  const mutations = BODY_MUTATIONS[route];
  const mutated = (first: Mutation, second: Mutation | undefined) => ({
    what: [first, second].filter((m) => m !== undefined).map((m) => m.what).join('; '),
    payload: objectText([first, second].reduce((members, m) => (m ? m.apply(members) : members), TEMPLATES[route].body ?? [])),
  });
  return fc.oneof(
    notJson(valid).map((payload) => ({ what: `not JSON: ${payload.slice(0, 40)}`, payload })),
    notUtf8(valid).map((payload) => ({ what: 'not UTF-8', payload })),
    nonObjectJson.map((payload) => ({ what: `not an object: ${payload.slice(0, 40)}`, payload })),
    ...mutations.map((first) => fc.tuple(first, sometimes(fc.oneof(...mutations), 20)).map(([a, b]) => mutated(a, b))),
  );
}

// ---- query, header and path defects ----

const LIST_PARAMS = new Set(['charge', 'payment_intent', 'status', 'requested_by', 'limit', 'starting_after']);
const enc = encodeURIComponent;
const badListQuery = fc.oneof(
  fc.constantFrom('0', '101', '-1', 'abc', '1.5', '', '1e3', 'Infinity', 'NaN', '99999999999999999999', '%ZZ', '10%00').map((v) => `limit=${v}`),
  fc.constant('limit=5&limit=6'),
  anyText.filter((s) => !(REFUND_STATUSES as readonly string[]).includes(s)).map((s) => `status=${enc(s)}`),
  fc.constant('status=pending&status=pending'),
  fc.constantFrom(['charge', 'ch'], ['payment_intent', 'pi'], ['starting_after', 're']).chain(([k, prefix]) => badId(prefix!).map((v) => `${k}=${enc(v)}`)),
  fc.constant('charge=ch_1&charge=ch_1'),
  fc.constant('charge[]=ch_1'),
  fc.constantFrom('', 'a b', 'ü', 'x'.repeat(65), 'a/b').map((v) => `requested_by=${enc(v)}`),
  alnum(1, 20).filter((k) => !LIST_PARAMS.has(k)).map((k) => `${k}=1`),
  fc.constantFrom('__proto__=x', 'constructor=y', 'prototype=z'),
);
const badBatchItemQuery = fc.oneof(
  fc.constantFrom('0', '101', '-1', 'abc', '1.5', '', '1e3', 'Infinity').map((v) => `limit=${v}`),
  fc.constant('limit=5&limit=6'),
  fc.constantFrom('done', 'succeeded', 'PENDING', '', 'refunded,refused').map((v) => `status=${enc(v)}`),
  fc.constantFrom('', 'clé', 'tab\there', 'x'.repeat(256)).map((v) => `starting_after=${enc(v)}`),
  fc.constant('starting_after=a&starting_after=b'),
  alnum(1, 20).filter((k) => !['limit', 'status', 'starting_after'].includes(k)).map((k) => `${k}=1`),
  fc.constantFrom('__proto__=x', 'ending_before=item-1'),
);
const badEventQuery = fc.oneof(
  fc.constantFrom('0', '101', '-1', 'abc', '1.5', '', '1e3', 'Infinity').map((v) => `limit=${v}`),
  fc.constant('limit=5&limit=6'),
  badId('evt').map((v) => `starting_after=${enc(v)}`),
  fc.constant('starting_after=evt_1&starting_after=evt_2'),
  alnum(1, 20).filter((k) => k !== 'limit' && k !== 'starting_after').map((k) => `${k}=1`),
  fc.constantFrom('__proto__=x', 'type=refund.created', 'ending_before=evt_1'),
);
/** Routes without a query take none: any parameter is refused, even one that means something elsewhere. */
const anyQuery = fc.oneof(
  fc.constantFrom('limit=10', 'charge=ch_1', 'expand[]=charge', 'a', 'a=', '__proto__=1'),
  alnum(1, 20).map((k) => `${k}=1`),
  fc.integer({ min: 20, max: 500 }).map((n) => Array.from({ length: n }, (_, i) => `q${i}=${i}`).join('&')),
);

const badIdempotencyKey = fc.oneof(
  fc.constant(''),
  fc.integer({ min: 256, max: 2000 }).map((n) => 'k'.repeat(n)),
  fc.constantFrom('clé', 'tab\there', '€uro', 'key\u0080', 'naïve-key', 'k\u00ff'),
);

/** A path the router cannot decode: refused before any route matches, whatever the method. */
const undecodablePath = fc.constantFrom('%', '%Z', '%ZZ', '%C3', '%FF', '%E2%82', 'a%G1').map((s) => `/v1/refunds/re_${s}`);
/** A segment longer than any id: refused by the router while it matches the GET route. */
const overlongPath = fc.integer({ min: 257, max: 2000 }).map((n) => `/v1/payments/pi_${'a'.repeat(n)}`);
const unknownPath = fc.oneof(
  alnum(1, 20).map((s) => `/v1/zz${s}`),
  alnum(1, 20).map((s) => `/v1/refunds/re_1/${s}`),
  fc.constantFrom('/v2/refunds', '/V1/refunds', '/v1//refunds', '/v1/payments', '/v1/payment-intents/pi_1', '/v1', '/', '/refunds'),
);

const BAD_AUTH = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(`Basic ${KEYS.billing}`, 'Bearer', 'Bearer ', `Token ${KEYS.billing}`, KEYS.billing, `Bearer ${KEYS.billing} extra`, `Bearer ${KEYS.billing.toUpperCase()}`),
  alnum(1, 60).map((k) => `Bearer zz-${k}`),
);

const WRONG_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/octet-stream', 'application/problem+json', 'application/jsonx', 'text/json', 'application/json-patch+json', 'a', ';'];
const WRONG_CODINGS = ['gzip', 'br', 'deflate', 'x-gzip', 'compress', 'gzip, identity'];

/** Headers that change nothing: the answer must be the same with them. */
const noiseHeaders = fc.option(
  fc.dictionary(
    fc.constantFrom('accept', 'accept-encoding', 'accept-language', 'x-forwarded-for', 'user-agent', 'x-custom', 'cookie', 'origin'),
    fc.oneof(alnum(0, 40), fc.constantFrom('text/html', '*/*', 'gzip, br', '127.0.0.1, 10.0.0.1', 'é', 'a'.repeat(2000))),
    { maxKeys: 3 },
  ),
  { nil: undefined },
);

/** x-request-id is not a defect: a good one comes back, any other is replaced. */
const requestId = fc.option(fc.oneof(alnum(1, 128), anyText, fc.constant('x'.repeat(129))), { nil: undefined });

// ---- composing a case ----

interface Choice {
  route: RouteName;
  url?: { kind: 'undecodable' | 'overlong' | 'unknown'; path: string };
  wrongMethod?: string;
  headMethod: boolean;
  auth?: string | undefined | 'none';
  wrongScope?: string;
  oversized?: number;
  media?: { kind: 'type'; type: string | null } | { kind: 'coding'; coding: string };
  idempotencyMissing: boolean;
  schema: { where: Where; what: string; apply: (r: FuzzRequest) => FuzzRequest }[];
  requestId?: string;
  noise?: Record<string, string>;
}

const withQuery = (q: string) => (r: FuzzRequest): FuzzRequest => ({ ...r, url: `${r.url}${r.url.includes('?') ? '&' : '?'}${q}` });

function schemaDefects(route: RouteName): fc.Arbitrary<Choice['schema'][number]> {
  const t = TEMPLATES[route];
  const options: fc.Arbitrary<Choice['schema'][number]>[] = [
    (route === 'listRefunds' ? badListQuery : route === 'listEvents' ? badEventQuery : route === 'listBatchItems' ? badBatchItemQuery : anyQuery).map((q) => ({
      where: 'query' as const,
      what: `query ${q.slice(0, 40)}`,
      apply: withQuery(q),
    })),
  ];
  if (t.id) {
    const prefix = t.id.slice(0, 2);
    options.push(
      badId(prefix)
        .filter((id) => enc(id).length <= 256)
        .map((id) => ({ where: 'path' as const, what: `id ${id.slice(0, 40)}`, apply: (r: FuzzRequest) => ({ ...r, url: r.url.replace(t.id!, enc(id)) }) })),
    );
  }
  if (t.idempotencyKey) {
    options.push(badIdempotencyKey.map((k) => ({ where: 'header' as const, what: `idempotency-key ${JSON.stringify(k.slice(0, 20))}`, apply: (r: FuzzRequest) => ({ ...r, headers: { ...r.headers, 'idempotency-key': k } }) })));
  }
  if (hasBody(route)) {
    options.push(badBody(route).map(({ what, payload }) => ({ where: 'body' as const, what, apply: (r: FuzzRequest) => ({ ...r, payload }) })));
  }
  // The body has the most ways to break: it is picked more often than the query, the path and the header.
  return fc.oneof(...options.map((arbitrary, i) => ({ arbitrary, weight: hasBody(route) && i === options.length - 1 ? 6 : 1 })));
}

const LAYERS = ['url', 'method', 'auth', 'scope', 'size', 'media', 'idempotency', 'schema'] as const;
type Layer = (typeof LAYERS)[number];

/**
 * One layer of the contract's order is broken for sure (schema most often: it has the most ways to break); every other
 * layer now and then as well, so that "which error wins" is exercised too.
 */
function choice(route: RouteName): fc.Arbitrary<Choice> {
  const t = TEMPLATES[route];
  const post = t.method === 'POST';
  const applicable = LAYERS.filter((l) => (l !== 'size' && l !== 'media') || post).filter((l) => l !== 'idempotency' || t.idempotencyKey === 'required');
  const primary = fc.oneof(...applicable.map((layer) => ({ arbitrary: fc.constant(layer), weight: layer === 'schema' ? 12 : 1 })));
  const layer = <T>(name: Layer, primaryLayer: Layer, arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
    !applicable.includes(name) ? fc.constant(undefined) : name === primaryLayer ? arbitrary : sometimes(arbitrary, 8);
  return primary.chain((p) =>
    fc
      .record({
        url: layer(
          'url',
          p,
          fc.oneof(
            undecodablePath.map((path) => ({ kind: 'undecodable' as const, path })),
            overlongPath.map((path) => ({ kind: 'overlong' as const, path })),
            unknownPath.map((path) => ({ kind: 'unknown' as const, path })),
          ),
        ),
        wrongMethod: layer('method', p, fc.constantFrom(...t.wrongMethods)),
        headMethod: post ? fc.constant(false) : fc.boolean(),
        auth: layer('auth', p, BAD_AUTH.map((a) => a ?? ('none' as const))),
        wrongScope: layer('scope', p, fc.constantFrom(...t.wrongScopeKeys)),
        oversized: layer('size', p, fc.integer({ min: 8193, max: 30_000 })),
        media: layer(
          'media',
          p,
          fc.oneof(
            fc.constantFrom(...WRONG_TYPES, null).map((type) => ({ kind: 'type' as const, type })),
            fc.constantFrom(...WRONG_CODINGS).map((coding) => ({ kind: 'coding' as const, coding })),
          ),
        ),
        idempotencyMissing: layer('idempotency', p, fc.constant(true)).map((v) => v === true),
        schema: p === 'schema' ? fc.array(schemaDefects(route), { minLength: 1, maxLength: 2 }) : sometimes(fc.array(schemaDefects(route), { minLength: 1, maxLength: 2 }), 30).map((a) => a ?? []),
        requestId,
        noise: noiseHeaders,
      })
      .map((c) => ({ route, ...c })),
  );
}

/** The contract's order: route → authentication → scope → size and media type → Idempotency-Key → schema. */
function build(c: Choice, bodyLimit: number): MalformedCase {
  const t = TEMPLATES[c.route];
  const defects: string[] = [];
  let request: FuzzRequest = {
    method: c.headMethod ? 'HEAD' : t.method,
    url: t.path.replace('{id}', t.id ?? ''),
    headers: { ...auth(t.key), ...(t.idempotencyKey ? { 'idempotency-key': 'fuzz-key-1' } : {}), ...(t.body ? { 'content-type': 'application/json' } : {}) },
    ...(t.body ? { payload: objectText(t.body) } : {}),
  };
  for (const s of c.schema) {
    request = s.apply(request);
    defects.push(s.what);
  }
  if (c.requestId !== undefined) request.headers['x-request-id'] = c.requestId;
  if (c.noise !== undefined) request.headers = { ...c.noise, ...request.headers };
  if (c.idempotencyMissing) {
    delete request.headers['idempotency-key'];
    defects.push('no Idempotency-Key');
  }
  if (c.media) {
    if (c.media.kind === 'type') {
      if (c.media.type === null) delete request.headers['content-type'];
      else request.headers['content-type'] = c.media.type;
    } else request.headers['content-encoding'] = c.media.coding;
    if (request.payload === undefined || request.payload.length === 0) request.payload = '{}';
    defects.push(`media ${JSON.stringify(c.media)}`);
  }
  if (c.oversized !== undefined) {
    request.payload = `{"metadata":{"note":"${'x'.repeat(c.oversized)}"}}`;
    defects.push(`body of ${request.payload.length} bytes`);
  }
  if (c.wrongScope !== undefined) {
    request.headers.authorization = `Bearer ${c.wrongScope}`;
    defects.push('a key without the scope');
  }
  if (c.auth !== undefined) {
    if (c.auth === 'none') delete request.headers.authorization;
    else request.headers.authorization = c.auth;
    defects.push(`authorization ${JSON.stringify(c.auth)}`);
  }
  if (c.wrongMethod !== undefined) {
    request.method = c.wrongMethod;
    defects.push(`method ${c.wrongMethod}`);
  }
  if (c.url !== undefined) {
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    request.url = c.url.path + query;
    defects.push(`path ${c.url.path.slice(0, 60)}`);
  }

  const payloadBytes = request.payload === undefined ? 0 : Buffer.byteLength(request.payload);
  const sendsBody = request.method === 'POST';
  // An undecodable path is refused before any lookup (400). The router looks a path up in the tree of its method:
  // an overlong segment is refused while matching the GET route (400); with another method there is no route to
  // match, only the GET one beside it (405).
  const readMethod = request.method === 'GET' || request.method === 'HEAD';
  const expected: Expected =
    c.url?.kind === 'undecodable' || (c.url?.kind === 'overlong' && readMethod)
      ? { status: 400, code: 'validation_error', wheres: ['path'] }
      : c.url?.kind === 'overlong'
        ? { status: 405, code: 'method_not_allowed' }
      : c.url?.kind === 'unknown'
        ? { status: 404, code: 'not_found' }
        : c.wrongMethod !== undefined
          ? { status: 405, code: 'method_not_allowed' }
          : c.auth !== undefined
            ? { status: 401, code: 'unauthenticated' }
            : c.wrongScope !== undefined
              ? { status: 403, code: 'forbidden' }
              : sendsBody && payloadBytes > bodyLimit
                ? { status: 413, code: 'payload_too_large' }
                : sendsBody && c.media !== undefined
                  ? { status: 415, code: 'unsupported_media_type' }
                  : c.idempotencyMissing
                    ? { status: 400, code: 'idempotency_key_missing' }
                    : { status: 400, code: 'validation_error', wheres: c.schema.map((s) => s.where) };
  return { route: c.route, defects, request, expected };
}

/** Malformed requests for one route; every one of them has at least one defect. */
export const malformedRequest = (route: RouteName, bodyLimit: number): fc.Arbitrary<MalformedCase> => choice(route).map((c) => build(c, bodyLimit));
