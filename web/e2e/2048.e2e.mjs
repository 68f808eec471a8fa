// End-to-end test: a real Chromium plays 2048 to game over against a running Arcade server,
// with the keyboard on a desktop window and with swipes on a phone, and checks that the score
// the server verified is the one the game showed, on the page and in the API, and that the
// board drawn is the board the simulation holds.
//
//   ARCADE_URL=http://127.0.0.1:8080 node web/e2e/2048.e2e.mjs
//
// Optional: CHROMIUM_PATH (default /usr/bin/chromium), E2E_TIMEOUT_MS (game length limit,
// default 180000).

import { slide } from '../assets/games/2048/sim.js';
import {
  BASE,
  VIEWPORTS,
  check,
  checkLayout,
  checkResult,
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

const GAME = '2048';
const GAME_TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_MS || 180_000);
const UP = 0;
const RIGHT = 1;
const DOWN = 2;
const LEFT = 3;
const KEYS = { [UP]: 'ArrowUp', [RIGHT]: 'd', [DOWN]: 's', [LEFT]: 'ArrowLeft' };

const changes = (board, direction) => slide(board, direction).values.some((v, i) => v !== board[i]);

/** Keep the big tiles in a corner: down, left, right, then up; `shuffle` mixes the first three. */
function choose(board, shuffle) {
  const order = [DOWN, LEFT, RIGHT];
  if (shuffle) order.sort(() => Math.random() - 0.5);
  return [...order, UP].find((d) => changes(board, d));
}

/**
 * Plays until game over with `send(direction)`, waiting for each move to be taken (the moves
 * counter or the board changing) and never pressing faster than the game allows. Returns the
 * last state.
 */
async function playToTheEnd(page, send, { shuffle, label }) {
  const started = Date.now();
  let state = await readState(page);
  let sent = 0;
  while (!state.gameOver) {
    check(Date.now() - started < GAME_TIMEOUT_MS, `${label}: the game did not end within ${GAME_TIMEOUT_MS / 1000} s`);
    page.assertNoErrors();
    const direction = choose(state.board, shuffle);
    check(direction !== undefined, `${label}: no move changes the board, yet the game is not over: ${JSON.stringify(state)}`);
    const before = state;
    await send(direction);
    sent++;
    const deadline = Date.now() + 3_000;
    do {
      await sleep(15);
      state = await readState(page);
    } while (!state.gameOver && state.moves === before.moves && Date.now() < deadline);
    check(state.gameOver || state.moves === before.moves + 1, `${label}: a move was not taken (${JSON.stringify({ before, after: state })})`);
    if (state.moves % 100 === 0 && !state.gameOver) log(`${label}: ${state.moves} moves, score ${state.score}, top tile ${state.maxTile}`);
  }
  log(`${label}: game over after ${state.moves} moves (${sent} sent), score ${state.score}, top tile ${state.maxTile}`);
  // What is drawn settles on what the simulation holds.
  await sleep(400);
  state = await readState(page);
  const drawn = [...state.shown].sort((a, b) => a - b);
  const held = state.board.filter((v) => v > 0).sort((a, b) => a - b);
  check(JSON.stringify(drawn) === JSON.stringify(held), `${label}: the board drawn (${drawn}) is not the simulation's (${held})`);
  return state;
}

async function desktop(browser) {
  const context = await browser.newContext(VIEWPORTS.desktop);
  const page = await openPage(context);
  await page.goto(`${BASE}/`, { waitUntil: 'load' });
  const card = page.locator(`${testid('game-card')}[data-game="${GAME}"]`);
  await card.waitFor({ state: 'visible', timeout: 10_000 });
  check((await card.innerText()).includes('2048'), 'the home page has no 2048 card');
  await card.locator(testid(`play-${GAME}`)).click();
  await page.waitForURL(`**/play/${GAME}`, { timeout: 10_000 });
  const player = playerName('e2e-2048');
  await startGame(page, player);
  log(`desktop: started 2048 as "${player}"`);
  await checkLayout(page, 'desktop 1280×800');
  const start = await readState(page);
  check(start.board.filter((v) => v > 0).length === 2, `a new game has two tiles: ${start.board}`);
  const board = page.locator(testid('game-board'));
  await board.focus();
  const final = await playToTheEnd(page, (d) => page.keyboard.press(KEYS[d]), { shuffle: false, label: 'desktop (keys)' });
  await page.screenshot({ path: shot('2048-desktop-game-over.png') });
  log(`saved ${relative(shot('2048-desktop-game-over.png'))}`);
  const { score } = await checkResult(page, { game: GAME, player, localScore: final.score });
  check(score === final.score, 'the verified score differs');
  const summary = await page.locator(testid('result-stats')).innerText();
  check(summary.includes(`${final.moves} moves`) && summary.includes(`top tile ${final.maxTile}`), `the summary does not match the game: ${JSON.stringify(summary)}`);
  await page.screenshot({ path: shot('2048-desktop-result.png'), fullPage: true });
  page.assertNoErrors();
  await context.close();
}

async function phone(browser) {
  const context = await browser.newContext(VIEWPORTS.phone);
  const page = await openPage(context);
  await page.goto(`${BASE}/play/${GAME}`, { waitUntil: 'load' });
  const player = playerName('e2e-2048p');
  await startGame(page, player);
  log(`phone: started 2048 as "${player}"`);
  const layout = await checkLayout(page, 'phone 390×844');
  const box = layout.stage;
  check(Math.abs(box.width - box.height) < 2, `the board is not square: ${JSON.stringify(box)}`);
  // Swipes are real touches: a start, moves and an end on the board.
  const cdp = await context.newCDPSession(page);
  const touch = (type, x, y) =>
    cdp.send('Input.dispatchTouchEvent', { type, touchPoints: type === 'touchEnd' ? [] : [{ x, y, id: 1 }] });
  const swipe = async (direction) => {
    const cx = box.left + box.width / 2;
    const cy = box.top + box.height / 2;
    const reach = box.width * 0.3;
    const [dx, dy] = { [UP]: [0, -reach], [RIGHT]: [reach, 0], [DOWN]: [0, reach], [LEFT]: [-reach, 0] }[direction];
    await touch('touchStart', cx, cy);
    for (const f of [0.34, 0.67, 1]) await touch('touchMove', cx + dx * f, cy + dy * f);
    await touch('touchEnd', cx + dx, cy + dy);
  };
  let shotTaken = false;
  const final = await playToTheEnd(
    page,
    async (d) => {
      await swipe(d);
      const s = await readState(page);
      if (!shotTaken && s.moves >= 30) {
        shotTaken = true;
        await page.screenshot({ path: shot('2048-phone.png') });
        log(`saved ${relative(shot('2048-phone.png'))}`);
      }
    },
    { shuffle: true, label: 'phone (swipes)' },
  );
  const { score } = await checkResult(page, { game: GAME, player, localScore: final.score });
  check(score === final.score, 'the verified score differs');
  await page.screenshot({ path: shot('2048-phone-result.png'), fullPage: true });
  page.assertNoErrors();
  await context.close();
}

run('2048 end-to-end', async () => {
  const browser = await launch();
  try {
    await desktop(browser);
    await phone(browser);
  } finally {
    await browser.close();
  }
});
