// Refund requests awaiting approval: another person with refunds:approve approves (the refund is made then) or rejects.
import { useRef, useState } from 'preact/hooks';
import { problemOfError } from '../api.js';
import type { Session } from '../app.js';
import { Dialog } from '../components/dialog.js';
import { ProblemAlert } from '../components/problem-alert.js';
import { ShowMore } from '../components/show-more.js';
import { TableRegion } from '../components/table-region.js';
import { IntentKeys, SingleFlight } from '../intent.js';
import { usePagedList } from '../paged-list.js';
import { href } from '../router.js';
import type { Problem, RefundRequest } from '../types.js';
import { dateTime, money, reasonWords } from '../words.js';

const paymentOf = (r: RefundRequest): string | undefined => r.request.payment_intent ?? r.request.charge;

export function ApprovalsView({ session }: { session: Session }) {
  const list = usePagedList<RefundRequest>(session.api, '/v1/refund-requests', { status: 'awaiting_approval' }, session.caps.read);
  const { items: requests, loading, problem, reload } = list;
  const [notice, setNotice] = useState<{ text: string; problem: Problem | null } | null>(null);
  const [deciding, setDeciding] = useState<{ request: RefundRequest; decision: 'approve' | 'reject' } | null>(null);

  return (
    <>
      <h1 tabIndex={-1}>Refund requests awaiting approval</h1>
      <p class="hint">
        Refunds above a key’s approval threshold wait here. {session.caps.approve ? 'Approving makes the refund then, under the same rules; a request cannot be approved by the key that asked for it.' : 'This key may not approve or reject them (it lacks the refunds:approve scope).'}
      </p>
      {notice ? (
        <div class="notice success" role="status">
          <p>{notice.text}</p>
          <ProblemAlert problem={notice.problem} />
        </div>
      ) : null}
      <div class="actions">
        <button type="button" class="secondary" onClick={() => void reload()} disabled={loading}>
          Refresh
        </button>
      </div>
      <ProblemAlert problem={problem} />
      {!loading && !problem && requests.length === 0 ? <p>No refund requests are waiting.</p> : null}
      {requests.length > 0 ? (
        <TableRegion label="Refund requests awaiting approval">
          <table class="requests">
            <caption class="visually-hidden">Refund requests awaiting approval</caption>
            <thead>
              <tr>
                <th scope="col">Request</th>
                <th scope="col">Payment</th>
                <th scope="col" class="num">
                  Amount
                </th>
                <th scope="col">Reason</th>
                <th scope="col">Asked by</th>
                <th scope="col">Asked</th>
                <th scope="col">Expires</th>
                {session.caps.approve ? <th scope="col">Decision</th> : null}
              </tr>
            </thead>
            <tbody>
              {requests.map((r) => {
                const payment = paymentOf(r);
                return (
                  <tr key={r.id} data-request={r.id}>
                    <td>
                      <code>{r.id}</code>
                    </td>
                    <td>{payment ? <a href={href.payment(payment)}>{payment}</a> : '—'}</td>
                    <td class="num">{money(r.amount, r.currency)}</td>
                    <td>{reasonWords(r.request.reason)}</td>
                    <td>{r.requested_by}</td>
                    <td class="wrap">
                      <time dateTime={r.created}>{dateTime(r.created)}</time>
                    </td>
                    <td class="wrap">
                      <time dateTime={r.expires_at}>{dateTime(r.expires_at)}</time>
                    </td>
                    {session.caps.approve ? (
                      <td class="row-actions">
                        <button type="button" onClick={() => setDeciding({ request: r, decision: 'approve' })}>
                          Approve<span class="visually-hidden"> {r.id}</span>…
                        </button>
                        <button type="button" class="secondary" onClick={() => setDeciding({ request: r, decision: 'reject' })}>
                          Reject<span class="visually-hidden"> {r.id}</span>…
                        </button>
                      </td>
                    ) : null}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableRegion>
      ) : null}
      <ShowMore list={list} />
      {deciding ? (
        <DecisionDialog
          session={session}
          request={deciding.request}
          decision={deciding.decision}
          onClose={() => setDeciding(null)}
          onDone={(text, refused) => {
            setDeciding(null);
            setNotice({ text, problem: refused });
            void reload();
          }}
        />
      ) : null}
    </>
  );
}

function DecisionDialog({
  session,
  request,
  decision,
  onClose,
  onDone,
}: {
  session: Session;
  request: RefundRequest;
  decision: 'approve' | 'reject';
  onClose: () => void;
  onDone: (text: string, refused: Problem | null) => void;
}) {
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const keys = useRef(new IntentKeys()).current;
  const flight = useRef(new SingleFlight<void>()).current;
  const amount = money(request.amount, request.currency);

  const submit = async (event: Event) => {
    event.preventDefault();
    const body = note.trim() === '' ? {} : { note: note.trim() };
    setBusy(true);
    setProblem(null);
    await flight.run(async () => {
      try {
        const { body: decided } = await session.api.post<RefundRequest>(`/v1/refund-requests/${encodeURIComponent(request.id)}/${decision}`, {
          body,
          idempotencyKey: keys.keyFor({ request: request.id, decision, body }),
        });
        if (decision === 'reject') onDone(`Rejected ${request.id}: nothing was refunded.`, null);
        else if (decided.refund) onDone(`Approved ${request.id}: refunded ${money(decided.refund.amount, decided.refund.currency)} as refund ${decided.refund.id}.`, null);
        else onDone(`Approved ${request.id}, but the refund was refused:`, decided.problem);
      } catch (err) {
        setProblem(problemOfError(err, 'Reload it and look again.'));
        setBusy(false);
      }
    });
  };

  return (
    <Dialog title={`${decision === 'approve' ? 'Approve' : 'Reject'} ${request.id}`} onClose={onClose} busy={busy}>
      <form onSubmit={submit} noValidate>
        <p>
          {decision === 'approve' ? 'Approve' : 'Reject'} the refund of <strong>{amount}</strong> of {paymentOf(request)} asked by {request.requested_by}?
          {decision === 'approve' ? ' The refund is made now, if the payment still allows it.' : ' Nothing will be refunded.'}
        </p>
        <div class="field">
          <label for="decision-note">Note (optional)</label>
          <textarea id="decision-note" rows={3} maxLength={500} value={note} onInput={(event) => setNote(event.currentTarget.value)} />
        </div>
        <ProblemAlert problem={problem} retrySafe />
        <div class="actions">
          <button type="submit" class={decision === 'reject' ? 'danger' : ''} disabled={busy}>
            {busy ? 'Sending…' : decision === 'approve' ? `Approve and refund ${amount}` : 'Reject the request'}
          </button>
          <button type="button" class="secondary" onClick={onClose} disabled={busy}>
            Close
          </button>
        </div>
      </form>
    </Dialog>
  );
}
