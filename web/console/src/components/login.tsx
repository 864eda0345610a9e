// The login box: shown when any API call answered 401. Stores the token in sessionStorage
// (api.ts) and tells the app to retry (onDone).
import { useState } from 'preact/hooks';
import { setToken } from '../lib/api';

export function LoginBox({ onDone }: { onDone: () => void }) {
  const [token, setT] = useState('');
  return (
    <div class="overlay">
      <form
        class="login card"
        onSubmit={(e) => {
          e.preventDefault();
          setToken(token.trim());
          onDone();
        }}
      >
        <h2>Sign in</h2>
        <p class="muted">This console needs an API token (sent as <code>Authorization: Bearer</code>).</p>
        <input
          type="password"
          name="token"
          placeholder="token"
          autoFocus
          value={token}
          onInput={(e) => setT((e.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled={!token.trim()}>
          Sign in
        </button>
      </form>
    </div>
  );
}
