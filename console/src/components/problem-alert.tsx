// A problem from the gateway in words: its detail, each field problem, and the request id to quote to support.
import type { Problem } from '../types.js';

/**
 * `retrySafe`: the action carries an Idempotency-Key, so after an answer that leaves the outcome open (no answer, a
 * timeout, an overloaded or unreachable upstream) the operator is told that trying again cannot do it twice.
 */
export function ProblemAlert({ problem, title, retrySafe = false }: { problem: Problem | null | undefined; title?: string; retrySafe?: boolean }) {
  if (!problem) return null;
  const open = problem.status === 0 || problem.status >= 500 || problem.code === 'idempotency_request_in_progress';
  return (
    <div class="alert" role="alert" data-code={problem.code}>
      {title ? <p class="alert-title">{title}</p> : null}
      <p>{problem.detail}</p>
      {problem.errors && problem.errors.length > 0 ? (
        <ul>
          {problem.errors.map((e) => (
            <li key={`${e.in}${e.path}`}>
              {e.path ? <code>{e.path}</code> : null} {e.message}
            </li>
          ))}
        </ul>
      ) : null}
      {retrySafe && open ? <p>Trying again sends the same request: it finds what the first attempt did, and never does it twice.</p> : null}
      {problem.request_id ? <p class="hint">Reference: {problem.request_id}</p> : null}
    </div>
  );
}
