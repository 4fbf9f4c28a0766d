// Refund all or part of a payment: a form, then a preview and a confirmation showing the amount in its currency.
import { useRef, useState } from 'preact/hooks';
import { problemOfError } from '../api.js';
import type { Session } from '../app.js';
import { Dialog } from '../components/dialog.js';
import { ProblemAlert } from '../components/problem-alert.js';
import { IntentKeys, SingleFlight } from '../intent.js';
import { minorDigits, parseMoney } from '../money.js';
import { REFUND_REASONS, type Payment, type Preview, type Problem, type Refund, type RefundBody, type RefundReason, type RefundRequest } from '../types.js';
import { money, reasonWords } from '../words.js';

interface MetadataRow {
  id: number;
  key: string;
  value: string;
}

type Step = { name: 'form' } | { name: 'confirm'; body: RefundBody; preview: Preview | null };

const problemOf = (err: unknown): Problem => problemOfError(err, 'Reload it and look at the payment before trying again.');

/** The metadata rows as the contract allows them, or the first thing wrong with them. */
function metadataOf(rows: MetadataRow[]): { ok: true; metadata: Record<string, string> } | { ok: false; message: string } {
  const metadata: Record<string, string> = {};
  for (const row of rows) {
    const key = row.key.trim();
    if (key === '' && row.value === '') continue;
    if (key === '') return { ok: false, message: 'Each metadata value needs a key.' };
    if (key.length > 40 || /[[\]]/.test(key)) return { ok: false, message: `The metadata key “${key}” must be at most 40 characters, without [ or ].` };
    if (key.startsWith('gateway_')) return { ok: false, message: 'Metadata keys beginning gateway_ are kept for the gateway.' };
    if (key in metadata) return { ok: false, message: `The metadata key “${key}” is there twice.` };
    if (row.value.length > 500) return { ok: false, message: `The value of “${key}” is longer than 500 characters.` };
    metadata[key] = row.value;
  }
  if (Object.keys(metadata).length > 48) return { ok: false, message: 'At most 48 metadata values.' };
  return { ok: true, metadata };
}

export function RefundDialog({ session, payment, onClose, onDone }: { session: Session; payment: Payment; onClose: () => void; onDone: (message: string) => void }) {
  const currency = payment.currency;
  const code = currency.toUpperCase();
  const [step, setStep] = useState<Step>({ name: 'form' });
  const [mode, setMode] = useState<'full' | 'part'>(payment.refundable_amount > 0 ? 'full' : 'part');
  const [amountText, setAmountText] = useState('');
  const [reason, setReason] = useState<RefundReason | ''>('');
  const [rows, setRows] = useState<MetadataRow[]>([]);
  const [formError, setFormError] = useState<{ field: 'amount' | 'metadata'; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  // One dialog is one intent: the same request from it always carries the same Idempotency-Key.
  const keys = useRef(new IntentKeys()).current;
  const flight = useRef(new SingleFlight<void>()).current;
  const nextRowId = useRef(1);
  const setRowField = (rowId: number, field: 'key' | 'value', text: string) => setRows(rows.map((r) => (r.id === rowId ? { ...r, [field]: text } : r)));

  const review = async (event: Event) => {
    event.preventDefault();
    if (flight.busy) return;
    setProblem(null);
    const body: RefundBody = payment.type === 'payment_intent' ? { payment_intent: payment.id } : { charge: payment.id };
    if (mode === 'part') {
      const parsed = parseMoney(amountText, currency);
      if (!parsed.ok) return setFormError({ field: 'amount', message: parsed.message });
      body.amount = parsed.amount;
    }
    // The currency always goes along: the gateway refuses it if it is not the payment's (a guard against ×100 slips).
    body.currency = currency;
    if (reason !== '') body.reason = reason;
    const meta = metadataOf(rows);
    if (!meta.ok) return setFormError({ field: 'metadata', message: meta.message });
    if (Object.keys(meta.metadata).length > 0) body.metadata = meta.metadata;
    setFormError(null);
    if (!session.caps.preview) return setStep({ name: 'confirm', body, preview: null });
    setBusy(true);
    await flight.run(async () => {
      try {
        const { body: preview } = await session.api.post<Preview>('/v1/refunds/preview', { body });
        setStep({ name: 'confirm', body, preview });
      } catch (err) {
        setProblem(problemOf(err));
      }
    });
    setBusy(false);
  };

  const confirm = async () => {
    if (step.name !== 'confirm') return;
    setBusy(true);
    setProblem(null);
    await flight.run(async () => {
      try {
        const answer = await session.api.post<Refund | RefundRequest>('/v1/refunds', { body: step.body, idempotencyKey: keys.keyFor(step.body) });
        if (answer.status === 202) {
          const request = answer.body as RefundRequest;
          onDone(`Sent for approval: ${money(request.amount, request.currency)} waits for another person to approve request ${request.id}.`);
        } else {
          const refund = answer.body as Refund;
          onDone(`Refunded ${money(refund.amount, refund.currency)}: refund ${refund.id} is ${refund.status.replaceAll('_', ' ')}.`);
        }
      } catch (err) {
        setProblem(problemOf(err));
        setBusy(false);
      }
    });
  };

  const asked = step.name === 'confirm' ? step.body : null;
  const preview = step.name === 'confirm' ? step.preview : null;
  const amountWords =
    preview !== null ? money(preview.amount, preview.currency) : asked?.amount !== undefined ? money(asked.amount, currency) : `everything left (${money(payment.refundable_amount, currency)})`;
  // A rule's refusal is final for this request (the same key would only replay it): only Back is offered then.
  const settled = problem !== null && problem.status > 0 && problem.status < 500 && problem.status !== 429 && problem.code !== 'idempotency_request_in_progress';
  const refused = preview?.would === 'refuse' || settled;

  return (
    <Dialog title={`Refund ${payment.id}`} onClose={onClose} busy={busy}>
      {step.name === 'form' ? (
        <form onSubmit={review} noValidate>
          <fieldset>
            <legend>How much</legend>
            <label class="choice">
              <input type="radio" name="mode" value="full" checked={mode === 'full'} onChange={() => setMode('full')} />
              Everything left ({money(payment.refundable_amount, currency)})
            </label>
            <label class="choice">
              <input type="radio" name="mode" value="part" checked={mode === 'part'} onChange={() => setMode('part')} />
              Part of it
            </label>
            {mode === 'part' ? (
              <div class="field">
                <label for="refund-amount">Amount in {code}</label>
                <input
                  id="refund-amount"
                  name="amount"
                  inputMode={minorDigits(currency) === 0 ? 'numeric' : 'decimal'}
                  autocomplete="off"
                  value={amountText}
                  onInput={(event) => setAmountText(event.currentTarget.value)}
                  aria-invalid={formError?.field === 'amount' ? true : undefined}
                  aria-describedby="refund-amount-hint refund-amount-error"
                />
                <p id="refund-amount-hint" class="hint">
                  At most {money(payment.refundable_amount, currency)}.{' '}
                  {minorDigits(currency) === 0 ? `${code} has no decimals.` : `Use a decimal point for ${'0'.repeat(minorDigits(currency))}ths, e.g. 12.50.`}
                </p>
                {formError?.field === 'amount' ? (
                  <p id="refund-amount-error" class="field-error" role="alert">
                    {formError.message}
                  </p>
                ) : null}
              </div>
            ) : null}
          </fieldset>
          <div class="field">
            <label for="refund-reason">Reason</label>
            <select id="refund-reason" name="reason" value={reason} onChange={(event) => setReason(event.currentTarget.value as RefundReason | '')}>
              <option value="">No reason given</option>
              {REFUND_REASONS.map((r) => (
                <option key={r} value={r}>
                  {reasonWords(r)}
                </option>
              ))}
            </select>
          </div>
          <fieldset>
            <legend>Metadata (optional)</legend>
            {rows.map((row, index) => (
              <div class="metadata-row" key={row.id}>
                <label>
                  Key {index + 1}
                  <input
                    value={row.key}
                    maxLength={40}
                    autocomplete="off"
                    onInput={(event) => setRowField(row.id, 'key', event.currentTarget.value)}
                  />
                </label>
                <label>
                  Value {index + 1}
                  <input
                    value={row.value}
                    maxLength={500}
                    autocomplete="off"
                    onInput={(event) => setRowField(row.id, 'value', event.currentTarget.value)}
                  />
                </label>
                <button type="button" class="secondary" onClick={() => setRows(rows.filter((r) => r.id !== row.id))}>
                  Remove<span class="visually-hidden"> metadata {index + 1}</span>
                </button>
              </div>
            ))}
            <button type="button" class="secondary" onClick={() => setRows([...rows, { id: (nextRowId.current += 1), key: '', value: '' }])}>
              Add metadata
            </button>
            {formError?.field === 'metadata' ? (
              <p class="field-error" role="alert">
                {formError.message}
              </p>
            ) : null}
          </fieldset>
          <ProblemAlert problem={problem} />
          <div class="actions">
            <button type="submit" disabled={busy}>
              {busy ? 'Checking…' : 'Review refund'}
            </button>
            <button type="button" class="secondary" onClick={onClose} disabled={busy}>
              Close
            </button>
          </div>
        </form>
      ) : (
        <div class="confirm">
          {preview === null ? (
            <p class="confirm-amount">
              Refund <strong data-amount>{amountWords}</strong> of {payment.id}?
            </p>
          ) : preview.would === 'refund' ? (
            <p class="confirm-amount">
              Refund <strong data-amount>{amountWords}</strong> of {payment.id}? {money(preview.refundable_amount_after, preview.currency)} will be left to refund.
            </p>
          ) : preview.would === 'request_approval' ? (
            <p class="confirm-amount">
              <strong data-amount>{amountWords}</strong> is above what this key may refund alone: confirming sends it to another person for approval, and
              nothing is refunded until they approve.
            </p>
          ) : (
            <ProblemAlert problem={preview.problem} title={`The gateway would refuse this refund of ${amountWords}:`} />
          )}
          <dl class="summary">
            <div>
              <dt>Reason</dt>
              <dd>{reasonWords(asked?.reason)}</dd>
            </div>
            {asked?.metadata ? (
              <div>
                <dt>Metadata</dt>
                <dd>
                  {Object.entries(asked.metadata)
                    .map(([k, v]) => `${k}: ${v}`)
                    .join(', ')}
                </dd>
              </div>
            ) : null}
          </dl>
          {preview === null && session.caps.preview === false ? <p class="hint">This gateway offers no preview: it checks the refund when you confirm.</p> : null}
          <ProblemAlert problem={problem} retrySafe />
          <div class="actions">
            {refused ? null : (
              <button type="button" onClick={confirm} disabled={busy}>
                {busy ? 'Refunding…' : preview?.would === 'request_approval' ? 'Send for approval' : `Confirm refund of ${amountWords}`}
              </button>
            )}
            <button
              type="button"
              class="secondary"
              disabled={busy}
              onClick={() => {
                setProblem(null);
                setStep({ name: 'form' });
              }}
            >
              Back
            </button>
          </div>
        </div>
      )}
    </Dialog>
  );
}
