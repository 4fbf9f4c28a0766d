// The signed-in key lives in this tab's sessionStorage only: gone when the tab closes or the operator signs out.

const KEY_ITEM = 'refund-console.api-key';

export function storedKey(): string | null {
  try {
    return sessionStorage.getItem(KEY_ITEM);
  } catch {
    // Storage can be switched off; the operator then signs in again on every reload.
    return null;
  }
}

export function storeKey(key: string): void {
  try {
    sessionStorage.setItem(KEY_ITEM, key);
  } catch {
    // Without storage the key lives in memory until the page reloads.
  }
}

export function forgetKey(): void {
  try {
    sessionStorage.removeItem(KEY_ITEM);
  } catch {
    // Nothing was stored.
  }
}
