// Which screen is open: the path under /console, kept in the address bar so that a screen can be linked to.
import { useSyncExternalStore } from 'react';

export const BASE = '/console';

const subscribe = (listener: () => void) => {
  window.addEventListener('popstate', listener);
  return () => window.removeEventListener('popstate', listener);
};

/** The screen's path, e.g. "segments" for /console/segments. */
export const useScreenPath = (): string =>
  useSyncExternalStore(subscribe, () => location.pathname.slice(BASE.length).replace(/^\/+|\/+$/g, ''));

export function navigate(screen: string): void {
  history.pushState(null, '', `${BASE}/${screen}`);
  window.dispatchEvent(new PopStateEvent('popstate'));
}
