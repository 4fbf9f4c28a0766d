// A problem from the gateway in words: its detail, each field problem, and the request id to quote to support.
import type { Problem } from '../types.js';

export function ProblemAlert({ problem, title }: { problem: Problem | null | undefined; title?: string }) {
  if (!problem) return null;
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
      {problem.request_id ? <p class="hint">Reference: {problem.request_id}</p> : null}
    </div>
  );
}
