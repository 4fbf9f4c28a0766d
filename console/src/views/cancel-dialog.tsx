// Cancel a PaymentIntent that was only authorised (or never completed): the money is released, not refunded.
import { useRef, useState } from 'preact/hooks';
import { problemOfError } from '../api.js';
import type { Session } from '../app.js';
import { Dialog } from '../components/dialog.js';
import { ProblemAlert } from '../components/problem-alert.js';
import { IntentKeys, SingleFlight } from '../intent.js';
import { CANCELLATION_REASONS, type CancellationReason, type Payment, type Problem } from '../types.js';
import { money, reasonWords } from '../words.js';

export function CancelDialog({ session, payment, onClose, onDone }: { session: Session; payment: Payment; onClose: () => void; onDone: (message: string) => void }) {
  const intent = payment.payment_intent ?? payment.id;
  // Only an authorised payment holds money on the card; the others were never completed.
  const authorised = payment.status === 'requires_capture';
  const [reason, setReason] = useState<CancellationReason | ''>('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const keys = useRef(new IntentKeys()).current;
  const flight = useRef(new SingleFlight<void>()).current;

  const submit = async (event: Event) => {
    event.preventDefault();
    const body = reason === '' ? {} : { cancellation_reason: reason };
    setBusy(true);
    setProblem(null);
    await flight.run(async () => {
      try {
        await session.api.post<Payment>(`/v1/payment-intents/${encodeURIComponent(intent)}/cancel`, { body, idempotencyKey: keys.keyFor({ intent, body }) });
        onDone(
          authorised
            ? `Canceled ${intent}: the authorisation of ${money(payment.amount, payment.currency)} is released.`
            : `Canceled ${intent}: it can no longer be completed.`,
        );
      } catch (err) {
        setProblem(problemOfError(err, 'Reload it and look at the payment.'));
        setBusy(false);
      }
    });
  };

  return (
    <Dialog title={`Cancel ${intent}`} onClose={onClose} busy={busy}>
      <form onSubmit={submit} noValidate>
        <p>
          Cancel the payment of <strong>{money(payment.amount, payment.currency)}</strong>? Nothing was captured, so nothing is refunded:{' '}
          {authorised ? 'the hold on the customer’s card is released and ' : ''}the payment can no longer be completed.
        </p>
        <div class="field">
          <label for="cancel-reason">Reason</label>
          <select id="cancel-reason" value={reason} onChange={(event) => setReason(event.currentTarget.value as CancellationReason | '')}>
            <option value="">No reason given</option>
            {CANCELLATION_REASONS.map((r) => (
              <option key={r} value={r}>
                {reasonWords(r)}
              </option>
            ))}
          </select>
        </div>
        <ProblemAlert problem={problem} retrySafe />
        <div class="actions">
          <button type="submit" class="danger" disabled={busy}>
            {busy ? 'Canceling…' : 'Cancel the payment'}
          </button>
          <button type="button" class="secondary" onClick={onClose} disabled={busy}>
            Keep it
          </button>
        </div>
      </form>
    </Dialog>
  );
}
