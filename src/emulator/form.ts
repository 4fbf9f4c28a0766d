// Stripe's wire format in: form bodies and query strings with bracket nesting, and typed readers for their values.
import qs from 'qs';
import { invalidRequest, parameterMissing, parameterUnknown } from './errors.js';

export type Params = Record<string, unknown>;

/** `metadata[k]=v`, `expand[]=x`, `expand[0]=x`, `created[gte]=1` all become nested values; `a=` is the empty string. */
export function parseForm(text: string): Params {
  if (text === '') return {};
  return qs.parse(text, { depth: 5, arrayLimit: 100, parameterLimit: 2000, allowPrototypes: false }) as Params;
}

/** Refuses any top-level parameter the endpoint does not know, the way Stripe does (first one wins). */
export function rejectUnknown(params: Params, known: readonly string[]): void {
  for (const name of Object.keys(params)) {
    if (!known.includes(name)) throw parameterUnknown(name);
  }
}

const INTEGER = /^-?\d+$/;

export function readInteger(params: Params, name: string): number | undefined {
  const raw = params[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !INTEGER.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw invalidRequest(`Invalid integer: ${typeof raw === 'string' ? raw : JSON.stringify(raw)}`, { code: 'parameter_invalid_integer', param: name });
  }
  return Number(raw);
}

export function readString(params: Params, name: string): string | undefined {
  const raw = params[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') throw invalidRequest(`Invalid string: ${JSON.stringify(raw)}`, { param: name });
  return raw;
}

export function requireString(params: Params, name: string): string {
  const value = readString(params, name);
  if (value === undefined || value === '') throw parameterMissing(name);
  return value;
}

export function readBoolean(params: Params, name: string): boolean | undefined {
  const raw = params[name];
  if (raw === undefined) return undefined;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw invalidRequest(`Invalid boolean: ${JSON.stringify(raw)}`, { param: name });
}

export function readEnum<T extends string>(params: Params, name: string, allowed: readonly T[]): T | undefined {
  const value = readString(params, name);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw invalidRequest(`Invalid ${name}: must be one of ${allowed.join(', ')}`, { param: name });
  }
  return value as T;
}

/** `expand[]` / `expand[0]` → list of dotted paths. */
export function readExpand(params: Params): string[] {
  const raw = params['expand'];
  if (raw === undefined) return [];
  const list = Array.isArray(raw) ? raw : typeof raw === 'object' && raw !== null ? Object.values(raw) : [raw];
  return list.map((item) => {
    if (typeof item !== 'string' || item === '') throw invalidRequest('Invalid array', { param: 'expand' });
    return item;
  });
}

/**
 * Stripe's metadata rules: at most 50 keys, key ≤ 40 chars without brackets, value ≤ 500 chars. `null` from
 * `metadata=""` means "unset everything"; an empty value unsets that key.
 */
export function readMetadata(params: Params): Record<string, string> | null | undefined {
  const raw = params['metadata'];
  if (raw === undefined) return undefined;
  if (raw === '') return null;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalidRequest('Invalid object', { param: 'metadata' });
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > 50) throw invalidRequest('Invalid metadata: metadata can have at most 50 keys.', { param: 'metadata' });
  const out: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (typeof value !== 'string') throw invalidRequest(`Invalid value for metadata[${key}]: must be a string`, { param: `metadata[${key}]` });
    if (key.length > 40 || key.includes('[') || key.includes(']')) {
      throw invalidRequest(`Invalid metadata key ${key}: at most 40 characters, without square brackets.`, { param: `metadata[${key}]` });
    }
    if (value.length > 500) throw invalidRequest(`Invalid metadata[${key}]: must be at most 500 characters`, { param: `metadata[${key}]` });
    out[key] = value;
  }
  return out;
}

/** Applies an update the way Stripe does: `null` clears, `''` removes one key, anything else sets it. */
export function mergeMetadata(current: Record<string, string>, update: Record<string, string> | null | undefined): Record<string, string> {
  if (update === undefined) return current;
  if (update === null) return {};
  const next = { ...current };
  for (const [key, value] of Object.entries(update)) {
    if (value === '') delete next[key];
    else next[key] = value;
  }
  return next;
}
