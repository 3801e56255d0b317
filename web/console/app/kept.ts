// Unsaved edits kept for this browser tab (sessionStorage, as the token is): leaving a screen, reloading the console
// or logging in again after the token expired loses none of them. They are the operator's own: kept under their id,
// so that another operator logging in here never sees them, and all forgotten when an operator logs out.
import { useEffect, useState, type Dispatch, type SetStateAction } from 'react';

const PREFIX = 'hub-console-kept:';

function read<T>(key: string, accept: (stored: unknown) => stored is T): T | undefined {
  try {
    const stored: unknown = JSON.parse(sessionStorage.getItem(key) ?? 'null');
    return accept(stored) ? stored : undefined;
  } catch {
    return undefined;
  }
}

/**
 * State kept for `operator` under `name` until an operator logs out: what was kept, if `accept` recognises it (a console
 * of another version may have kept another shape), else `initial`.
 */
export function useKept<T>(
  operator: string,
  name: string,
  initial: () => T,
  accept: (stored: unknown) => stored is T,
): [T, Dispatch<SetStateAction<T>>] {
  const key = `${PREFIX}${operator}:${name}`;
  const [value, setValue] = useState<T>(() => read(key, accept) ?? initial());
  useEffect(() => {
    try {
      sessionStorage.setItem(key, JSON.stringify(value));
    } catch {
      // Storage full or refused: the edits stay on screen, only not past leaving it.
    }
  }, [key, value]);
  return [value, setValue];
}

/** Asks before the tab is closed or left for another site while `unsaved` (a closed tab's storage is gone). */
export function useWarnBeforeUnload(unsaved: boolean): void {
  useEffect(() => {
    if (!unsaved) return;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [unsaved]);
}

/** Forgets every operator's kept edits. */
export function forgetKept(): void {
  for (const key of Object.keys(sessionStorage)) if (key.startsWith(PREFIX)) sessionStorage.removeItem(key);
}
