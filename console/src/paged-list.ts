// One list view's paging: the first page on arrival and on refresh, the next one appended on "Show more", and its problem.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, query, type Api } from './api.js';
import type { Page, Problem } from './types.js';

const PAGE_SIZE = 50;

export interface PagedList<T> {
  items: T[];
  hasMore: boolean;
  loading: boolean;
  problem: Problem | null;
  /** The first page again, replacing what is shown. */
  reload: () => Promise<void>;
  /** The page after the last item shown, appended to it. */
  more: () => Promise<void>;
}

/**
 * Pages `path` filtered by `filter` with the contract's `limit`/`starting_after` cursor. `enabled` false (the key may
 * not read the list) loads nothing on arrival. A gateway problem is shown; anything else is a bug and is rethrown.
 */
export function usePagedList<T extends { id: string }>(api: Api, path: string, filter: Record<string, string>, enabled: boolean): PagedList<T> {
  const [items, setItems] = useState<T[]>([]);
  const [hasMore, setHasMore] = useState(false);
  const [loading, setLoading] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);

  const load = async (after?: string) => {
    setLoading(true);
    setProblem(null);
    try {
      const { body } = await api.get<Page<T>>(`${path}${query({ ...filter, limit: PAGE_SIZE, starting_after: after })}`);
      setItems((current) => (after ? [...current, ...body.data] : body.data));
      setHasMore(body.has_more);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setProblem(err.problem);
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    if (enabled) void load();
  }, []);

  return { items, hasMore, loading, problem, reload: () => load(), more: () => load(items[items.length - 1]?.id) };
}
