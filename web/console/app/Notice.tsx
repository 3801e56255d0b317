// A failure, explained (see errors.ts) with the hub's code beside it, or a success.
import { codeOf, explain } from './errors';

/** `children` say what failed, before the explanation. */
export function ErrorNotice({ error, children }: { error: unknown; children?: React.ReactNode }) {
  if (!error) return null;
  const code = codeOf(error);
  return (
    <p className="notice error" role="alert">
      {children}
      {explain(error)}
      {code && (
        <>
          {' '}
          <small className="error-code" title="The hub's error code (see the README's table of errors)">
            {code}
          </small>
        </>
      )}
    </p>
  );
}

export function Done({ children }: { children: React.ReactNode }) {
  return (
    <p className="notice done" role="status">
      {children}
    </p>
  );
}
