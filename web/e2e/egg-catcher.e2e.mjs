// End-to-end test: a real Chromium plays Egg Catcher against a running Arcade server on a
// desktop window, checks that the verified score reaches the page and the API, comes back to
// the pages with a warm cache, that a game whose heartbeats fail waits at the end of its
// window of randomness and goes on when they are back, and checks the game's layout, restart
// and quit on a phone held upright and sideways.
//
//   ARCADE_URL=http://127.0.0.1:8080 node web/e2e/egg-catcher.e2e.mjs
//
// Optional: CHROMIUM_PATH (default /usr/bin/chromium), E2E_TIMEOUT_MS (game length limit,
// default 120000).

import {
  BASE,
  Failure,
  VIEWPORTS,
  check,
  checkLayout,
  checkResult,
  checkReturnVisits,
  launch,
  log,
  openPage,
  playerName,
  readState,
  relative,
  run,
  shot,
  sleep,
  startGame,
  testid,
} from './lib.mjs';

const GAME = 'egg-catcher';
const GAME_TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_MS || 120_000);
const CATCH_PHASE_MS = 40_000; // play well this long (or until the score is high enough), then let eggs drop
const CATCH_PHASE_SCORE = 120;

async function desktop(browser) {
  const context = await browser.newContext(VIEWPORTS.desktop);
  const page = await openPage(context);

  // ---- Home page ---------------------------------------------------------
  log(`opening ${BASE}/`);
  const home = await page.goto(`${BASE}/`, { waitUntil: 'load' });
  check(home && home.ok(), `GET / answered ${home ? home.status() : 'nothing'}`);
  const card = page.locator(`${testid('game-card')}[data-game="${GAME}"]`);
  await card.waitFor({ state: 'visible', timeout: 10_000 });
  const cardText = await card.innerText();
  check(/Egg Catcher/.test(cardText), `the game card does not show the title "Egg Catcher": ${JSON.stringify(cardText.slice(0, 200))}`);
  check((await card.locator(testid('board-all')).count()) === 1, 'the game card has no all-time board');
  check((await card.locator(testid('board-day')).count()) === 1, 'the game card has no today board');
  const art = await card.locator('img.game-art').evaluate((img) => img.complete && img.naturalWidth > 0);
  check(art, "the game card's picture did not load");
  log('home page shows the Egg Catcher card with its picture and both boards');
  // Yesterday's and last week's winners are read from the finished boards (a fresh arcade has
  // none): each line settles on a name or on "nobody played", never on an error.
  const winners = card.locator(testid('winners'));
  for (const period of ['day', 'week']) {
    const line = winners.locator(testid(`winner-${period}`));
    await page.waitForFunction(
      (el) => el && !el.textContent.includes('…'),
      await line.elementHandle(),
      { timeout: 10_000 },
    );
    const text = await line.innerText();
    check(/winner:/.test(text) && !text.includes('—'), `the ${period} winner line shows ${JSON.stringify(text)}`);
  }
  log('home page shows yesterday\'s and last week\'s winners');
  page.assertNoErrors();

  // ---- Game page ---------------------------------------------------------
  await card.locator(testid(`play-${GAME}`)).click();
  await page.waitForURL(`**/play/${GAME}`, { timeout: 10_000 });
  // The shell fills "How to play" once the game's module has loaded: wait for it.
  await page
    .locator(testid('how-to'))
    .filter({ hasText: /\S/ })
    .waitFor({ state: 'visible', timeout: 10_000 })
    .catch(() => {});
  const howTo = await page.locator(testid('how-to')).innerText();
  check(/basket/.test(howTo) && /Pause/.test(howTo), `"How to play" misses the game's or the shell's lines: ${JSON.stringify(howTo)}`);
  const player = playerName('e2e');
  await startGame(page, player);
  log(`started a game as "${player}" after a countdown`);
  check(await page.locator(testid('hud-best')).isVisible(), 'the score bar shows no best');
  await checkLayout(page, 'desktop 1280×800');

  // Keyboard: holding an arrow key moves the basket.
  const x0 = (await readState(page)).basketX;
  await page.keyboard.down('ArrowLeft');
  await sleep(500);
  await page.keyboard.up('ArrowLeft');
  const x1 = (await readState(page)).basketX;
  await page.keyboard.down('ArrowRight');
  await sleep(500);
  await page.keyboard.up('ArrowRight');
  const x2 = (await readState(page)).basketX;
  check(x1 < x0 && x2 > x1, `arrow keys did not move the basket (x: ${x0} -> ${x1} after Left -> ${x2} after Right)`);
  log(`arrow keys move the basket (${x0} -> ${x1} -> ${x2})`);

  // ---- Play --------------------------------------------------------------
  const gameOverPanel = page.locator(testid('game-over'));
  const stage = page.locator(testid('game-stage'));
  const playStart = Date.now();
  let midShot = false;
  let lastLogged = -1;
  let pausesSeen = 0;
  let finalLocal = null;
  while (true) {
    if (await gameOverPanel.isVisible()) break;
    check(Date.now() - playStart < GAME_TIMEOUT_MS, `the game did not end within ${GAME_TIMEOUT_MS / 1000} s`);
    page.assertNoErrors();

    const overlay = page.locator(testid('pause-overlay'));
    if (await overlay.isVisible()) {
      pausesSeen++;
      await overlay.click();
      continue;
    }
    const box = await stage.boundingBox();
    const state = await readState(page);
    if (!box || !state) {
      await sleep(100);
      continue;
    }
    const worldWidth = state.world.width;
    if (state.gameOver) finalLocal = state;
    let lowest = null;
    for (const egg of state.eggs) if (!lowest || egg.y > lowest.y) lowest = egg;
    const catching = Date.now() - playStart < CATCH_PHASE_MS && state.score < CATCH_PHASE_SCORE;
    let target;
    if (!lowest) target = worldWidth / 2;
    else if (catching) target = lowest.x;
    else target = lowest.x < worldWidth / 2 ? worldWidth : 0; // stand aside: let it fall
    if (state.score !== lastLogged && state.score % 50 === 0) {
      lastLogged = state.score;
      log(`playing: tick ${state.tick}, score ${state.score}, lives ${state.lives}, level ${state.level}`);
    }
    const clientX = box.x + Math.max(0, Math.min(1, target / worldWidth)) * box.width;
    await page.mouse.move(clientX, box.y + box.height * 0.7, { steps: 2 });

    if (!midShot && ((state.score >= 110 && state.eggs.length > 1) || Date.now() - playStart > 35_000)) {
      midShot = true;
      await page.screenshot({ path: shot('egg-catcher-mid-game.png') });
      log(`saved ${relative(shot('egg-catcher-mid-game.png'))}`);
    }
    await sleep(30);
  }
  if (pausesSeen) log(`resumed from pause ${pausesSeen} time(s)`);
  // Until the server answers, the panel shows the game's own score as being verified.
  const label = await page.locator(testid('score-label')).innerText();
  const pendingSeen = /being verified/i.test(label);
  log(pendingSeen ? `game over: "${label}" shown while the server verifies` : 'game over: the server answered before the panel showed');

  // ---- Result ------------------------------------------------------------
  const local = finalLocal || (await readState(page));
  const { score, rank } = await checkResult(page, { game: GAME, player, localScore: local ? local.score : undefined });
  await page.screenshot({ path: shot('egg-catcher-game-over.png'), fullPage: true });
  log(`saved ${relative(shot('egg-catcher-game-over.png'))}`);
  if (!midShot) log('note: no mid-game screenshot was taken (the game ended too quickly)');

  // ---- Return visits with a warm cache ------------------------------------
  await checkReturnVisits(page, { game: GAME, title: 'Egg Catcher', player, onBoard: score > 0 && rank <= 10 });

  // ---- The next game shows the best so far ----------------------------------
  check((await page.locator(testid('player-name')).inputValue()) === player, 'the game page does not remember the player');
  await page.locator(testid('start-button')).click();
  const best = page.locator(testid('hud-best'));
  await page.waitForFunction(
    (expected) => document.querySelector('[data-testid="hud-best"]')?.textContent === expected,
    score.toLocaleString('en-US'),
    { timeout: 10_000 },
  ).catch(async () => {
    throw new Failure(`the score bar's best is ${JSON.stringify(await best.textContent())}, not ${score}`);
  });
  log(`the next game's score bar shows the best so far (${score})`);
  await page.locator(testid('quit-button')).click();
  await page.locator(testid('setup')).waitFor({ state: 'visible', timeout: 5_000 });
  page.assertNoErrors();
  await context.close();
}

/**
 * Offline at game over: the game's own score is shown as being verified, the boards wait for
 * the connection, and once the browser is back online the score is verified without a click.
 */
async function offline(browser) {
  const context = await browser.newContext(VIEWPORTS.desktop);
  const page = await openPage(context);
  await page.goto(`${BASE}/play/${GAME}`, { waitUntil: 'load' });
  const player = playerName('e2e-off');
  await startGame(page, player);
  await context.setOffline(true);
  log('offline: the connection is gone; standing aside so the eggs fall');
  const stage = page.locator(testid('game-stage'));
  const gameOver = page.locator(testid('game-over'));
  const started = Date.now();
  let local = null;
  let told = false;
  while (!(await gameOver.isVisible())) {
    check(Date.now() - started < GAME_TIMEOUT_MS, 'the game did not end');
    told ||= /connection/i.test((await page.locator(testid('net-status')).textContent()) || '');
    const state = await readState(page);
    const box = await stage.boundingBox();
    if (state && box) {
      if (state.gameOver) local = state;
      let lowest = null;
      for (const egg of state.eggs) if (!lowest || egg.y > lowest.y) lowest = egg;
      const target = lowest && lowest.x < state.world.width / 2 ? 0.98 : 0.02;
      await page.mouse.move(box.x + target * box.width, box.y + box.height * 0.7);
    }
    await sleep(50);
  }
  local = local || (await readState(page));
  // A heartbeat goes out every 2 s: a game that long heard of the lost connection.
  check(told || local.tick < 150, 'no word of the lost connection during play');
  await page.waitForFunction(() => /offline/i.test(document.querySelector('[data-testid="result-status"]').textContent), null, { timeout: 15_000 }).catch(async () => {
    throw new Failure(`the result does not say it waits for the connection: ${JSON.stringify(await page.locator(testid('result-status')).textContent())}`);
  });
  const label = await page.locator(testid('score-label')).textContent();
  const shown = await page.locator(testid('verified-score')).getAttribute('data-local');
  check(/being verified/.test(label) && Number(shown) === local.score, `offline, the panel shows ${JSON.stringify({ label, shown })}, not the game's ${local.score} as being verified`);
  const boards = await page.locator(`${testid('board-all')} tbody`).textContent();
  check(/waiting for the connection/i.test(boards), `offline, the board says ${JSON.stringify(boards)}`);
  log(`offline: "${label}" ${local.score}, boards wait for the connection`);
  await page.screenshot({ path: shot('egg-catcher-offline.png'), fullPage: true });
  await context.setOffline(false);
  await checkResult(page, { game: GAME, player, localScore: local.score });
  log('back online: the score was verified without a click');
  page.assertNoErrors();
  await context.close();
}

/** Moves the mouse under the egg lowest on the field (or the middle), as a player would. */
async function chaseLowestEgg(page, stage) {
  const state = await readState(page);
  const box = await stage.boundingBox();
  if (!state || !box) return state;
  let lowest = null;
  for (const egg of state.eggs) if (!lowest || egg.y > lowest.y) lowest = egg;
  const x = lowest ? lowest.x / state.world.width : 0.5;
  await page.mouse.move(box.x + x * box.width, box.y + box.height * 0.7, { steps: 2 });
  return state;
}

/**
 * The game's future comes a window at a time: with its heartbeats failing, a game stops at the
 * end of its first window and says it waits for the connection; when they come back it gets
 * the next window and goes on, and the time it stood still is recorded as a pause, so its
 * score is verified.
 */
async function windows(browser) {
  const context = await browser.newContext(VIEWPORTS.desktop);
  const page = await openPage(context);
  await page.goto(`${BASE}/play/${GAME}`, { waitUntil: 'load' });
  const player = playerName('e2e-wait');
  await startGame(page, player);
  let blocked = 0;
  await page.route('**/api/sessions/*/heartbeat', (route) => {
    blocked++;
    return route.abort('internetdisconnected');
  });
  const stage = page.locator(testid('game-stage'));
  const message = page.locator(testid('stage-message'));
  const started = Date.now();
  let state = await readState(page);
  while (!state?.waiting) {
    check(Date.now() - started < 30_000, `the game did not stop at the end of its window: ${JSON.stringify(state)}`);
    check(!state?.gameOver, 'the game ended before the end of its first window');
    state = await chaseLowestEgg(page, stage);
    await sleep(30);
  }
  check(state.tick === 600 && state.revealed === 1, `the game waits at tick ${state.tick} with ${state.revealed} window(s)`);
  await message.waitFor({ state: 'visible', timeout: 5_000 });
  check(/waiting for the connection/i.test(await message.textContent()), `the field says ${JSON.stringify(await message.textContent())}`);
  await page.screenshot({ path: shot('egg-catcher-waiting.png') });
  log(`the game waits at tick ${state.tick} for its next window (${blocked} heartbeats failed)`);
  await sleep(2_000);
  check((await readState(page)).tick === 600, 'the game moved on without its window');
  await page.unroute('**/api/sessions/*/heartbeat');
  await page.waitForFunction(() => document.querySelector('[data-testid="game-stage"]').readGameState().tick > 600, null, { timeout: 10_000 });
  await message.waitFor({ state: 'hidden', timeout: 5_000 });
  state = await readState(page);
  check(state.revealed >= 2, `the game went on with ${state.revealed} window(s)`);
  log(`back online: the game goes on past tick 600 with window ${state.revealed - 1}`);
  // Let the eggs drop, and the score be verified with the wait recorded as a pause.
  const gameOver = page.locator(testid('game-over'));
  while (!(await gameOver.isVisible())) {
    check(Date.now() - started < GAME_TIMEOUT_MS, 'the game did not end');
    const s = await readState(page);
    const box = await stage.boundingBox();
    if (s && box) {
      let lowest = null;
      for (const egg of s.eggs) if (!lowest || egg.y > lowest.y) lowest = egg;
      const aside = lowest && lowest.x < s.world.width / 2 ? 0.98 : 0.02;
      await page.mouse.move(box.x + aside * box.width, box.y + box.height * 0.7);
      if (s.gameOver) state = s;
    }
    await sleep(50);
  }
  await checkResult(page, { game: GAME, player, localScore: state.gameOver ? state.score : undefined });
  page.assertNoErrors();
  await context.close();
}

/** On a phone: the field fits upright and sideways, and restart and quit ask first. */
async function phone(browser, name) {
  const context = await browser.newContext(VIEWPORTS[name]);
  const page = await openPage(context);
  await page.goto(`${BASE}/play/${GAME}`, { waitUntil: 'load' });
  const player = playerName(`e2e-${name}`);
  await startGame(page, player);
  const layout = await checkLayout(page, `phone ${name} ${size(name)}`);
  if (name === 'landscape') {
    const used = layout.stage.height / layout.viewport.height;
    check(used > 0.85, `landscape: the field uses ${Math.round(used * 100)}% of the window's height`);
  }
  // A finger on the field moves the basket.
  const box = layout.stage;
  const x0 = (await readState(page)).basketX;
  await page.touchscreen.tap(box.left + box.width * 0.05, box.top + box.height * 0.8);
  await sleep(600);
  const x1 = (await readState(page)).basketX;
  check(x1 < x0, `a tap on the field's left edge did not move the basket (${x0} -> ${x1})`);
  await page.screenshot({ path: shot(`egg-catcher-${name}.png`) });
  log(`saved ${relative(shot(`egg-catcher-${name}.png`))}`);

  // Restart asks first; "Keep playing" goes on with the same game.
  const tickBefore = (await readState(page)).tick;
  await page.locator(testid('restart-button')).click();
  const confirm = page.locator(testid('confirm'));
  await confirm.waitFor({ state: 'visible', timeout: 5_000 });
  const paused = await readState(page);
  check(paused.paused, 'the game runs on behind the restart question');
  await page.locator(testid('confirm-no')).click();
  await page.waitForFunction(() => !document.querySelector('[data-testid="game-stage"]').readGameState().paused, null, { timeout: 5_000 });
  check((await readState(page)).tick >= tickBefore, 'keep playing did not keep the game');
  // Restart: a new game from tick 0, after a new countdown.
  await page.locator(testid('restart-button')).click();
  await page.locator(testid('confirm-yes')).click();
  await page.locator(testid('countdown')).waitFor({ state: 'visible', timeout: 10_000 });
  await page.waitForFunction(() => document.querySelector('[data-testid="game-stage"]').readGameState()?.running, null, { timeout: 10_000 });
  check((await readState(page)).tick < tickBefore || tickBefore < 30, 'restart did not start a new game');
  // Quit: back to the name, no game on screen.
  await page.locator(testid('quit-button')).click();
  await page.locator(testid('confirm-yes')).click();
  await page.locator(testid('setup')).waitFor({ state: 'visible', timeout: 5_000 });
  check((await readState(page)) === null, 'a game is still on screen after quitting');
  log(`${name}: restart and quit ask first, keep playing goes on, quitting leaves the game`);
  page.assertNoErrors();
  await context.close();
}

function size(name) {
  const { width, height } = VIEWPORTS[name].viewport;
  return `${width}×${height}`;
}

run('egg-catcher end-to-end', async () => {
  const browser = await launch();
  try {
    await desktop(browser);
    await windows(browser);
    await offline(browser);
    await phone(browser, 'phone');
    await phone(browser, 'landscape');
  } finally {
    await browser.close();
  }
});
