// Stripe's `previous_attributes`: the changed fields' values before the change; nested hashes hold only their changed keys.
type Json = Record<string, unknown>;

const isHash = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * The fields of `before` that differ in `after`, with their old values (null where the field did not exist before); arrays
 * are compared and given whole, as Stripe does since 2017-04-06. Undefined when nothing changed.
 */
export function previousAttributes(before: Json, after: Json): Json | undefined {
  const previous: Json = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const old = before[key];
    const now = after[key];
    if (JSON.stringify(old) === JSON.stringify(now)) continue;
    previous[key] = isHash(old) && isHash(now) ? (previousAttributes(old, now) ?? {}) : (old ?? null);
  }
  return Object.keys(previous).length === 0 ? undefined : previous;
}
