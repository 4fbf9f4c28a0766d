// Sign in with an API key: checked against the gateway before it is kept (in this tab's sessionStorage only).
import { useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import type { Problem } from '../types.js';
import { ProblemAlert } from '../components/problem-alert.js';

export function SignIn({ onSignIn, message }: { onSignIn: (key: string) => Promise<void>; message?: string | undefined }) {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    const trimmed = key.trim();
    if (trimmed === '') {
      setProblem({ status: 0, code: 'missing_key', detail: 'Enter your API key.' });
      return;
    }
    setBusy(true);
    setProblem(null);
    try {
      await onSignIn(trimmed);
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiError) {
        setProblem(err.status === 401 ? { ...err.problem, detail: 'The gateway does not know this key. Check it and try again.' } : err.problem);
      } else {
        setProblem({ status: 0, code: 'unexpected', detail: 'Signing in failed unexpectedly. Reload the page and try again.' });
      }
    }
  };

  return (
    <main id="main" class="signin">
      <h1>Refund console</h1>
      <p>Sign in with your gateway API key. The console can do exactly what the key may, and keeps the key in this tab only.</p>
      {message ? (
        <p class="notice" role="status">
          {message}
        </p>
      ) : null}
      <form onSubmit={submit} noValidate>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={key}
          onInput={(event) => setKey(event.currentTarget.value)}
          aria-describedby={problem ? 'signin-problem' : undefined}
          aria-invalid={problem ? true : undefined}
          required
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <div id="signin-problem">
        <ProblemAlert problem={problem} />
      </div>
    </main>
  );
}
