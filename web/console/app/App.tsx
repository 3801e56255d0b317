// The console's frame: login until a token of the bank's staff is present, then its screens with a navigation bar.
import { screensFor } from '../screens';
import { Login } from './Login';
import { navigate, useScreenPath } from './router';
import { session, useSession } from './session';

export function App() {
  const current = useSession();
  const path = useScreenPath();
  if (!current) return <Login />;
  // A builder's token opens only the screens it can use (service flows): the others would answer FORBIDDEN.
  const screens = screensFor(current.scopes);
  const screen = screens.find((candidate) => candidate.path === path) ?? screens[0]!;
  const Screen = screen.Component;
  return (
    <div className="frame">
      <header>
        <strong>Operations console</strong>
        <nav>
          {screens.map((candidate) => (
            <a
              key={candidate.path}
              href={`/console/${candidate.path}`}
              aria-current={candidate === screen ? 'page' : undefined}
              onClick={(event) => {
                event.preventDefault();
                navigate(candidate.path);
              }}
            >
              {candidate.title}
            </a>
          ))}
        </nav>
        <span className="who">
          <b>{current.subject}</b>
          <button type="button" onClick={() => session.logOut()}>
            Log out
          </button>
        </span>
      </header>
      <main>
        <h1>{screen.title}</h1>
        <Screen operator={current.subject} />
      </main>
    </div>
  );
}
