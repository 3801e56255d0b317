// Operator login: a token from the development issuer (development only), or one pasted from the bank's issuer.
import { useState, type FormEvent } from 'react';
import { session, sessionFor, useSessionNotice } from './session';

export function Login() {
  const notice = useSessionNotice();
  const [operator, setOperator] = useState('ops.alice');
  const [pasted, setPasted] = useState('');
  const [refusal, setRefusal] = useState<string | null>(null);

  function open(token: string) {
    const opened = sessionFor(token);
    if ('refused' in opened) setRefusal(opened.refused);
    else session.start(opened);
  }

  async function fromIssuer(event: FormEvent) {
    event.preventDefault();
    const query = new URLSearchParams({ sub: operator.trim(), scope: 'operator' });
    const response = await fetch(`/dev/token?${query}`).catch(() => null);
    if (!response?.ok) {
      setRefusal(
        response?.status === 404
          ? 'This hub has no development issuer (it runs in production): paste a token from your issuer.'
          : 'The development issuer refused that id: use letters, digits, dots, dashes or underscores.',
      );
      return;
    }
    open(await response.text());
  }

  return (
    <main className="login">
      <h1>Operations console</h1>
      {notice && (
        <p className="notice error" role="alert">
          {notice}
        </p>
      )}
      <form onSubmit={(event) => void fromIssuer(event)}>
        <h2>Development issuer</h2>
        <label>
          Operator id
          <input name="operator" value={operator} onChange={(event) => setOperator(event.target.value)} />
        </label>
        <button type="submit">Log in</button>
      </form>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          open(pasted);
        }}
      >
        <h2>Or paste a token</h2>
        <label>
          Bearer token
          <textarea
            name="token"
            rows={4}
            value={pasted}
            onChange={(event) => setPasted(event.target.value)}
          />
        </label>
        <button type="submit">Log in with this token</button>
      </form>
      {refusal && (
        <p className="notice error" role="alert">
          {refusal}
        </p>
      )}
    </main>
  );
}
