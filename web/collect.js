// The hub's codeless capture snippet (无码全埋点). Add it to a page and it records, with no code from the page's authors:
// page views (the page's path and the referrer's origin and path, never a query), clicks on any element (a CSS path,
// short visible text, data-* attributes; never what a visitor typed) — runs of six digits or more masked in all of
// these, grouped or not — and placed items — elements with data-creative-id, and product cards, with data-product-id —
// seen (half in view, once per page view) and clicked. Events are batched and sent with navigator.sendBeacon (text/plain) to the collector of the hub the
// snippet came from (or data-endpoint), also when the page is hidden; at most as many a minute as the collector takes.
//
//   <script src="https://hub.example/collect.js" data-channel="WEB" defer></script>
//   window.hubCollect.token = '<member token>';   // optional: attributes the events to the member
//   window.hubCollect.track('share', { target: 'wechat' });   // optional: an event of the tracking plan
(function () {
  'use strict';
  var script = document.currentScript;
  // Events go back to the hub that served this snippet, whatever host the page that loads it is on: relative to the
  // page, a channel's own host would be sent them, the member's token included.
  var endpoint =
    (script && script.getAttribute('data-endpoint')) ||
    (script && script.src ? new URL('/collect', script.src).href : '/collect');
  var channel = (script && script.getAttribute('data-channel')) || 'WEB';
  var BATCH = 50;
  var FLUSH_MS = 2000;
  // The collector refuses an event whose properties encode to more than 4,096 bytes, and browsers a beacon (all in
  // flight together) over 64 KB: events are cut to fit, and a beacon carries at most this many bytes of them.
  var PROPERTIES_BYTES = 4096;
  var BEACON_BYTES = 48 * 1024;
  // The collector refuses a device's events past 600 a minute (EVENTS_PER_DEVICE_PER_MINUTE's default): an
  // auto-clicker's rest is dropped here rather than sent to be refused, at the cost of the visitor's traffic and battery.
  var PER_MINUTE = 600;
  // A click costs the page little however large what it hits (the body of a page of 100,000 paragraphs, an item of a
  // list of 100,000): its text is read from at most so many nodes and characters, each step of its path scans at most
  // so many siblings.
  var TEXT_NODES = 1000;
  var TEXT_CHARS = 10000;
  var SIBLINGS = 1000;
  var encoder = new TextEncoder();

  function bytesOf(value) {
    return encoder.encode(JSON.stringify(value)).length;
  }

  function randomId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return 'id-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 12);
  }

  var deviceId;
  try {
    deviceId = localStorage.getItem('hub_device_id');
    if (!deviceId) localStorage.setItem('hub_device_id', (deviceId = randomId()));
  } catch {
    // Storage is off (private mode, a sandboxed frame): a device id for this page view only.
    deviceId = randomId();
  }

  var queue = [];
  var api = { deviceId: deviceId, token: null, track: track, flush: flush };
  window.hubCollect = api;

  // When the last PER_MINUTE events were tracked, a ring: the slot of the next one holds the oldest.
  var trackedAt = [];
  var nextSlot = 0;

  function track(name, properties) {
    var now = performance.now();
    if (trackedAt[nextSlot] !== undefined && now - trackedAt[nextSlot] < 60000) return;
    trackedAt[nextSlot] = now;
    nextSlot = (nextSlot + 1) % PER_MINUTE;
    queue.push({
      id: randomId(),
      name: name,
      occurredAt: new Date().toISOString(),
      channel: channel,
      properties: properties || {},
    });
    if (queue.length >= BATCH) flush();
  }

  function flush() {
    while (queue.length > 0) {
      var events = [];
      var bytes = 0;
      while (queue.length > 0 && events.length < BATCH) {
        var size = bytesOf(queue[0]) + 1;
        if (events.length > 0 && bytes + size > BEACON_BYTES) break;
        events.push(queue.shift());
        bytes += size;
      }
      send(JSON.stringify({ deviceId: deviceId, token: api.token || undefined, events: events }));
    }
  }

  function send(body) {
    var sent =
      navigator.sendBeacon && navigator.sendBeacon(endpoint, new Blob([body], { type: 'text/plain' }));
    // Refused when the beacons in flight already hold 64 KB, which a keepalive fetch shares: a plain one, then. Its
    // failure (offline) loses the batch, and says nothing on the page's console.
    if (!sent) {
      fetch(endpoint, { method: 'POST', body: body, headers: { 'content-type': 'text/plain' } }).catch(
        function () {},
      );
    }
  }

  function clip(text, max) {
    // Six digits or more may be a card, account or phone number, also written in groups ("6222 0212 3456 7890",
    // "138-0013-8000"): never sent.
    return (text || '')
      .replace(/\s+/g, ' ')
      .trim()
      .replace(/\d(?:[\s-]?\d){5,}/g, '***')
      .slice(0, max);
  }

  // Where the visitor came from, without its query or fragment: those may carry a token (a page opened with
  // ?token=…) or personal data.
  function referrerOf(address) {
    if (!address) return '';
    try {
      var url = new URL(address);
      return clip(url.origin + url.pathname, 500);
    } catch {
      return '';
    }
  }

  // The page's own path, masked as it is when it is the next page's referrer (/cards/6222…/ in a single-page app).
  function pageOf() {
    return clip(location.pathname, 500);
  }

  function cssPath(element) {
    var parts = [];
    for (var node = element; node && node.nodeType === 1 && parts.length < 6; node = node.parentElement) {
      var part = node.tagName.toLowerCase();
      if (node.id) {
        // An id may name an account or card as text does (card-6222…): masked alike.
        parts.unshift(part + '#' + clip(node.id, 200));
        break;
      }
      parts.unshift(part + positionOf(node));
    }
    return parts.join('>').slice(0, 500);
  }

  // ':nth-of-type(k)' for an element that shares its tag with a sibling, counted among at most SIBLINGS of them: past
  // those, ':nth-of-type(n+k)' (the k-th of its type or later, which still matches it), and none when no sibling of
  // its type comes within SIBLINGS after the first.
  function positionOf(element) {
    var before = 0;
    var scanned = 0;
    for (var sibling = element.previousElementSibling; sibling; sibling = sibling.previousElementSibling) {
      if (++scanned > SIBLINGS) return ':nth-of-type(n+' + (before + 1) + ')';
      if (sibling.tagName === element.tagName) before++;
    }
    if (before > 0) return ':nth-of-type(' + (before + 1) + ')';
    sibling = element.nextElementSibling;
    for (scanned = 0; sibling && scanned < SIBLINGS; sibling = sibling.nextElementSibling, scanned++) {
      if (sibling.tagName === element.tagName) return ':nth-of-type(1)';
    }
    return '';
  }

  function dataOf(element) {
    var data = {};
    var count = 0;
    for (var key in element.dataset) {
      if (count++ >= 20) break;
      if (/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(key)) data[key] = clip(element.dataset[key], 200);
    }
    return data;
  }

  // A click's path, text and page stay within the collector's limit (even as escapes of odd characters); its data-*
  // attributes may not: the last ones are left out until the event fits, rather than the collector refusing it.
  function fitted(properties) {
    var keys = Object.keys(properties.data);
    while (keys.length > 0 && bytesOf(properties) > PROPERTIES_BYTES) delete properties.data[keys.pop()];
    return properties;
  }

  // What a visitor types or picks is never sent: a field's value, nor what the innerText of an element clicked carries
  // from an editable region (a rich-text composer) it is in or holds, or from a list it holds (every option's text).
  // The text is the element's innerText when it has at most TEXT_NODES nodes and TEXT_CHARS characters, else what
  // readText saw of its first ones: no element a click hits (a whole page) has all its text read.
  function textOf(element) {
    if (/^(input|textarea|select)$/i.test(element.tagName) || element.isContentEditable) return '';
    var read = { nodes: 0, chars: 0, text: '', typed: false, whole: true };
    var style = getComputedStyle(element);
    readText(element, style.display === 'none' ? null : style, read);
    if (read.typed) return '';
    if (read.whole) return clip(element.innerText, 50);
    // The last run of digits read may go on in what was not: left out, or its start would escape the masking.
    return clip(read.text.replace(/[\d\s-]+$/, ''), 50);
  }

  function holdsTyping(element) {
    var editable = element.getAttribute('contenteditable');
    return element.tagName === 'SELECT' || (editable !== null && editable !== 'false');
  }

  // Reads the nodes inside `parent` (whose computed style is `style`, null when it is not displayed) in document order
  // until the budgets run out: whether one is a list or an editable region, and the text innerText would show of them
  // but for CSS text-transform (none of an element not displayed nor of a parent not visible; a space for a line break
  // or around a block).
  function readText(parent, style, read) {
    for (var node = parent.firstChild; node && read.whole && !read.typed; node = node.nextSibling) {
      if (++read.nodes > TEXT_NODES) {
        read.whole = false;
      } else if (node.nodeType === 3) {
        if (style && style.visibility === 'visible') read.text += node.data.slice(0, TEXT_CHARS);
        read.chars += node.length;
        read.whole = read.chars <= TEXT_CHARS;
      } else if (node.nodeType === 1 && holdsTyping(node)) {
        read.typed = true;
      } else if (node.nodeType === 1) {
        var shown = style && !/^(textarea|br)$/i.test(node.tagName) ? getComputedStyle(node) : null;
        if (shown && shown.display === 'none') shown = null;
        var block = shown ? !/^(inline|contents)/.test(shown.display) : /^br$/i.test(node.tagName);
        if (block) read.text += ' ';
        readText(node, shown, read);
        if (block) read.text += ' ';
      }
    }
  }

  var ID = /^\S{1,128}$/;

  // A placed item's attributes as the tracking plan takes them (ids of 1 to 128 characters without spaces, text of at
  // most 500), or null: an item the collector would refuse is not sent, nor made to weigh on its batch.
  function placed(element) {
    var properties = where(element, { creativeId: element.getAttribute('data-creative-id') });
    var variant = element.getAttribute('data-variant');
    if (!properties || !ID.test(properties.creativeId || '') || (variant || '').length > 500) return null;
    if (variant) properties.variant = variant;
    return properties;
  }

  // A product card's attributes (product_impression, product_click), or null as placed() says: with its creative when a
  // creative placed it, without when a shelf filled it in itself.
  function productCard(element) {
    var creativeId = element.getAttribute('data-creative-id');
    var properties = where(element, { productId: element.getAttribute('data-product-id') });
    if (!properties || !ID.test(properties.productId || '') || (creativeId && !ID.test(creativeId)))
      return null;
    if (creativeId) properties.creativeId = creativeId;
    return properties;
  }

  // The properties with where the item was placed (data-page-id, data-slot-code), or null when the plan would refuse it.
  function where(element, properties) {
    var pageId = element.getAttribute('data-page-id');
    var slotCode = element.getAttribute('data-slot-code');
    if ((pageId && !ID.test(pageId)) || (slotCode || '').length > 500) return null;
    if (pageId) properties.pageId = pageId;
    if (slotCode) properties.slotCode = slotCode;
    return properties;
  }

  // The events of a placed item or product card seen or clicked: one for each of what it is.
  function itemEvents(element, creativeEvent, productEvent) {
    var item = element.hasAttribute('data-creative-id') && placed(element);
    var card = element.hasAttribute('data-product-id') && productCard(element);
    if (item) track(creativeEvent, item);
    if (card) track(productEvent, card);
  }

  var ITEMS = '[data-creative-id],[data-product-id]';

  document.addEventListener(
    'click',
    function (event) {
      var target = event.target && event.target.nodeType === 1 ? event.target : null;
      if (!target || target.closest('[data-track-ignore]')) return;
      var element = target.closest('a,button,[role=button],' + ITEMS + ',[data-track]') || target;
      track(
        'element_click',
        fitted({
          path: cssPath(element),
          text: textOf(element),
          data: dataOf(element),
          page: pageOf(),
        }),
      );
      var item = target.closest(ITEMS);
      if (item) itemEvents(item, 'creative_click', 'product_click');
    },
    true,
  );

  var seen = new WeakSet();
  var exposures =
    'IntersectionObserver' in window &&
    new IntersectionObserver(
      function (entries) {
        entries.forEach(function (entry) {
          if (!entry.isIntersecting || entry.intersectionRatio < 0.5) return;
          exposures.unobserve(entry.target);
          if (seen.has(entry.target)) return;
          seen.add(entry.target);
          itemEvents(entry.target, 'creative_impression', 'product_impression');
        });
      },
      { threshold: [0.5] },
    );

  function watch(root) {
    if (!exposures || !root.querySelectorAll) return;
    if (root.matches && root.matches(ITEMS)) exposures.observe(root);
    root.querySelectorAll(ITEMS).forEach(function (element) {
      exposures.observe(element);
    });
  }

  // Pages render their placed items after load: watch what is added too.
  new MutationObserver(function (mutations) {
    mutations.forEach(function (mutation) {
      mutation.addedNodes.forEach(function (node) {
        if (node.nodeType === 1) watch(node);
      });
    });
  }).observe(document.documentElement, { childList: true, subtree: true });

  function start() {
    track('page_view', {
      page: pageOf(),
      title: clip(document.title, 200),
      referrer: referrerOf(document.referrer),
    });
    watch(document);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
  setInterval(flush, FLUSH_MS);
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'hidden') flush();
  });
  window.addEventListener('pagehide', flush);
})();
