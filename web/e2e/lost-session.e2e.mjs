// End-to-end test: a game outlives the server's memory. A real Chromium plays Egg Catcher; the
// server (a lone one, its sessions in its memory) is killed mid-game and started again on the
// same data; the page, told its session was lost, sends its ticket and every input again, plays
// on through windows revealed after the restart, and its score is verified and saved.
//
//   ARCADE_URL=http://127.0.0.1:8080 ARCADE_SERVER_PIDFILE=/path/server.pid \
//     node web/e2e/lost-session.e2e.mjs
//
// .ci/e2e.sh gives both and starts the server again when it dies.

import fs from 'node:fs';

import { BASE, Failure, VIEWPORTS, check, checkResult, launch, log, openPage, playerName, readState, run, sleep, startGame, testid } from './lib.mjs';

const GAME = 'egg-catcher';
const PIDFILE = process.env.ARCADE_SERVER_PIDFILE;

async function serverUp() {
  try {
    return (await fetch(`${BASE}/health/live`)).ok;
  } catch {
    return false;
  }
}

/** Kill the server at once and wait until its successor answers. */
async function restartServer() {
  const pid = Number(fs.readFileSync(PIDFILE, 'utf8').trim());
  check(Number.isInteger(pid) && pid > 0, `no server pid in ${PIDFILE}`);
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && (await serverUp()); i++) await sleep(50);
  for (let i = 0; i < 300; i++) {
    if (await serverUp()) {
      const next = Number(fs.readFileSync(PIDFILE, 'utf8').trim());
      check(next !== pid, 'the server answering is the one killed');
      return;
    }
    await sleep(100);
  }
  throw new Failure('the server did not come back within 30 s');
}

/**
 * Plays (under the lowest egg while `catching`, else standing aside) until `done(state)` or the
 * game-over panel shows; returns the last state read.
 */
async function playUntil(page, done, catching, timeoutMs) {
  const stage = page.locator(testid('game-stage'));
  const overlay = page.locator(testid('pause-overlay'));
  const gameOver = page.locator(testid('game-over'));
  const startedAt = Date.now();
  let last = null;
  while (!(await gameOver.isVisible())) {
    check(Date.now() - startedAt < timeoutMs, `not done within ${timeoutMs / 1000} s: ${JSON.stringify(last && { tick: last.tick, score: last.score })}`);
    if (await overlay.isVisible()) {
      await overlay.click();
      continue;
    }
    const box = await stage.boundingBox();
    const state = await readState(page);
    if (!box || !state) {
      await sleep(100);
      continue;
    }
    last = state;
    if (done(state)) return state;
    const width = state.world.width;
    let lowest = null;
    for (const egg of state.eggs) if (!lowest || egg.y > lowest.y) lowest = egg;
    let target = width / 2;
    if (lowest) target = catching ? lowest.x : lowest.x < width / 2 ? width : 0;
    await page.mouse.move(box.x + Math.max(0, Math.min(1, target / width)) * box.width, box.y + box.height * 0.7, { steps: 2 });
    await sleep(30);
  }
  return last;
}

async function main() {
  if (!PIDFILE) throw new Failure('ARCADE_SERVER_PIDFILE is not set: run this through .ci/e2e.sh');
  const browser = await launch();
  try {
    const context = await browser.newContext(VIEWPORTS.desktop);
    // A server killed and started again fails requests meanwhile; the lost session is a 409.
    const page = await openPage(
      context,
      /^Failed to load resource: (the server responded with a status of 409\b|net::ERR_(CONNECTION_REFUSED|CONNECTION_RESET|EMPTY_RESPONSE))/,
    );
    const lost = [];
    page.on('response', async (r) => {
      if (r.status() === 409 && /\/api\/sessions\/[^/]+\/(heartbeat|finish)$/.test(r.url())) {
        const body = await r.json().catch(() => ({}));
        lost.push(body.type);
      }
    });
    await page.goto(`${BASE}/play/${GAME}`, { waitUntil: 'load' });
    const player = playerName('lost');
    await startGame(page, player);
    // Play into the second window, so the server holds inputs and revealed a window.
    const before = await playUntil(page, (s) => s.tick > 700, true, 30_000);
    check(before && !before.gameOver, 'the game ended before the restart');
    log(`playing at tick ${before.tick}, score ${before.score}; killing the server`);
    await restartServer();
    log('the server is back, without the session');
    // Two windows further: only a session put back on the restarted server reveals them.
    const target = (Math.floor(before.tick / 600) + 3) * 600;
    const after = await playUntil(page, (s) => s.tick > target, true, 60_000);
    check(after && after.tick > target, `the game did not play on past tick ${target} after the restart`);
    check(lost.includes('session_lost'), `the server never said the session was lost: ${JSON.stringify(lost)}`);
    check(lost.every((type) => type === 'session_lost'), `conflicts other than the lost session: ${JSON.stringify(lost)}`);
    log(`the page was told session_lost and played on to tick ${after.tick}`);
    // Let the eggs drop until the game is over; the score must be verified and saved.
    const final = await playUntil(page, (s) => s.gameOver, false, 180_000);
    await page.locator(testid('game-over')).waitFor({ state: 'visible', timeout: 30_000 });
    const result = await checkResult(page, { game: GAME, player, localScore: final?.score });
    log(`verified score ${result.score} after the restart`);
    page.assertNoErrors();
  } finally {
    await browser.close();
  }
}

run('a game outlives a restart of the server', main);
