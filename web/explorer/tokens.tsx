// The explorer's "Tokens" panel: how to get a bearer token for the demo members, operators and builders, and — where
// the gateway runs in development — buttons that fetch one from its development issuer into the headers editor.
import { useState } from 'react';
import { useGraphiQL, type GraphiQLPlugin } from '@graphiql/react';

interface DemoCaller {
  subject: string;
  scope: string;
  who: string;
}

const DEMO_CALLERS: DemoCaller[] = [
  { subject: 'M0001', scope: 'member', who: 'a young new member' },
  { subject: 'M0002', scope: 'member', who: 'a private-banking client' },
  { subject: 'ops.alice', scope: 'operator', who: 'an operator' },
  { subject: 'ops.bob', scope: 'operator pii:read', who: 'an operator who may see personal data' },
  { subject: 'builder.bea', scope: 'builder', who: 'a mini-program builder' },
  { subject: 'audit.ann', scope: 'audit', who: 'an auditor: reads the audit trail, changes nothing' },
  { subject: 'partner.shop', scope: 'federation', who: 'a data holder of federated rounds (联邦学习)' },
];

const command = ({ subject, scope }: DemoCaller) =>
  `npm run -s token -- ${subject}${scope === 'member' ? '' : ` --scope ${scope.includes(' ') ? `"${scope}"` : scope}`}`;

function TokensPanel() {
  const headerEditor = useGraphiQL((state) => state.headerEditor);
  const [message, setMessage] = useState('');

  async function fetchDemoToken(caller: DemoCaller) {
    const query = new URLSearchParams({ sub: caller.subject, scope: caller.scope });
    const response = await fetch(`/dev/token?${query}`).catch(() => null);
    if (!response?.ok) {
      setMessage('This hub has no development issuer (it runs in production): run the command instead.');
      return;
    }
    const token = await response.text();
    headerEditor?.setValue(JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2));
    setMessage(`The headers now carry a token for ${caller.subject} (${caller.scope}).`);
  }

  return (
    <div className="hub-tokens">
      <div className="graphiql-doc-explorer-title">Tokens</div>
      <p>
        Queries about a member or for operators need a bearer token. Put it in the <b>Headers</b> tab below
        the query:
      </p>
      <pre>{'{ "Authorization": "Bearer <token>" }'}</pre>
      <p>Get one for a demo caller in a terminal at the hub's folder:</p>
      <ul>
        {DEMO_CALLERS.map((caller) => (
          <li key={caller.subject}>
            <code>{command(caller)}</code> — {caller.who}{' '}
            <button type="button" onClick={() => void fetchDemoToken(caller)}>
              use
            </button>
          </li>
        ))}
      </ul>
      <p className="hub-tokens-note">
        <b>use</b> asks the gateway's development issuer (<code>/dev/token</code>), which exists only when the
        hub runs in development.
      </p>
      {message && <p role="status">{message}</p>}
    </div>
  );
}

function KeyIcon() {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
      <circle cx="8" cy="12" r="4" fill="none" stroke="currentColor" strokeWidth="1.6" />
      <path d="M12 12h9M18 12v3M21 12v2" fill="none" stroke="currentColor" strokeWidth="1.6" />
    </svg>
  );
}

export const TOKENS_PLUGIN: GraphiQLPlugin = { title: 'Tokens', icon: KeyIcon, content: TokensPanel };
