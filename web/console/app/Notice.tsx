// A failure, explained (see errors.ts), or a success.
import { explain } from './errors';

export function ErrorNotice({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="notice error" role="alert">
      {explain(error)}
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
