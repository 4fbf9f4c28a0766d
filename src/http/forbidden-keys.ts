// Object keys no request may carry at any depth: the names JavaScript gives to an object's prototype machinery.

/**
 * `JSON.parse` keeps `"__proto__"` as an own key, but zod's records skip it and object spreads or `qs` may move it
 * onto the prototype: the caller's data would then vanish silently (or poison an object) instead of being refused.
 * `constructor` and `prototype` are refused with it, so no code path downstream ever has to think about them.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** A path kept as a chain to its parent, so a deep value costs one link per level, not a copy of the whole path. */
interface Step {
  key: string | number;
  parent: Step | undefined;
}

const pathOf = (step: Step | undefined): (string | number)[] => {
  const path: (string | number)[] = [];
  for (let at = step; at !== undefined; at = at.parent) path.unshift(at.key);
  return path;
};

/**
 * Every place in a parsed JSON value where an object has a forbidden own key, as a path of keys and indices. The walk
 * keeps its own stack: a deeply nested body (thousands of `[`) must not overflow the call stack.
 */
export function findForbiddenKeys(value: unknown): (string | number)[][] {
  const found: (string | number)[][] = [];
  const stack: { value: unknown; at: Step | undefined }[] = [{ value, at: undefined }];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { value: current, at } = next;
    if (current === null || typeof current !== 'object') continue;
    if (Array.isArray(current)) {
      current.forEach((item, index) => stack.push({ value: item, at: { key: index, parent: at } }));
      continue;
    }
    for (const key of Object.keys(current)) {
      const step = { key, parent: at };
      if (FORBIDDEN_KEYS.has(key)) found.push(pathOf(step));
      else stack.push({ value: (current as Record<string, unknown>)[key], at: step });
    }
  }
  return found;
}
