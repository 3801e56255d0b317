// Codeless capture end to end, in a real browser: the demo channel page renders M0001's home page from the headline
// query, the snippet it loads (/collect.js) records the page view, the placed items seen and the banner clicked with
// no tracking code in the page, and they are stored for that member through POST /collect; Creative.stats moves.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import type { RunningHub } from '../scripts/hub';
import { openRepositories } from '../subgraphs/analytics/src/models';
import type { EventDoc } from '../subgraphs/analytics/src/models/event';
import { launchBrowser } from './support/browser';
import { bearer, clientToken, graphql } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let browser: Browser;
let page: Page;
let token: string;
const requested: string[] = [];

/** Runs `use` in a tab of a fresh browser context (storage of its own), closed afterwards whatever happens. */
async function inNewTab(use: (tab: Page) => Promise<void>): Promise<void> {
  const context = await browser.newContext();
  try {
    await use(await context.newPage());
  } finally {
    await context.close();
  }
}

beforeAll(async () => {
  hub = await startTestHub('codeless');
  token = await clientToken('M0001', 'member');
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 420, height: 700 } });
  page.on('request', (request) => requested.push(request.url()));
});

afterAll(async () => {
  await browser?.close();
  await stopTestHub(hub);
});

async function eventsOf(memberId: string): Promise<EventDoc[]> {
  const { events } = await openRepositories(hub.connections.analytics);
  return events.model
    .find({ memberId, deviceId: { $not: /^seed-/ } })
    .lean<EventDoc[]>()
    .exec();
}

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

it('records the page view, the placed items seen and a banner clicked, for the member of the token', async () => {
  const base = hub.gatewayUrl.replace(/\/graphql$/, '');
  await page.goto(`${base}/demo/?token=${token}`);
  await page.waitForSelector('body[data-ready="true"]');
  const banner = page.locator('section[data-slot="hero"] [data-creative-id]').first();
  const creativeId = (await banner.getAttribute('data-creative-id'))!;
  const clicksBefore = await creativeClicks(creativeId);

  // Scroll through the page so that items further down are seen too, then click the banner.
  for (let y = 0; y < 3_000; y += 350) {
    await page.mouse.wheel(0, 350);
    await page.waitForTimeout(60);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  await banner.click();

  const events = await until(
    () => eventsOf('M0001'),
    (stored) => stored.some((event) => event.name === 'creative_click'),
  );
  const names = events.map((event) => event.name);
  expect(names).toContain('page_view');
  expect(names).toContain('element_click');
  const impressions = events.filter((event) => event.name === 'creative_impression');
  expect(impressions.length).toBeGreaterThanOrEqual(3);
  expect(new Set(impressions.map((event) => event.properties.creativeId)).size).toBe(impressions.length);
  const click = events.find((event) => event.name === 'creative_click');
  expect(click?.properties).toMatchObject({ creativeId, pageId: 'PG-APP-home', slotCode: 'hero' });
  // The picks shelf's product cards, those a creative placed and those the shelf filled in itself alike.
  const cards = events.filter((event) => event.name === 'product_impression');
  expect(cards.length).toBeGreaterThan(0);
  for (const card of cards)
    expect(card.properties).toMatchObject({ productId: expect.stringMatching(/^P-/), pageId: 'PG-APP-home' });
  expect(events.every((event) => event.memberId === 'M0001' && event.channel === 'WEB')).toBe(true);

  expect(
    await until(
      () => creativeClicks(creativeId),
      (clicks) => clicks > clicksBefore,
    ),
  ).toBe(clicksBefore + 1);
  // Everything the page loaded came from the hub.
  expect(requested.every((url) => url.startsWith(base))).toBe(true);
});

async function creativeClicks(creativeId: string): Promise<number> {
  const response = await graphql(
    hub.gatewayUrl,
    `
      {
        member(id: "M0001") {
          pagePreview(channel: APP, key: "home") {
            page {
              slots {
                items {
                  ... on PlacedItem {
                    creativeId
                    creative {
                      stats(days: 1) {
                        clicks
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    `,
    {},
    // Stats are for operators: M0001's page as an operator previews it.
    bearer(await clientToken('ops.codeless', 'operator')),
  );
  const items = (
    response.data?.member.pagePreview.page.slots as {
      items: { creativeId: string; creative: { stats: { clicks: number } } | null }[];
    }[]
  ).flatMap((slot) => slot.items);
  return items.find((item) => item.creativeId === creativeId)?.creative?.stats.clicks ?? 0;
}

it('sends no token and no grouped card or phone number: the demo drops ?token=, the snippet a referrer’s query', async () => {
  const base = hub.gatewayUrl.replace(/\/graphql$/, '');
  const secret = await clientToken('M0002', 'member');
  await inNewTab(async (tab) => {
    const opened = await tab.goto(`${base}/demo/?token=${secret}&page=home`, {
      referer: `https://partner.example/offers?token=${secret}#card`,
    });
    expect(opened?.headers()['referrer-policy']).toBe('strict-origin');
    await tab.waitForSelector('body[data-ready="true"]');
    // Read once, then off the address bar (and the history, and the Referer of what the page loads next).
    expect(new URL(tab.url()).search).toBe('?page=home');
    const texts = [
      '卡号 6222 0212 3456 7890',
      'Card 6222-0212-3456-7890',
      '手机 138 0013 8000',
      'Account 6222021234567890',
    ];
    await tab.evaluate((all) => {
      all.forEach((text, i) => {
        const button = document.createElement('button');
        button.id = `digits-${i}`;
        button.textContent = text;
        button.dataset.note = text;
        document.body.prepend(button);
      });
    }, texts);
    for (let i = 0; i < texts.length; i++) await tab.click(`#digits-${i}`);
    const deviceId = await tab.evaluate(
      () => (window as unknown as { hubCollect: { deviceId: string } }).hubCollect.deviceId,
    );
    // The next page of the site (here the demo without a token: it records anonymously) has this one as referrer.
    await tab.evaluate(() => (location.href = '/demo/?page=home'));
    await tab.waitForSelector('body[data-ready="error"]');
    const { events } = await openRepositories(hub.connections.analytics);
    const stored = await until(
      () => events.model.find({ deviceId }).lean<EventDoc[]>().exec(),
      (found) => found.filter((event) => event.name === 'page_view').length === 2,
    );
    const clicks = stored.filter((event) => event.name === 'element_click');
    expect(clicks.map((event) => [event.properties.text, event.properties.data]).sort()).toEqual(
      ['Account ***', 'Card ***', '卡号 ***', '手机 ***'].map((text) => [text, { note: text }]).sort(),
    );
    const views = stored.filter((event) => event.name === 'page_view');
    expect(views.map((event) => event.properties.referrer).sort()).toEqual(
      ['https://partner.example/offers', `${base}/`].sort(),
    );
    expect(JSON.stringify(stored)).not.toContain(secret.slice(0, 40));
  });
});

it('masks a card number in the page’s own address and in a clicked element’s id, as in its text', async () => {
  const base = hub.gatewayUrl.replace(/\/graphql$/, '');
  await inNewTab(async (tab) => {
    // A single-page app that puts an account in its address; the referrer of its next page is masked already.
    await tab.goto(`${base}/demo/?page=home`);
    await tab.waitForSelector('body[data-ready]');
    await tab.evaluate(() => {
      history.pushState(null, '', '/demo/cards/6222021234567890/');
      const button = document.createElement('button');
      button.id = 'card-6222-0212-3456-7890';
      button.textContent = 'Details';
      document.body.prepend(button);
    });
    await tab.click('button');
    const deviceId = await tab.evaluate(
      () => (window as unknown as { hubCollect: { deviceId: string } }).hubCollect.deviceId,
    );
    const { events } = await openRepositories(hub.connections.analytics);
    const stored = await until(
      () => events.model.find({ deviceId }).lean<EventDoc[]>().exec(),
      (found) => found.some((event) => event.name === 'element_click'),
    );
    const click = stored.find((event) => event.name === 'element_click');
    expect(click?.properties).toMatchObject({ page: '/demo/cards/***/', path: 'button#card-***' });
    expect(JSON.stringify(stored)).not.toMatch(/6222/);
  });
});

it('sends nothing a visitor typed or may pick: no text of an editable region or a list clicked in or beside', async () => {
  const base = hub.gatewayUrl.replace(/\/graphql$/, '');
  await inNewTab(async (tab) => {
    await tab.goto(`${base}/demo/?page=home`);
    await tab.waitForSelector('body[data-ready]');
    // A rich-text composer, a card to tap that holds one, and one that holds the member's accounts to pay from.
    await tab.evaluate(() => {
      const composer = document.createElement('div');
      composer.id = 'composer';
      composer.contentEditable = 'true';
      composer.innerHTML = '<p id="typed">my passcode is hunter two</p>';
      const card = document.createElement('div');
      card.id = 'card';
      card.dataset.track = 'message';
      card.innerHTML =
        '<b id="card-title">Message</b><div contenteditable="true">send it to zhang.san@example.com</div>';
      const payFrom = document.createElement('div');
      payFrom.id = 'pay-from';
      payFrom.dataset.track = 'pay-from';
      payFrom.innerHTML =
        '<b id="pay-from-title">Pay from</b><select><option>Savings</option><option>Wealth, Zhang San</option></select>';
      document.body.prepend(composer, card, payFrom);
    });
    for (const title of ['#typed', '#card-title', '#pay-from-title']) await tab.click(title);
    const deviceId = await tab.evaluate(
      () => (window as unknown as { hubCollect: { deviceId: string } }).hubCollect.deviceId,
    );
    const { events } = await openRepositories(hub.connections.analytics);
    const stored = await until(
      () => events.model.find({ deviceId }).lean<EventDoc[]>().exec(),
      (found) => found.filter((event) => event.name === 'element_click').length === 3,
    );
    const clicks = stored.filter((event) => event.name === 'element_click');
    expect(clicks.map((event) => event.properties.path).sort()).toEqual([
      'div#card',
      'div#pay-from',
      'p#typed',
    ]);
    expect(clicks.map((event) => event.properties.text)).toEqual(['', '', '']);
    expect(JSON.stringify(stored)).not.toMatch(/hunter|zhang/i);
  });
});

it('sends what a page on a channel’s own host records, token and all, to the hub that served the snippet', async () => {
  const base = hub.gatewayUrl.replace(/\/graphql$/, '');
  // A channel's page on a host of its own (another port of this machine: another origin) that loads the hub's snippet.
  const postedToChannel: string[] = [];
  const channel = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(
        `<!doctype html><title>Offers</title><link rel="icon" href="data:,"><button id="buy">Buy</button>` +
          `<script src="${base}/collect.js" data-channel="WEB"></script>`,
      );
      return;
    }
    postedToChannel.push(`${req.method} ${req.url}`);
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((resolve) => channel.listen(0, '127.0.0.1', resolve));
  try {
    await inNewTab(async (tab) => {
      await tab.goto(`http://127.0.0.1:${(channel.address() as AddressInfo).port}/`);
      const deviceId = await tab.evaluate((value) => {
        const collect = (window as unknown as { hubCollect: { token: string; deviceId: string } }).hubCollect;
        collect.token = value;
        return collect.deviceId;
      }, token);
      await tab.click('#buy');
      await tab.evaluate(() => (window as unknown as { hubCollect: { flush(): void } }).hubCollect.flush());
      const { events } = await openRepositories(hub.connections.analytics);
      const stored = await until(
        () => events.model.find({ deviceId }).lean<EventDoc[]>().exec(),
        (found) => found.some((event) => event.name === 'element_click'),
      );
      expect(stored.find((event) => event.name === 'element_click')).toMatchObject({
        memberId: 'M0001',
        properties: { text: 'Buy' },
      });
      // The channel's host is sent nothing: not the events, not the member's token.
      expect(postedToChannel).toEqual([]);
    });
  } finally {
    await new Promise((resolve) => channel.close(resolve));
  }
});

describe('the demo page, when the answer is not a page', () => {
  it.each([
    [
      'a GraphQL error without extensions',
      'application/json',
      '{"errors":[{"message":"upstream refused"}]}',
      'upstream refused',
    ],
    [
      'a page from a proxy',
      'text/html',
      '<html><body>Bad gateway</body></html>',
      'the hub answered HTTP 502, not GraphQL',
    ],
    ['an answer with neither data nor errors', 'application/json', '{}', 'no page for this token'],
  ])('says so for %s', async (_what, contentType, body, said) => {
    const base = hub.gatewayUrl.replace(/\/graphql$/, '');
    await inNewTab(async (tab) => {
      // What a proxy or an older server in front of the hub might answer.
      await tab.route('**/graphql', (route) => route.fulfill({ status: 502, contentType, body }));
      await tab.goto(`${base}/demo/?token=${token}`);
      await tab.waitForSelector('body[data-ready="error"]');
      await expect(tab.locator('#status').textContent()).resolves.toBe(said);
    });
  });

  it("says the hub's code and message for a token it refuses", async () => {
    const base = hub.gatewayUrl.replace(/\/graphql$/, '');
    await inNewTab(async (tab) => {
      await tab.goto(`${base}/demo/?token=not-a-token`);
      await tab.waitForSelector('body[data-ready="error"]');
      await expect(tab.locator('#status').textContent()).resolves.toMatch(/^UNAUTHENTICATED: /);
    });
  });
});

/** The page's events stored for the device the snippet in `tab` uses, once `done` says they are all there. */
async function storedFrom(tab: Page, done: (stored: EventDoc[]) => boolean): Promise<EventDoc[]> {
  await tab.evaluate(() => (window as unknown as { hubCollect: { flush(): void } }).hubCollect.flush());
  const deviceId = await tab.evaluate(
    () => (window as unknown as { hubCollect: { deviceId: string } }).hubCollect.deviceId,
  );
  const { events } = await openRepositories(hub.connections.analytics);
  return until(() => events.model.find({ deviceId }).lean<EventDoc[]>().exec(), done);
}

describe('a hostile page', () => {
  it("records a click on an element whose data-* attributes would take its event past the collector's 4 KB", async () => {
    const base = hub.gatewayUrl.replace(/\/graphql$/, '');
    await inNewTab(async (tab) => {
      await tab.goto(`${base}/demo/?page=home`);
      await tab.waitForSelector('body[data-ready]');
      await tab.evaluate(() => {
        const button = document.createElement('button');
        button.id = 'attributes';
        button.textContent = 'Open';
        for (let i = 0; i < 20; i++) button.dataset[`k${i}`] = 'x'.repeat(300);
        document.body.prepend(button);
      });
      await tab.click('#attributes');
      const stored = await storedFrom(tab, (found) => found.some((event) => event.name === 'element_click'));
      const click = stored.find((event) => event.name === 'element_click');
      expect(click?.properties).toMatchObject({ path: 'button#attributes', text: 'Open' });
      expect(Buffer.byteLength(JSON.stringify(click?.properties))).toBeLessThanOrEqual(4_096);
      expect(Object.keys(click?.properties.data as object).length).toBeGreaterThan(0);
    });
  });

  it('sends every click of a burst of large ones, and nothing of a placed item whose id no event may carry', async () => {
    const base = hub.gatewayUrl.replace(/\/graphql$/, '');
    await inNewTab(async (tab) => {
      const errors: string[] = [];
      tab.on('pageerror', (error) => errors.push(error.message));
      tab.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      await tab.goto(`${base}/demo/?page=home`);
      await tab.waitForSelector('body[data-ready]');
      // 60 buttons whose clicks take some 1.6 KB each (long ids, Chinese text and data-*): more in one batch of 50
      // than a beacon may carry; and a placed item with a 100,000-character id.
      await tab.evaluate(() => {
        for (let i = 0; i < 60; i++) {
          const button = document.createElement('button');
          button.id = `wide-${i}-${'w'.repeat(150)}`;
          button.textContent = '字'.repeat(60);
          button.dataset.a = '中'.repeat(200);
          button.dataset.b = '文'.repeat(200);
          document.body.prepend(button);
        }
        const item = document.createElement('div');
        item.dataset.creativeId = `CR-${'z'.repeat(100_000)}`;
        item.textContent = 'odd';
        document.body.prepend(item);
        document
          .querySelectorAll<HTMLButtonElement>('button[id^="wide-"]')
          .forEach((button) => button.click());
      });
      const stored = await storedFrom(
        tab,
        (found) => found.filter((event) => event.name === 'element_click').length >= 60,
      );
      expect(stored.filter((event) => event.name === 'element_click')).toHaveLength(60);
      expect(stored.some((event) => String(event.properties.creativeId).startsWith('CR-zzz'))).toBe(false);
      expect(errors).toEqual([]);
    });
  });

  it('sends at most 600 events a minute from a page, what the collector takes from a device', async () => {
    const base = hub.gatewayUrl.replace(/\/graphql$/, '');
    await inNewTab(async (tab) => {
      await tab.clock.install();
      // The names of the events in every beacon the page sends (none of them reaches the hub).
      await tab.addInitScript(() => {
        const beacons: Promise<string>[] = [];
        (window as unknown as { beacons: Promise<string>[] }).beacons = beacons;
        navigator.sendBeacon = (_url, data) => {
          beacons.push(new Response(data).text());
          return true;
        };
      });
      const sent = () =>
        tab.evaluate(async () => {
          const page = window as unknown as { beacons: Promise<string>[]; hubCollect: { flush(): void } };
          page.hubCollect.flush();
          const bodies = await Promise.all(page.beacons);
          return bodies.flatMap((body) =>
            (JSON.parse(body) as { events: { name: string }[] }).events.map((event) => event.name),
          );
        });
      await tab.goto(`${base}/demo/?page=home`);
      await tab.waitForSelector('body[data-ready]');
      // An auto-clicker.
      await tab.evaluate(() => {
        for (let i = 0; i < 700; i++) document.getElementById('status')!.click();
      });
      expect(await sent()).toHaveLength(600);
      await tab.clock.fastForward('01:00');
      await tab.evaluate(() => document.getElementById('status')!.click());
      const after = await sent();
      expect(after).toHaveLength(601);
      expect(after.at(-1)).toBe('element_click');
    });
  });
});

describe('a large page', () => {
  /** The snippet's time over a click on what `selector` finds, by the page's own clock: the median of five clicks. */
  async function clickTime(tab: Page, selector: string): Promise<number> {
    return tab.evaluate((selector) => {
      const element = document.querySelector(selector)!;
      // Laying out the page is the page's own work, not the snippet's: done before the clock starts.
      void document.body.offsetHeight;
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const start = performance.now();
        element.dispatchEvent(new MouseEvent('click', { bubbles: true }));
        times.push(performance.now() - start);
      }
      return times.sort((a, b) => a - b)[2]!;
    }, selector);
  }

  /** The clicks stored for the device the snippet in `tab` uses, once there are `count`. */
  async function clicksFrom(tab: Page, count: number): Promise<EventDoc[]> {
    const clicks = (stored: EventDoc[]) => stored.filter((event) => event.name === 'element_click');
    return clicks(await storedFrom(tab, (found) => clicks(found).length >= count));
  }

  it('takes the snippet a few milliseconds over a click on a page of 100,000 paragraphs, and records its visible text', async () => {
    const base = hub.gatewayUrl.replace(/\/graphql$/, '');
    await inNewTab(async (tab) => {
      await tab.goto(`${base}/demo/?page=home`);
      await tab.waitForSelector('body[data-ready]');
      const shown = await tab.evaluate(() => {
        document.body.innerHTML =
          '<p hidden>hidden note</p><div id="invisible">not shown</div>' +
          '<h2>Statement <b>for</b> <span id="undisplayed">secret</span>May</h2>' +
          Array.from({ length: 100_000 }, (_, i) => `<p>Line ${i}</p>`).join('');
        // Through the CSSOM: the hub's Content-Security-Policy ignores style attributes.
        document.getElementById('invisible')!.style.visibility = 'hidden';
        document.getElementById('undisplayed')!.style.display = 'none';
        return document.body.innerText.replace(/\s+/g, ' ').trim().slice(0, 50);
      });
      expect(shown).toBe('Statement for May Line 0 Line 1 Line 2 Line 3 Line');
      expect(await clickTime(tab, 'body')).toBeLessThan(5);
      const clicks = await clicksFrom(tab, 5);
      expect(clicks.map((event) => event.properties.text)).toEqual(Array(5).fill(shown));
    });
  });

  it('sends no text of a large element clicked that holds a list or an editable region', async () => {
    const base = hub.gatewayUrl.replace(/\/graphql$/, '');
    await inNewTab(async (tab) => {
      await tab.goto(`${base}/demo/?page=home`);
      await tab.waitForSelector('body[data-ready]');
      // Longer than the snippet reads whole: what it reads of them is what decides.
      await tab.evaluate(() => {
        const lines = Array.from({ length: 2_000 }, (_, i) => `<p>Line ${i}</p>`).join('');
        document.body.innerHTML =
          `<div id="pay-from"><b>Pay from</b><select><option>Wealth, Zhang San</option></select>${lines}</div>` +
          `<div id="message"><b>Message</b><div contenteditable="true">my passcode is hunter two</div>${lines}</div>`;
        for (const id of ['pay-from', 'message']) document.getElementById(id)!.click();
      });
      const clicks = await clicksFrom(tab, 2);
      expect(clicks.map((event) => [event.properties.path, event.properties.text]).sort()).toEqual([
        ['div#message', ''],
        ['div#pay-from', ''],
      ]);
    });
  });

  it('takes the snippet a few milliseconds over a click in a list of 100,000, and records where it is', async () => {
    const base = hub.gatewayUrl.replace(/\/graphql$/, '');
    await inNewTab(async (tab) => {
      await tab.goto(`${base}/demo/?page=home`);
      await tab.waitForSelector('body[data-ready]');
      await tab.evaluate(() => {
        const list = document.createElement('ul');
        list.id = 'long';
        list.innerHTML = Array.from({ length: 100_000 }, (_, i) => `<li>Item ${i}</li>`).join('');
        document.body.prepend(list);
      });
      expect(await clickTime(tab, '#long > li:last-child')).toBeLessThan(5);
      await tab.click('#long > li:nth-child(7)');
      const clicks = await clicksFrom(tab, 6);
      // Far down the list it is the 1,001st item or later: a selector that still matches it.
      expect(clicks.map((event) => event.properties.path).sort()).toEqual([
        'ul#long>li:nth-of-type(7)',
        ...Array(5).fill('ul#long>li:nth-of-type(n+1001)'),
      ]);
      expect(clicks.map((event) => event.properties.text)).toContain('Item 6');
    });
  });
});
