// What every real-browser test shares: Chromium, logging, checks, the page's own game state,
// the result a finished game must show (on the page and in the API), return visits with a warm
// cache, and the layout a game must keep on a desktop and on a phone.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BASE = (process.env.ARCADE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const outDir = path.join(repoRoot, 'target', 'e2e');

const started = Date.now();
export const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${msg}`);

export class Failure extends Error {}
export function check(condition, message) {
  if (!condition) throw new Failure(message);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const testid = (id) => `[data-testid="${id}"]`;
export const quoted = (text) => text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

/** The viewports a game is checked on. */
export const VIEWPORTS = {
  desktop: { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 },
  phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true },
  landscape: { viewport: { width: 844, height: 390 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true },
};

export async function launch() {
  fs.mkdirSync(outDir, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A page whose console errors and uncaught exceptions fail the test (`assertNoErrors`), but for
 * console errors matching `tolerated` (failed requests a test causes on purpose).
 */
export async function openPage(context, tolerated = null) {
  const errors = [];
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    // The browser logs every failed HTTP response; a briefly busy server (503, 429) is
    // something the page retries by design, so it is noted rather than failed on.
    // The same for requests a test made fail by taking the browser offline.
    if (/^Failed to load resource: (the server responded with a status of (429|503)\b|net::ERR_INTERNET_DISCONNECTED)/.test(msg.text())) {
      log(`note: ${msg.text()}`);
      return;
    }
    if (tolerated?.test(msg.text())) {
      log(`note: ${msg.text()}`);
      return;
    }
    errors.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`uncaught exception: ${err.message}`));
  page.assertNoErrors = () => check(errors.length === 0, `the page reported errors:\n  ${errors.join('\n  ')}`);
  return page;
}

export function playerName(prefix) {
  return `${prefix} ${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`.slice(0, 24);
}

/**
 * From the game's page: type a name, press Start, see the countdown (the game's clock still
 * at 0), and wait until the game runs.
 */
export async function startGame(page, player) {
  const nameInput = page.locator(testid('player-name'));
  await nameInput.waitFor({ state: 'visible', timeout: 10_000 });
  await nameInput.fill(player);
  await page.locator(testid('start-button')).click();
  try {
    await page.locator(testid('countdown')).waitFor({ state: 'visible', timeout: 15_000 });
  } catch {
    const formError = await page.locator(testid('form-error')).innerText().catch(() => '');
    throw new Failure(`the game did not start${formError ? `: ${formError}` : ''}`);
  }
  const before = await readState(page);
  check(before && !before.running && before.tick === 0, `the game ran before its countdown ended: ${JSON.stringify(before)}`);
  await page.waitForFunction(() => {
    const state = document.querySelector('[data-testid="game-stage"]').readGameState?.();
    return state && state.running;
  }, null, { timeout: 10_000 });
}

/** The game's own snapshot (the handle's `state()`), or null before a game. */
export function readState(page) {
  return page.evaluate(() => document.querySelector('[data-testid="game-stage"]')?.readGameState?.() ?? null);
}

/**
 * After game over: the verified score on the page equals the game's own, the panel shows a
 * rank and the personal best, the page's board lists the player (when in the top 10), and the
 * API's board has the same score. Returns `{score, rank}`.
 */
export async function checkResult(page, { game, player, localScore }) {
  const details = page.locator('#result-details[data-state="verified"]');
  try {
    await details.waitFor({ state: 'visible', timeout: 60_000 });
  } catch {
    const status = await page.locator(testid('result-status')).innerText().catch(() => '');
    throw new Failure(`no verified score was shown${status ? `: ${status}` : ''}`);
  }
  const verified = page.locator(testid('verified-score'));
  const scoreText = (await verified.innerText()).trim();
  const score = Number(await verified.getAttribute('data-score'));
  check(Number.isInteger(score) && score >= 0, `the verified score is not a number: ${JSON.stringify(scoreText)}`);
  check(localScore === undefined || localScore === score, `the server verified ${score} but the game showed ${localScore}`);
  log(`verified score ${score}`);
  const focused = await page.evaluate(() => document.activeElement?.dataset?.testid);
  check(focused === 'play-again', `focus is on ${JSON.stringify(focused)} at game over, not on "Play again"`);

  const rank = (await page.locator(testid('rank')).innerText()).trim();
  const rankNumber = Number(rank.replace(/[^0-9]/g, ''));
  if (score > 0) {
    check(/^#\d+/.test(rank), `the game-over panel shows no all-time rank (got ${JSON.stringify(rank)})`);
    const best = (await page.locator(testid('personal-best')).innerText()).trim();
    check(best === scoreText, `the personal best should be ${scoreText} for a new player, got ${JSON.stringify(best)}`);
  } else {
    check(rank === '—', `a score of nothing has no rank, got ${JSON.stringify(rank)}`);
  }

  const row = page.locator(`${testid('board-all')} ${testid('leaderboard-row')}[data-player="${quoted(player)}"]`);
  if (score > 0 && rankNumber <= 10) {
    await row.waitFor({ state: 'visible', timeout: 10_000 }).catch(() => {
      throw new Failure(`the all-time top 10 on the game-over screen does not list ${player}`);
    });
    check((await row.getAttribute('data-score')) === String(score), `the board lists ${player} with ${await row.getAttribute('data-score')}, not ${score}`);
  }

  const response = await page.request.get(`${BASE}/api/games/${game}/leaderboard?period=all&limit=100`);
  check(response.ok(), `GET leaderboard answered ${response.status()}`);
  const entry = ((await response.json()).entries || []).find((e) => e.player === player);
  if (score > 0) {
    check(entry, `the API leaderboard (top 100) does not contain ${player}`);
    check(entry.score === score, `the API leaderboard has ${player} with ${entry.score}, expected ${score}`);
    log(`the API leaderboard has ${player} at rank ${entry.rank} with ${entry.score}`);
  } else {
    check(!entry, `a score of nothing took a place on the board: ${JSON.stringify(entry)}`);
  }
  return { score, rank: rankNumber };
}

/**
 * While a game runs, the page fits the window: no page scroll (nor by the wheel), the field
 * wholly inside the window, the score bar's items side by side without overlapping.
 */
export async function checkLayout(page, what) {
  const layout = await page.evaluate(() => {
    const box = (el) => {
      const r = el.getBoundingClientRect();
      return { left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height };
    };
    const items = [...document.querySelectorAll('.hud-item, .hud-buttons .icon-button')].map(box);
    let overlap = null;
    for (let i = 0; i < items.length && !overlap; i++) {
      for (let j = i + 1; j < items.length; j++) {
        const a = items[i];
        const b = items[j];
        if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5) {
          overlap = [i, j];
          break;
        }
      }
    }
    return {
      scrollable: document.scrollingElement.scrollHeight - window.innerHeight,
      viewport: { width: window.innerWidth, height: window.innerHeight },
      stage: box(document.querySelector('[data-testid="game-stage"]')),
      hud: box(document.querySelector('[data-testid="hud"]')),
      overlap,
    };
  });
  const { stage, viewport } = layout;
  check(layout.scrollable <= 1, `${what}: the page scrolls by ${layout.scrollable}px during play`);
  check(stage.top >= -0.5 && stage.left >= -0.5 && stage.bottom <= viewport.height + 0.5 && stage.right <= viewport.width + 0.5, `${what}: the field is not wholly in the window: ${JSON.stringify(layout)}`);
  check(layout.overlap === null, `${what}: items of the score bar overlap: ${JSON.stringify(layout)}`);
  await page.mouse.move(stage.left + stage.width / 2, stage.top + stage.height / 2);
  await page.mouse.wheel(0, 600);
  await sleep(150);
  const scrolled = await page.evaluate(() => window.scrollY);
  check(scrolled === 0, `${what}: the wheel scrolled the page by ${scrolled}px during play`);
  log(`${what}: the field (${Math.round(stage.width)}×${Math.round(stage.height)}) fits the window, no scroll, the score bar does not overlap itself`);
  return layout;
}

/**
 * Pages are revalidated on every visit (no-cache + ETag). The browser applies a 304's
 * headers to the page it kept, so a 304 with another security policy than the page's leaves
 * it unstyled and its scripts blocked: every way back to a page must still give a styled
 * page whose script ran and whose board shows the player.
 */
export async function checkReturnVisits(page, { game, title, player, onBoard }) {
  // The browser reports a page it revalidated with its kept status (200); the request it
  // sent carries the validator.
  const revalidated = [];
  page.on('requestfinished', async (request) => {
    if (request.resourceType() !== 'document') return;
    const headers = await request.allHeaders().catch(() => ({}));
    if (headers['if-none-match']) revalidated.push(request.url());
  });
  const card = page.locator(`${testid('game-card')}[data-game="${game}"]`);
  const assertLive = async (how, kind) => {
    await page.waitForLoadState('load');
    const look = await page.evaluate(() => ({
      styled: [...document.styleSheets].some((s) => {
        try {
          return Boolean(s.href && s.href.endsWith('/assets/css/arcade.css') && s.cssRules.length > 0);
        } catch {
          return false;
        }
      }),
      background: getComputedStyle(document.body).backgroundImage,
      title: document.title,
    }));
    check(look.styled && look.background !== 'none', `${how}: the page is not styled (${JSON.stringify(look)})`);
    if (kind === 'home') {
      // home.js builds the cards and the standing; only a running script shows them.
      await card.waitFor({ state: 'visible', timeout: 10_000 }).catch(() => {
        throw new Failure(`${how}: the home page's script did not run (no game card)`);
      });
      if (onBoard) {
        const mine = card.locator(`${testid('board-all')} ${testid('leaderboard-row')}[data-player="${quoted(player)}"]`);
        await mine.waitFor({ state: 'visible', timeout: 10_000 }).catch(() => {
          throw new Failure(`${how}: the home page's all-time board does not show ${player}`);
        });
      }
      await page.locator(testid('standing')).getByText(player).first().waitFor({ state: 'visible', timeout: 10_000 }).catch(() => {
        throw new Failure(`${how}: the home page does not show the player's standing`);
      });
    } else {
      await page.waitForFunction((t) => document.title.startsWith(t), title, { timeout: 10_000 }).catch(() => {
        throw new Failure(`${how}: the game page's script did not run (title ${JSON.stringify(look.title)})`);
      });
      check(await page.locator(testid('start-button')).isEnabled(), `${how}: the game page's Start button stays disabled`);
    }
    log(`${how}: styled, script ran`);
  };
  await page.locator(testid('leaderboard-link')).click();
  await page.waitForURL(`${BASE}/`, { timeout: 10_000 });
  await assertLive('game over -> Leaderboard (home, seen before)', 'home');
  await page.reload();
  await assertLive('home reloaded', 'home');
  await page.goBack();
  await page.waitForURL(`**/play/${game}`, { timeout: 10_000 });
  await assertLive('back to the game page', 'play');
  await page.reload();
  await assertLive('game page reloaded', 'play');
  await page.goForward();
  await page.waitForURL(`${BASE}/`, { timeout: 10_000 });
  await assertLive('forward to home', 'home');
  await card.locator(testid(`play-${game}`)).click();
  await page.waitForURL(`**/play/${game}`, { timeout: 10_000 });
  await assertLive('home -> Play (seen before)', 'play');
  check(revalidated.length >= 2, `the return visits revalidated no page (${revalidated.length} conditional requests), so they tested nothing`);
  log(`return visits: ${revalidated.length} pages revalidated (If-None-Match), each styled and running`);
}

/** Runs `main` and prints the closing line test runners read. */
export async function run(name, main) {
  try {
    await main();
    log(`PASS ${name}`);
    console.log('1 passed, 0 failed');
    process.exit(0);
  } catch (err) {
    console.error(`FAIL ${name}: ${err instanceof Failure ? err.message : err && err.stack ? err.stack : err}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

export const shot = (name) => path.join(outDir, name);
export const relative = (file) => path.relative(repoRoot, file);
