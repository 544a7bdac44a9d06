import { useState } from 'preact/hooks';
import { useLocation, useSearchParams } from 'wouter-preact';

import { login } from '../api';

export function LoginPage() {
  const [, navigate] = useLocation();
  const [params] = useSearchParams();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  document.title = 'Sign in · Runtime Hub console';
  return (
    <main id="main" class="login">
      <form
        class="card login-card"
        onSubmit={(e) => {
          e.preventDefault();
          const form = e.currentTarget.elements;
          const field = (name: string): string => (form.namedItem(name) as HTMLInputElement).value;
          setBusy(true);
          setError(undefined);
          login(field('username'), field('password')).then(
            () => {
              const next = params.get('next');
              navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/runs', {
                replace: true,
              });
            },
            (err: unknown) => {
              setBusy(false);
              setError((err as Error).message);
            },
          );
        }}
      >
        <h1>Runtime Hub console</h1>
        <p class="muted">Sign in with your hub account.</p>
        <label>
          Username
          <input name="username" autoComplete="username" required autoFocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        {error ? (
          <p class="field-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
