// The hub's landing page (development only): Apollo Sandbox when Apollo's CDN can be reached, and in any case a link
// to the explorer the hub serves itself, which needs no internet access.
(function () {
  'use strict';
  var SANDBOX_SCRIPT =
    'https://embeddable-sandbox.cdn.apollographql.com/v2/embeddable-sandbox.umd.production.min.js';
  /** A machine without a route to the CDN may never answer: give up after this long. */
  var GIVE_UP_MS = 10000;
  var status = document.getElementById('sandbox-status');
  var settled = false;

  function offline() {
    if (settled) return;
    settled = true;
    status.textContent = 'Apollo Sandbox cannot be loaded here (no route to its CDN). ';
    var link = document.createElement('a');
    link.href = '/graphiql/';
    link.textContent = 'Use the explorer the hub serves itself.';
    status.appendChild(link);
    document.body.setAttribute('data-sandbox', 'offline');
  }

  var script = document.createElement('script');
  script.src = SANDBOX_SCRIPT;
  script.onload = function () {
    if (settled || !window.EmbeddedSandbox) return offline();
    settled = true;
    status.textContent = 'Apollo Sandbox';
    new window.EmbeddedSandbox({
      target: '#sandbox',
      initialEndpoint: location.origin + '/graphql',
      initialState: { includeCookies: false },
      endpointIsEditable: false,
      allowDynamicStyles: false,
    });
    document.body.setAttribute('data-sandbox', 'loaded');
  };
  script.onerror = offline;
  setTimeout(offline, GIVE_UP_MS);
  document.head.appendChild(script);
})();
