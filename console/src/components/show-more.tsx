// The "Show more" button under a paged list: there while the gateway has more, busy while a page loads.
import type { PagedList } from '../paged-list.js';

export function ShowMore({ list }: { list: Pick<PagedList<unknown>, 'hasMore' | 'loading' | 'more'> }) {
  if (!list.hasMore) return null;
  return (
    <button type="button" class="secondary" disabled={list.loading} onClick={() => void list.more()}>
      {list.loading ? 'Loading…' : 'Show more'}
    </button>
  );
}
