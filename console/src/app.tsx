// The console's shell: sign-in gate, header with navigation and sign-out, and the view for the current route.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, createApi, type Api } from './api.js';
import { learnCapabilities, type Capabilities } from './capabilities.js';
import { href, useRoute, type Route } from './router.js';
import { forgetKey, storedKey, storeKey } from './session.js';
import { ApprovalsView } from './views/approvals.js';
import { BatchView } from './views/batch.js';
import { BatchesView } from './views/batches.js';
import { PaymentView } from './views/payment.js';
import { PendingView } from './views/pending.js';
import { SignIn } from './views/sign-in.js';

export interface Session {
  api: Api;
  caps: Capabilities;
  /** Batches sent from this tab, newest first (the API has no list of batches); forgotten on sign-out. */
  recentBatches: string[];
}

type State =
  | { phase: 'signed_out'; message?: string }
  | { phase: 'checking'; key: string }
  | { phase: 'unreachable'; key: string; detail: string }
  | { phase: 'signed_in'; session: Session };

export function App() {
  const [state, setState] = useState<State>(() => {
    const key = storedKey();
    return key ? { phase: 'checking', key } : { phase: 'signed_out' };
  });

  const signOut = (message?: string) => {
    forgetKey();
    setState(message ? { phase: 'signed_out', message } : { phase: 'signed_out' });
  };

  const signIn = async (key: string): Promise<void> => {
    const api = createApi(key, () => signOut('The gateway no longer accepts this key. Sign in again.'));
    const caps = await learnCapabilities(api);
    storeKey(key);
    setState({ phase: 'signed_in', session: { api, caps, recentBatches: [] } });
  };

  // A reload keeps the tab's key: check it again, and learn its scopes again. Only a refused key is forgotten; a
  // gateway that does not answer right now keeps it, so the operator can retry without typing it again.
  useEffect(() => {
    if (state.phase !== 'checking') return;
    const key = state.key;
    signIn(key).catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 401) signOut('The gateway no longer accepts the stored key. Sign in again.');
      else setState({ phase: 'unreachable', key, detail: err instanceof ApiError ? err.problem.detail : 'The key could not be checked.' });
    });
  }, [state]);

  if (state.phase === 'checking') {
    return (
      <main id="main" class="signin">
        <p role="status">Checking your key…</p>
      </main>
    );
  }
  if (state.phase === 'unreachable') {
    const key = state.key;
    return (
      <main id="main" class="signin">
        <h1>Refund console</h1>
        <div class="alert" role="alert">
          <p>{state.detail}</p>
        </div>
        <div class="actions">
          <button type="button" onClick={() => setState({ phase: 'checking', key })}>
            Try again
          </button>
          <button type="button" class="secondary" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </main>
    );
  }
  if (state.phase === 'signed_out') return <SignIn onSignIn={signIn} message={state.message} />;
  return <Shell session={state.session} onSignOut={() => signOut()} />;
}

const NAV: { route: Route['name']; label: string; to: string; when?: (caps: Capabilities) => boolean }[] = [
  { route: 'search', label: 'Find a payment', to: href.search() },
  { route: 'pending', label: 'Pending refunds', to: href.pending() },
  { route: 'approvals', label: 'Approvals', to: href.approvals(), when: (caps) => caps.refundRequests },
  { route: 'batches', label: 'Batches', to: href.batches(), when: (caps) => caps.batches },
];

const SCOPE_WORDS: [keyof Capabilities, string][] = [
  ['read', 'read'],
  ['write', 'refund'],
  ['cancel', 'cancel payments'],
  ['approve', 'approve'],
];

function Shell({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const route = useRoute();
  const mainRef = useRef<HTMLElement>(null);
  const firstRender = useRef(true);
  const current = route.name === 'payment' ? 'search' : route.name === 'batch' ? 'batches' : route.name;
  const abilities = useMemo(() => SCOPE_WORDS.filter(([cap]) => session.caps[cap]).map(([, words]) => words), [session.caps]);

  // After a navigation, focus goes to the new view's heading, so keyboard and screen-reader users start there.
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    mainRef.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [route]);

  return (
    <>
      <a
        class="skip-link"
        href="#main"
        onClick={(event) => {
          event.preventDefault();
          mainRef.current?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <p class="brand">
          Refund console{session.caps.sandbox ? <span class="badge badge-wait sandbox">Sandbox</span> : null}
        </p>
        <nav aria-label="Main">
          <ul>
            {NAV.filter((item) => !item.when || item.when(session.caps)).map((item) => (
              <li key={item.route}>
                <a href={item.to} aria-current={current === item.route ? 'page' : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="session">
          <span class="abilities">This key may: {abilities.length > 0 ? abilities.join(', ') : 'nothing the console offers'}</span>
          <button type="button" class="secondary" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" ref={mainRef} tabIndex={-1}>
        <View route={route} session={session} />
      </main>
    </>
  );
}

function View({ route, session }: { route: Route; session: Session }) {
  switch (route.name) {
    case 'search':
      return <PaymentView key="search" session={session} id={null} />;
    case 'payment':
      return <PaymentView key={route.id} session={session} id={route.id} />;
    case 'pending':
      return <PendingView session={session} />;
    case 'approvals':
      return <ApprovalsView session={session} />;
    case 'batches':
      return <BatchesView session={session} />;
    case 'batch':
      return <BatchView key={route.id} session={session} id={route.id} />;
  }
}
