// Batches: a CSV checked in the page and sent as one batch; open a batch by id; the batches sent from this tab.
import { useRef, useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import type { Session } from '../app.js';
import { ProblemAlert } from '../components/problem-alert.js';
import { TableRegion } from '../components/table-region.js';
import { readBatchCsv, type BatchCsv } from '../batch-csv.js';
import { TEMPLATE_CSV } from '../batch-results.js';
import { downloadText } from '../download.js';
import { IntentKeys, SingleFlight } from '../intent.js';
import { href, navigate } from '../router.js';
import type { Batch, Problem } from '../types.js';
import { money, reasonWords } from '../words.js';

const BATCH_ID = /^rb_[A-Za-z0-9_-]{1,250}$/;
const SHOWN_ROWS = 10;
const SHOWN_PROBLEMS = 50;

export function BatchesView({ session }: { session: Session }) {
  return (
    <>
      <h1 tabIndex={-1}>Batches</h1>
      {session.caps.write ? <NewBatch session={session} /> : <p class="notice">This key may not make refunds (it lacks the refunds:write scope), so it cannot send batches.</p>}
      <OpenBatch />
      {session.recentBatches.length > 0 ? (
        <section aria-labelledby="recent-title">
          <h2 id="recent-title">Sent from this tab</h2>
          <ul>
            {session.recentBatches.map((id) => (
              <li key={id}>
                <a href={href.batch(id)}>{id}</a>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </>
  );
}

function NewBatch({ session }: { session: Session }) {
  const [file, setFile] = useState<{ name: string; result: BatchCsv } | null>(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const keys = useRef(new IntentKeys()).current;
  const flight = useRef(new SingleFlight<void>()).current;

  const choose = async (event: Event) => {
    const chosen = (event.currentTarget as HTMLInputElement).files?.[0];
    setProblem(null);
    if (!chosen) return setFile(null);
    setFile({ name: chosen.name, result: readBatchCsv(await chosen.text()) });
  };

  const send = async (event: Event) => {
    event.preventDefault();
    if (!file?.result.ok) return;
    const items = file.result.items;
    setBusy(true);
    setProblem(null);
    await flight.run(async () => {
      try {
        const { body: batch } = await session.api.post<Batch>('/v1/refund-batches', { body: { items }, idempotencyKey: keys.keyFor({ items }) });
        if (!session.recentBatches.includes(batch.id)) session.recentBatches.unshift(batch.id);
        navigate(href.batch(batch.id));
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        setProblem(
          err.status === 413 ? { ...err.problem, detail: `${err.problem.detail} Split the file into smaller batches, or ask for a larger BODY_LIMIT_BYTES.` } : err.problem,
        );
        setBusy(false);
      }
    });
  };

  const result = file?.result;
  const fileName = file?.name ?? '';
  return (
    <section aria-labelledby="new-batch-title">
      <h2 id="new-batch-title">Send a batch</h2>
      <p class="hint" id="batch-file-hint">
        A CSV file with a header row. Columns: <code>key</code> (each refund’s own idempotency key, unique in the file), <code>charge</code> or{' '}
        <code>payment_intent</code> (one of them per row), <code>amount</code> in minor units (2500 is $25.00; blank refunds everything left),{' '}
        <code>reason</code> ({['requested_by_customer', 'duplicate', 'fraudulent'].join(', ')} or blank); optional <code>currency</code> and{' '}
        <code>metadata.&lt;name&gt;</code>. Sending the same file again is the same batch.{' '}
        <button type="button" class="link" onClick={() => downloadText('refund-batch-template.csv', TEMPLATE_CSV)}>
          Download a template
        </button>
      </p>
      <form onSubmit={send} noValidate>
        <div class="field">
          <label for="batch-file">CSV file</label>
          <input id="batch-file" type="file" accept=".csv,text/csv" onChange={choose} aria-describedby="batch-file-hint batch-check" />
        </div>
        <div id="batch-check">
          {result && !result.ok ? (
            <div class="alert" role="alert">
              <p class="alert-title">
                {fileName} cannot be sent: {result.problems.length === 1 ? 'one problem' : `${result.problems.length} problems`}.
              </p>
              <ul class="batch-problems">
                {result.problems.slice(0, SHOWN_PROBLEMS).map((p, index) => (
                  <li key={index}>
                    Line {p.line}: {p.message}
                  </li>
                ))}
              </ul>
              {result.problems.length > SHOWN_PROBLEMS ? <p>…and {result.problems.length - SHOWN_PROBLEMS} more.</p> : null}
            </div>
          ) : null}
          {result?.ok ? (
            <>
              <p role="status" class="notice success">
                {fileName}: {result.items.length === 1 ? 'one refund' : `${result.items.length} refunds`}, all checked. Nothing is sent until you press “Send batch”.
              </p>
              <TableRegion label="The first rows of the file">
                <table class="batch-rows">
                  <caption class="visually-hidden">The first {Math.min(SHOWN_ROWS, result.items.length)} refunds of the file</caption>
                  <thead>
                    <tr>
                      <th scope="col">Key</th>
                      <th scope="col">Payment</th>
                      <th scope="col" class="num">
                        Amount
                      </th>
                      <th scope="col">Reason</th>
                    </tr>
                  </thead>
                  <tbody>
                    {result.items.slice(0, SHOWN_ROWS).map((item) => (
                      <tr key={item.key}>
                        <td>{item.key}</td>
                        <td>{item.payment_intent ?? item.charge}</td>
                        <td class="num">
                          {item.amount === undefined ? 'everything left' : item.currency ? money(item.amount, item.currency) : `${item.amount} (minor units)`}
                        </td>
                        <td>{reasonWords(item.reason)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableRegion>
              {result.items.length > SHOWN_ROWS ? <p class="hint">…and {result.items.length - SHOWN_ROWS} more.</p> : null}
            </>
          ) : null}
        </div>
        <ProblemAlert problem={problem} retrySafe />
        <div class="actions">
          <button type="submit" disabled={busy || !result?.ok}>
            {busy ? 'Sending…' : 'Send batch'}
          </button>
        </div>
      </form>
    </section>
  );
}

function OpenBatch() {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = (event: Event) => {
    event.preventDefault();
    const id = value.trim();
    if (!BATCH_ID.test(id)) return setError('Enter a batch id (rb_…).');
    setError(null);
    navigate(href.batch(id));
  };
  return (
    <section aria-labelledby="open-batch-title">
      <h2 id="open-batch-title">Open a batch</h2>
      <form class="search" onSubmit={submit} noValidate>
        <label for="batch-id">Batch id</label>
        <div class="row">
          <input
            id="batch-id"
            value={value}
            placeholder="rb_…"
            autocomplete="off"
            spellcheck={false}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'batch-id-error' : undefined}
            onInput={(event) => setValue(event.currentTarget.value)}
          />
          <button type="submit">Open</button>
        </div>
        {error ? (
          <p id="batch-id-error" class="field-error" role="alert">
            {error}
          </p>
        ) : null}
      </form>
    </section>
  );
}
