// Find a payment by charge or PaymentIntent id; its refund picture, its refunds, and the refund and cancel actions.
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import type { Session } from '../app.js';
import { ProblemAlert } from '../components/problem-alert.js';
import { StatusBadge } from '../components/status-badge.js';
import { TableRegion } from '../components/table-region.js';
import { href, navigate } from '../router.js';
import type { Payment, Problem } from '../types.js';
import { dateTime, money, nextStepWords, reasonWords } from '../words.js';
import { CancelDialog } from './cancel-dialog.js';
import { RefundDialog } from './refund-dialog.js';

const PAYMENT_ID = /^(ch|py|pi)_[A-Za-z0-9]{1,250}$/;

type Load = { state: 'idle' } | { state: 'loading' } | { state: 'loaded'; payment: Payment } | { state: 'failed'; problem: Problem };

export function PaymentView({ session, id }: { session: Session; id: string | null }) {
  const [load, setLoad] = useState<Load>({ state: 'idle' });
  const [notice, setNotice] = useState<string | null>(null);
  const [dialog, setDialog] = useState<'refund' | 'cancel' | null>(null);

  const fetchPayment = async (paymentId: string, quiet = false) => {
    if (!quiet) setLoad({ state: 'loading' });
    try {
      const { body } = await session.api.get<Payment>(`/v1/payments/${encodeURIComponent(paymentId)}`);
      setLoad({ state: 'loaded', payment: body });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const problem =
        err.status === 404 ? { ...err.problem, detail: `No charge or PaymentIntent ${paymentId} was found.` } : err.problem;
      setLoad({ state: 'failed', problem });
    }
  };

  // After a refund or a cancel: the dialog closes, its outcome is said, and the picture is read again without a spinner.
  const afterAction = (paymentId: string, message: string) => {
    setDialog(null);
    setNotice(message);
    void fetchPayment(paymentId, true);
  };

  useEffect(() => {
    if (id !== null && session.caps.read && PAYMENT_ID.test(id)) void fetchPayment(id);
  }, [id]);

  return (
    <>
      <h1 tabIndex={-1}>Find a payment</h1>
      {!session.caps.read ? (
        <p class="notice">This key may not read payments (it lacks the refunds:read scope), so the console cannot show them.</p>
      ) : (
        <SearchForm initial={id ?? ''} />
      )}
      {id !== null && !PAYMENT_ID.test(id) ? null : (
        <>
          {notice ? (
            <p class="notice success" role="status">
              {notice}
            </p>
          ) : null}
          {load.state === 'loading' ? <p role="status">Loading {id}…</p> : null}
          {load.state === 'failed' ? <ProblemAlert problem={load.problem} /> : null}
          {load.state === 'loaded' ? (
            <PaymentDetails
              payment={load.payment}
              session={session}
              onRefund={() => {
                setNotice(null);
                setDialog('refund');
              }}
              onCancel={() => {
                setNotice(null);
                setDialog('cancel');
              }}
            />
          ) : null}
        </>
      )}
      {dialog === 'refund' && load.state === 'loaded' ? (
        <RefundDialog
          session={session}
          payment={load.payment}
          onClose={() => setDialog(null)}
          onDone={(message) => afterAction(load.payment.id, message)}
        />
      ) : null}
      {dialog === 'cancel' && load.state === 'loaded' ? (
        <CancelDialog
          session={session}
          payment={load.payment}
          onClose={() => setDialog(null)}
          onDone={(message) => afterAction(load.payment.id, message)}
        />
      ) : null}
    </>
  );
}

function SearchForm({ initial }: { initial: string }) {
  const [value, setValue] = useState(initial);
  const [error, setError] = useState<string | null>(initial !== '' && !PAYMENT_ID.test(initial) ? `“${initial}” is not a charge or PaymentIntent id.` : null);

  const submit = (event: Event) => {
    event.preventDefault();
    const wanted = value.trim();
    if (!PAYMENT_ID.test(wanted)) {
      setError('Enter a charge id (ch_… or py_…) or a PaymentIntent id (pi_…): letters and digits after the prefix.');
      return;
    }
    setError(null);
    navigate(href.payment(wanted));
  };

  return (
    <form class="search" role="search" onSubmit={submit} noValidate>
      <label for="payment-id">Charge or PaymentIntent id</label>
      <div class="row">
        <input
          id="payment-id"
          name="payment-id"
          value={value}
          placeholder="pi_… or ch_…"
          autocomplete="off"
          spellcheck={false}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'payment-id-error' : undefined}
          onInput={(event) => setValue(event.currentTarget.value)}
        />
        <button type="submit">Find</button>
      </div>
      {error ? (
        <p id="payment-id-error" class="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </form>
  );
}

function PaymentDetails({ payment, session, onRefund, onCancel }: { payment: Payment; session: Session; onRefund: () => void; onCancel: () => void }) {
  const c = payment.currency;
  // A refund can be asked whenever there is a captured charge: the gateway's rules (and the preview) say why not, in words.
  const canRefund = session.caps.write && payment.charge !== null && payment.next_step !== 'cancel' && payment.amount_captured > 0;
  const canCancel = session.caps.cancel && payment.cancelable && payment.payment_intent !== null;
  return (
    <section class="payment" aria-labelledby="payment-title">
      <h2 id="payment-title">
        {payment.type === 'payment_intent' ? 'PaymentIntent' : 'Charge'} <code>{payment.id}</code>
      </h2>
      <p class="next-step" data-next-step={payment.next_step}>
        {nextStepWords(payment)}
      </p>
      <dl class="picture">
        <div>
          <dt>Status</dt>
          <dd>
            <StatusBadge status={payment.status} />
          </dd>
        </div>
        <div>
          <dt>Amount</dt>
          <dd>{money(payment.amount, c)}</dd>
        </div>
        <div>
          <dt>Captured</dt>
          <dd>{money(payment.amount_captured, c)}</dd>
        </div>
        <div>
          <dt>Refunded</dt>
          <dd data-field="amount_refunded">{money(payment.amount_refunded, c)}</dd>
        </div>
        <div>
          <dt>Refundable</dt>
          <dd data-field="refundable_amount">{money(payment.refundable_amount, c)}</dd>
        </div>
        {payment.type === 'payment_intent' && payment.charge ? (
          <div>
            <dt>Charge</dt>
            <dd>
              <code>{payment.charge}</code>
            </dd>
          </div>
        ) : null}
        {payment.type === 'charge' && payment.payment_intent ? (
          <div>
            <dt>PaymentIntent</dt>
            <dd>
              <a href={href.payment(payment.payment_intent)}>
                <code>{payment.payment_intent}</code>
              </a>
            </dd>
          </div>
        ) : null}
      </dl>
      {canRefund || canCancel ? (
        <div class="actions">
          {canRefund ? (
            <button type="button" onClick={onRefund}>
              Refund…
            </button>
          ) : null}
          {canCancel ? (
            <button type="button" class={canRefund ? 'secondary' : ''} onClick={onCancel}>
              Cancel payment…
            </button>
          ) : null}
        </div>
      ) : null}
      <RefundTable payment={payment} />
    </section>
  );
}

function RefundTable({ payment }: { payment: Payment }) {
  if (payment.refunds.length === 0) return <p class="hint">No refunds yet.</p>;
  return (
    <>
      <h3 id="refunds-title">Refunds</h3>
      <TableRegion label="Refunds of this payment">
        <table aria-labelledby="refunds-title" class="refunds">
          <thead>
            <tr>
              <th scope="col">Refund</th>
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
            {payment.refunds.map((r) => (
              <tr key={r.id} data-refund={r.id}>
                <td>
                  <code>{r.id}</code>
                </td>
                <td class="num">{money(r.amount, r.currency)}</td>
                <td>
                  <StatusBadge status={r.status} />
                  {r.failure_reason ? <span class="hint"> ({r.failure_reason.replaceAll('_', ' ')})</span> : null}
                </td>
                <td>{reasonWords(r.reason)}</td>
                <td>{r.requested_by ?? <span class="hint">outside the gateway</span>}</td>
                <td>
                  <time dateTime={r.created}>{dateTime(r.created)}</time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableRegion>
      {payment.has_more_refunds ? <p class="hint">Only the 100 newest refunds are shown.</p> : null}
    </>
  );
}
