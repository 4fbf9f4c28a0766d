// One batch: progress while it runs (polled), its counts, cancel, its first results, and all results as CSV.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, query } from '../api.js';
import type { Session } from '../app.js';
import { ProblemAlert } from '../components/problem-alert.js';
import { StatusBadge } from '../components/status-badge.js';
import { TableRegion } from '../components/table-region.js';
import { resultRow, resultsCsv } from '../batch-results.js';
import { downloadText } from '../download.js';
import { newIdempotencyKey, SingleFlight } from '../intent.js';
import { BATCH_COUNTS, type Batch, type BatchItem, type Page, type Problem } from '../types.js';
import { dateTime, money, statusWords } from '../words.js';

const POLL_MS = 1000;
const ITEMS_PAGE = 100;
const SHOWN_ITEMS = 20;
const RUNNING = new Set(['queued', 'running']);

export function BatchView({ session, id }: { session: Session; id: string }) {
  const [batch, setBatch] = useState<Batch | null>(null);
  const [items, setItems] = useState<BatchItem[] | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [download, setDownload] = useState<{ busy: boolean; fetched: number; problem: Problem | null }>({ busy: false, fetched: 0, problem: null });
  const [cancel, setCancel] = useState<{ busy: boolean; problem: Problem | null }>({ busy: false, problem: null });
  // Bumped after a cancel, to poll the batch again until it settles.
  const [tick, setTick] = useState(0);
  const path = `/v1/refund-batches/${encodeURIComponent(id)}`;
  // Cancelling is one intent per page view: clicking again after an error sends the same key.
  const cancelKey = useRef(newIdempotencyKey()).current;
  const cancelFlight = useRef(new SingleFlight<void>()).current;

  // Polls while the batch runs; stops when it is done, on an error, or when the view goes away.
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const { body } = await session.api.get<Batch>(path);
        if (stopped) return;
        setBatch(body);
        setProblem(null);
        if (RUNNING.has(body.status)) timer = setTimeout(() => void poll(), POLL_MS);
        else void loadFirstItems();
      } catch (err) {
        if (!(err instanceof ApiError) || stopped) return;
        setProblem(err.status === 404 ? { ...err.problem, detail: `There is no batch ${id}.` } : err.problem);
      }
    };
    const loadFirstItems = async () => {
      try {
        const { body } = await session.api.get<Page<BatchItem>>(`${path}/items${query({ limit: SHOWN_ITEMS })}`);
        if (!stopped) setItems(body.data);
      } catch (err) {
        if (err instanceof ApiError && !stopped) setProblem(err.problem);
      }
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [id, tick]);

  const downloadResults = async () => {
    setDownload({ busy: true, fetched: 0, problem: null });
    const all: BatchItem[] = [];
    try {
      let after: string | undefined;
      for (;;) {
        const { body } = await session.api.get<Page<BatchItem>>(`${path}/items${query({ limit: ITEMS_PAGE, starting_after: after })}`);
        all.push(...body.data);
        setDownload({ busy: true, fetched: all.length, problem: null });
        const last = body.data[body.data.length - 1];
        if (!body.has_more || !last) break;
        after = last.key;
      }
      downloadText(`${id}-results.csv`, resultsCsv(all));
      setDownload({ busy: false, fetched: all.length, problem: null });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setDownload({ busy: false, fetched: all.length, problem: err.problem });
    }
  };

  const cancelBatch = () =>
    cancelFlight.run(async () => {
      setCancel({ busy: true, problem: null });
      try {
        const { body } = await session.api.post<Batch>(`${path}/cancel`, { idempotencyKey: cancelKey });
        setBatch(body);
        setCancel({ busy: false, problem: null });
        setTick((t) => t + 1);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        setCancel({ busy: false, problem: err.problem });
      }
    });

  const total = batch?.counts.total ?? 0;
  const waiting = batch?.counts.pending ?? 0;
  const done = total - waiting;
  return (
    <>
      <h1 tabIndex={-1}>
        Batch <code>{id}</code>
      </h1>
      <ProblemAlert problem={problem} />
      {batch === null && problem === null ? <p role="status">Loading…</p> : null}
      {batch ? (
        <section aria-labelledby="progress-title">
          <h2 id="progress-title">
            Progress <StatusBadge status={batch.status} />
          </h2>
          <progress id="batch-progress" max={Math.max(total, 1)} value={done} aria-describedby="batch-progress-words" />
          <p id="batch-progress-words" role="status" data-done={done} data-total={total}>
            {done} of {total} done{RUNNING.has(batch.status) ? '; this page updates itself.' : '.'}
          </p>
          <dl class="picture counts">
            {BATCH_COUNTS.map((name) => (
              <div key={name}>
                <dt>{statusWords(name)}</dt>
                <dd data-count={name}>{batch.counts[name] ?? 0}</dd>
              </div>
            ))}
          </dl>
          <p class="hint">
            Sent by {batch.requested_by} on {dateTime(batch.created)}
            {batch.completed_at ? `, finished ${dateTime(batch.completed_at)}` : ''}.
          </p>
          <div class="actions">
            <button type="button" onClick={() => void downloadResults()} disabled={download.busy}>
              {download.busy ? `Fetching results… ${download.fetched} of ${total}` : 'Download results (CSV)'}
            </button>
            {session.caps.write && RUNNING.has(batch.status) ? (
              <button type="button" class="danger" onClick={() => void cancelBatch()} disabled={cancel.busy}>
                {cancel.busy ? 'Canceling…' : 'Cancel the items not started'}
              </button>
            ) : null}
          </div>
          <ProblemAlert problem={download.problem} />
          <ProblemAlert problem={cancel.problem} />
        </section>
      ) : null}
      {items && items.length > 0 ? (
        <section aria-labelledby="items-title">
          <h2 id="items-title">Results{total > items.length ? ` (the first ${items.length})` : ''}</h2>
          <TableRegion label="Results of the batch">
            <table class="items">
              <thead>
                <tr>
                  <th scope="col">Key</th>
                  <th scope="col">Result</th>
                  <th scope="col">Payment</th>
                  <th scope="col" class="num">
                    Amount
                  </th>
                  <th scope="col">Refund or request</th>
                  <th scope="col">Why not</th>
                </tr>
              </thead>
              <tbody>
                {items.map((item) => {
                  const [key, status, charge, paymentIntent, amount, currency, refund, , request, , detail] = resultRow(item);
                  return (
                    <tr key={item.key} data-item={item.key}>
                      <td>{key}</td>
                      <td>
                        <StatusBadge status={String(status)} />
                      </td>
                      <td>{paymentIntent ?? charge ?? '—'}</td>
                      <td class="num">{typeof amount === 'number' && typeof currency === 'string' ? money(amount, currency) : '—'}</td>
                      <td>{refund ?? request ?? '—'}</td>
                      <td class="wrap">{detail ?? ''}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </TableRegion>
        </section>
      ) : null}
    </>
  );
}
