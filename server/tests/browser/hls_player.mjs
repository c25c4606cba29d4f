// Plays weir's HLS player page in headless Chromium and reports whether the stream played.
//
// Usage: node hls_player.mjs PAGE_URL SCREENSHOT.png [MIN_PLAYED_SECONDS=5] [TIMEOUT_SECONDS=60]
//
// Chromium is the Debian package (/usr/bin/chromium, or $CHROMIUM), driven by playwright-core
// (pinned in package-lock.json; it downloads no browser). Playwright starts it with a fresh
// temporary profile (--user-data-dir) over a pipe (no debugging port); the extra switches keep it
// quiet and on loopback: no background networking, no component updates, no sync, no QUIC, and a
// host resolver that resolves nothing but 127.0.0.1 (the page is served by weir on 127.0.0.1).
//
// The page exposes `window.hls` (the Hls instance) and `window.hlsErrors` (fatal hls.js errors).
// The script waits until the <video> element has *played* MIN_PLAYED_SECONDS: the sum of the
// forward steps of `currentTime` between polls (250 ms apart) that look like playback (0..1.5 s;
// larger jumps are hls.js seeking to the live edge and do not count). Any fatal hls.js error
// fails at once. Then it samples the decoded picture (canvas) to prove it is not blank, saves a
// screenshot, and prints one line `RESULT {json}`; exit status 0 when it played, 1 otherwise,
// 2 when the browser could not be started.

import { chromium } from 'playwright-core';

const [url, screenshot, minPlayedArg, timeoutArg] = process.argv.slice(2);
if (!url || !screenshot) {
  console.error('usage: node hls_player.mjs PAGE_URL SCREENSHOT.png [MIN_PLAYED_SECONDS] [TIMEOUT_SECONDS]');
  process.exit(2);
}
const minPlayed = Number(minPlayedArg ?? 5);
const timeoutMs = Number(timeoutArg ?? 60) * 1000;
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const started = Date.now();
const elapsed = () => ((Date.now() - started) / 1000).toFixed(2);
const log = (...a) => console.log(`[player +${elapsed()}s]`, ...a);

const result = {
  ok: false,
  reason: '',
  played: 0,
  firstTime: null,
  lastTime: null,
  videoWidth: 0,
  videoHeight: 0,
  fatalErrors: [],
  nonFatalErrors: [],
  httpErrors: [],
  picture: null,
  screenshot,
  chromium: '',
};

function finish(code) {
  console.log('RESULT ' + JSON.stringify(result));
  process.exit(code);
}

let browser;
try {
  browser = await chromium.launch({
    executablePath,
    headless: true,
    chromiumSandbox: false,
    timeout: 30000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-default-apps',
      '--disable-domain-reliability',
      '--metrics-recording-only',
      '--autoplay-policy=no-user-gesture-required',
      '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
    ],
  });
} catch (e) {
  result.reason = `cannot start ${executablePath}: ${e.message}`;
  finish(2);
}

// A hard stop, whatever happens below.
const watchdog = setTimeout(async () => {
  result.reason ||= `timed out after ${timeoutMs / 1000} s`;
  try { await browser.close(); } catch {}
  finish(1);
}, timeoutMs + 15000);

try {
  result.chromium = browser.version();
  log(`chromium ${result.chromium}, opening ${url}`);
  const page = await browser.newPage({ viewport: { width: 640, height: 480 } });
  page.on('console', (m) => log(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    const f = r.failure();
    // hls.js aborts preload-hinted part requests it no longer needs: not an error.
    if (f && !/ERR_ABORTED/.test(f.errorText)) {
      result.httpErrors.push(`${r.url()}: ${f.errorText}`);
    }
  });
  page.on('response', (r) => {
    if (r.status() >= 400) result.httpErrors.push(`${r.url()}: HTTP ${r.status()}`);
  });
  const resp = await page.goto(url, { waitUntil: 'load', timeout: 20000 });
  if (!resp || resp.status() !== 200) {
    throw new Error(`the player page answered ${resp ? resp.status() : 'nothing'}`);
  }
  const hasHls = await page
    .waitForFunction(() => typeof window.Hls === 'function' && !!window.hls, null, { timeout: 10000 })
    .then(() => true, () => false);
  if (!hasHls) {
    const info = await page.evaluate(() => ({
      Hls: typeof window.Hls,
      hls: typeof window.hls,
      note: document.getElementById('note')?.textContent ?? null,
    }));
    throw new Error(
      `the page has no hls.js instance (window.Hls: ${info.Hls}, window.hls: ${info.hls}` +
        (info.note ? `, page says: ${info.note}` : '') +
        '): was weir built without hls.js (npm ci at the repository root)?',
    );
  }
  // Non-fatal errors too, for the report (fatal ones are in window.hlsErrors).
  await page.evaluate(() => {
    window.__nonFatal = [];
    window.hls.on(window.Hls.Events.ERROR, (_e, d) => {
      if (!d.fatal) window.__nonFatal.push(`${d.type}: ${d.details}`);
    });
  });

  const deadline = started + timeoutMs;
  let prev = null;
  let lastLog = 0;
  while (true) {
    const s = await page.evaluate(() => {
      const v = document.querySelector('video');
      return {
        t: v.currentTime,
        paused: v.paused,
        readyState: v.readyState,
        w: v.videoWidth,
        h: v.videoHeight,
        fatal: (window.hlsErrors || []).slice(),
        nonFatal: (window.__nonFatal || []).slice(),
        mediaError: v.error ? `${v.error.code}: ${v.error.message}` : null,
      };
    });
    result.fatalErrors = s.fatal;
    result.nonFatalErrors = s.nonFatal;
    result.videoWidth = s.w;
    result.videoHeight = s.h;
    if (s.t > 0 && result.firstTime === null) result.firstTime = s.t;
    result.lastTime = s.t;
    if (prev !== null) {
      const step = s.t - prev;
      if (step > 0 && step < 1.5) result.played += step;
    }
    prev = s.t;
    if (Date.now() - lastLog > 1000) {
      lastLog = Date.now();
      log(
        `currentTime=${s.t.toFixed(3)} played=${result.played.toFixed(3)} readyState=${s.readyState} ` +
          `paused=${s.paused} size=${s.w}x${s.h} fatal=${s.fatal.length} nonFatal=${s.nonFatal.length}`,
      );
    }
    if (s.fatal.length > 0) throw new Error(`fatal hls.js error(s): ${s.fatal.join('; ')}`);
    if (s.mediaError) throw new Error(`the <video> element failed: ${s.mediaError}`);
    if (result.played >= minPlayed) break;
    if (Date.now() > deadline) {
      throw new Error(`the video played ${result.played.toFixed(2)} s of the ${minPlayed} s required`);
    }
    await page.waitForTimeout(250);
  }

  // The decoded picture: luma mean and standard deviation over a 64x48 sample.
  result.picture = await page.evaluate(() => {
    const v = document.querySelector('video');
    const c = document.createElement('canvas');
    c.width = 64;
    c.height = 48;
    const ctx = c.getContext('2d');
    ctx.drawImage(v, 0, 0, c.width, c.height);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let sum = 0;
    let sq = 0;
    const n = d.length / 4;
    for (let i = 0; i < d.length; i += 4) {
      const y = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
      sum += y;
      sq += y * y;
    }
    const mean = sum / n;
    return { mean, stddev: Math.sqrt(Math.max(0, sq / n - mean * mean)) };
  });
  await page.screenshot({ path: screenshot });
  log(`played ${result.played.toFixed(2)} s; picture ${JSON.stringify(result.picture)}; screenshot ${screenshot}`);
  result.ok = true;
} catch (e) {
  result.reason = e.message;
  log(`FAILED: ${e.message}`);
}
clearTimeout(watchdog);
try { await browser.close(); } catch {}
finish(result.ok ? 0 : 1);
