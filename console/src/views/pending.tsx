// The pending refunds: refunds the gateway made or heard of that Stripe has not finished, newest first.
import type { Session } from '../app.js';
import { ProblemAlert } from '../components/problem-alert.js';
import { ShowMore } from '../components/show-more.js';
import { StatusBadge } from '../components/status-badge.js';
import { TableRegion } from '../components/table-region.js';
import { usePagedList } from '../paged-list.js';
import { href } from '../router.js';
import type { Refund } from '../types.js';
import { dateTime, money, reasonWords } from '../words.js';

export function PendingView({ session }: { session: Session }) {
  const list = usePagedList<Refund>(session.api, '/v1/refunds', { status: 'pending' }, session.caps.read);
  const { items: refunds, loading, problem, reload } = list;

  return (
    <>
      <h1 tabIndex={-1}>Pending refunds</h1>
      <p class="hint">Refunds Stripe has not finished yet. Each is read again from Stripe before it is shown, so the status is current.</p>
      {!session.caps.read ? <p class="notice">This key may not read refunds (it lacks the refunds:read scope).</p> : null}
      <div class="actions">
        <button type="button" class="secondary" onClick={() => void reload()} disabled={loading || !session.caps.read}>
          Refresh
        </button>
      </div>
      <ProblemAlert problem={problem} />
      {loading && refunds.length === 0 ? <p role="status">Loading…</p> : null}
      {!loading && !problem && refunds.length === 0 && session.caps.read ? <p>No refunds are pending.</p> : null}
      {refunds.length > 0 ? (
        <TableRegion label="Pending refunds">
          <table class="pending">
            <caption class="visually-hidden">Pending refunds, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Refund</th>
                <th scope="col">Payment</th>
                <th scope="col" class="num">
                  Amount
                </th>
                <th scope="col">Status</th>
                <th scope="col">Reason</th>
                <th scope="col">Asked by</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {refunds.map((r) => {
                const payment = r.payment_intent ?? r.charge;
                return (
                  <tr key={r.id} data-refund={r.id}>
                    <td>
                      <code>{r.id}</code>
                    </td>
                    <td>{payment ? <a href={href.payment(payment)}>{payment}</a> : '—'}</td>
                    <td class="num">{money(r.amount, r.currency)}</td>
                    <td>
                      <StatusBadge status={r.status} />
                    </td>
                    <td>{reasonWords(r.reason)}</td>
                    <td>{r.requested_by ?? <span class="hint">outside the gateway</span>}</td>
                    <td>
                      <time dateTime={r.created}>{dateTime(r.created)}</time>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableRegion>
      ) : null}
      <ShowMore list={list} />
    </>
  );
}
