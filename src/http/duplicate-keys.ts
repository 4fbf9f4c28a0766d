// Finds object keys that appear twice in one JSON object: JSON.parse keeps the last silently, the caller may have meant the first.

/** Where a value sits, as a chain to its parent (a deep document costs one link per level, not a copy of the path). */
interface Step {
  key: string | number;
  parent: Step | undefined;
}

/** One open object (`keys` set) or array (`keys` null) while scanning. */
interface Frame {
  keys: Set<string> | null;
  /** Where this object or array sits in its parent. */
  at: Step | undefined;
  /** Objects: the last key read, and whether a key comes next (after `{` or `,`). Arrays: the current index. */
  key: string;
  expectKey: boolean;
  index: number;
}

const pathOf = (step: Step | undefined): (string | number)[] => {
  const path: (string | number)[] = [];
  for (let at = step; at !== undefined; at = at.parent) path.unshift(at.key);
  return path;
};

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The paths of every repeated key in `text`, which must already be valid JSON (JSON.parse accepted it): one pass, no
 * recursion, so a body nested thousands deep costs no stack. RFC 8259 says the meaning of a repeated name is
 * unpredictable (I-JSON, RFC 7493, forbids it); a refund body must not leave it to chance which amount was meant.
 */
export function findDuplicateKeys(text: string): (string | number)[][] {
  const found: (string | number)[][] = [];
  const frames: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const top = frames.at(-1);
    if (c === QUOTE) {
      let end = i + 1;
      while (text.charCodeAt(end) !== QUOTE) end += text.charCodeAt(end) === BACKSLASH ? 2 : 1;
      if (top?.keys && top.expectKey) {
        const raw = text.slice(i, end + 1);
        // Escapes (`"\u0061"` is `"a"`) are compared as what they mean.
        const key = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (top.keys.has(key)) found.push(pathOf({ key, parent: top.at }));
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      const at = top === undefined ? undefined : { key: top.keys ? top.key : top.index, parent: top.at };
      frames.push({ keys: c === 0x7b ? new Set() : null, at, key: '', expectKey: c === 0x7b, index: 0 });
    } else if (c === 0x7d || c === 0x5d) {
      frames.pop();
    } else if (c === 0x2c && top) {
      if (top.keys) top.expectKey = true;
      else top.index += 1;
    }
  }
  return found;
}
