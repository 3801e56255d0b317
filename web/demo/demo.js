// The demo channel page: a member's home page from the one headline query, each placed item carrying its creative id
// and variant in data-* attributes so that the codeless snippet (/collect.js) records what was seen and clicked.
// Open /demo/?token=<member token>, or in development /demo/?member=M0001.
(function () {
  'use strict';
  var HOME = [
    'query Home($channel: Channel!, $key: String!) {',
    '  viewer {',
    '    id',
    '    level { name }',
    '    page(channel: $channel, key: $key) {',
    '      id',
    '      slots {',
    '        code title template',
    '        items {',
    '          __typename',
    '          ... on PlacedItem { creativeId variant }',
    '          ... on Banner { title link }',
    '          ... on EntryCard { title link badge }',
    '          ... on ActivityCard { activity { title endsAt } }',
    '          ... on ProductCard { product { id name riskLevel annualRate } highlight }',
    '          ... on TopicCard { topic { title heat } }',
    '          ... on LiveCard { liveStream { title status } }',
    '          ... on VideoCard { video { title durationSeconds } }',
    '        }',
    '      }',
    '    }',
    '  }',
    '}',
  ].join('\n');

  var params = new URLSearchParams(location.search);
  var status = document.getElementById('status');
  // The token is read once; off the address bar, history and the Referer of whatever this page loads or links to.
  if (params.has('token')) {
    var rest = new URLSearchParams(location.search);
    rest.delete('token');
    var query = rest.toString();
    history.replaceState(history.state, '', location.pathname + (query ? '?' + query : '') + location.hash);
  }

  function token() {
    if (params.get('token')) return Promise.resolve(params.get('token'));
    var member = params.get('member');
    if (!member)
      return Promise.reject(
        new Error('open this page with ?token=<member token> (or ?member=M0001 in development)'),
      );
    return fetch('/dev/token?sub=' + encodeURIComponent(member)).then(function (response) {
      if (!response.ok) throw new Error('no development token issuer here; pass ?token=');
      return response.text();
    });
  }

  // An error as "CODE: message"; not every error carries extensions (a proxy's, or a server's before the hub's policy).
  function describe(error) {
    var code = error && error.extensions && error.extensions.code;
    var message = error && typeof error.message === 'string' ? error.message : 'an error without a message';
    return code ? code + ': ' + message : message;
  }

  function text(element, value) {
    element.textContent = value === null || value === undefined ? '' : String(value);
    return element;
  }

  function label(item) {
    switch (item.__typename) {
      case 'Banner':
      case 'EntryCard':
        return item.title;
      case 'ActivityCard':
        return item.activity.title;
      case 'ProductCard':
        return (
          item.product.name + ' · ' + item.product.riskLevel + (item.highlight ? ' · ' + item.highlight : '')
        );
      case 'TopicCard':
        return '# ' + item.topic.title;
      case 'LiveCard':
        return '▶ ' + item.liveStream.title;
      case 'VideoCard':
        return '▷ ' + item.video.title;
    }
    return item.__typename;
  }

  function render(viewer) {
    text(document.getElementById('who'), viewer.id + ' · ' + viewer.level.name);
    var main = document.getElementById('page');
    var page = viewer.page;
    page.slots.forEach(function (slot) {
      var section = document.createElement('section');
      section.setAttribute('data-slot', slot.code);
      if (slot.title) section.appendChild(text(document.createElement('h2'), slot.title));
      var items = document.createElement('div');
      items.className = 'items';
      slot.items.forEach(function (item) {
        var element = document.createElement('div');
        element.className = 'item ' + item.__typename;
        if (item.creativeId) {
          element.setAttribute('data-creative-id', item.creativeId);
          if (item.variant) element.setAttribute('data-variant', item.variant);
        }
        // A product card, whether a creative placed it or the shelf filled it in: its product's CTR.
        if (item.product) element.setAttribute('data-product-id', item.product.id);
        if (item.creativeId || item.product) {
          element.setAttribute('data-page-id', page.id);
          element.setAttribute('data-slot-code', slot.code);
        }
        var link = document.createElement('a');
        link.href = '#' + (item.link || slot.code);
        text(link, label(item));
        if (item.badge)
          link.appendChild(text(document.createElement('span'), item.badge)).className = 'badge';
        element.appendChild(link);
        items.appendChild(element);
      });
      section.appendChild(items);
      main.appendChild(section);
    });
  }

  token()
    .then(function (value) {
      if (window.hubCollect) window.hubCollect.token = value;
      return fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer ' + value },
        body: JSON.stringify({
          query: HOME,
          variables: { channel: params.get('channel') || 'APP', key: params.get('page') || 'home' },
        }),
      });
    })
    .then(function (response) {
      // A proxy in front of the hub may answer with a page of its own.
      return response.json().catch(function () {
        throw new Error('the hub answered HTTP ' + response.status + ', not GraphQL');
      });
    })
    .then(function (result) {
      var data = result && result.data;
      if (!data || !data.viewer || !data.viewer.page) {
        var first = result && Array.isArray(result.errors) ? result.errors[0] : null;
        throw new Error(first ? describe(first) : 'no page for this token');
      }
      render(result.data.viewer);
      text(status, 'rendered; what you see and click is recorded by /collect.js');
      document.body.setAttribute('data-ready', 'true');
    })
    .catch(function (error) {
      text(status, error.message);
      document.body.setAttribute('data-ready', 'error');
    });
})();
