// Hash routes (#/payments/pi_…): one HTML route on the server, links that survive a reload, the Back button works.
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { name: 'search' }
  | { name: 'payment'; id: string }
  | { name: 'pending' }
  | { name: 'approvals' }
  | { name: 'batches' }
  | { name: 'batch'; id: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  const [, first, second] = path.split('/').map((part) => decodeURIComponentSafe(part));
  if (first === 'payments' && second) return { name: 'payment', id: second };
  if (first === 'pending') return { name: 'pending' };
  if (first === 'approvals') return { name: 'approvals' };
  if (first === 'batches' && second) return { name: 'batch', id: second };
  if (first === 'batches') return { name: 'batches' };
  return { name: 'search' };
}

function decodeURIComponentSafe(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export const href = {
  search: () => '#/',
  payment: (id: string) => `#/payments/${encodeURIComponent(id)}`,
  pending: () => '#/pending',
  approvals: () => '#/approvals',
  batches: () => '#/batches',
  batch: (id: string) => `#/batches/${encodeURIComponent(id)}`,
};

export const navigate = (to: string): void => {
  window.location.hash = to;
};

/** The current route; re-renders on every hash change. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
