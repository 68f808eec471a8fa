// End-to-end test: a community run from the browser. A player plays Egg Catcher to a score; a
// visitor reports the name on the home page's board in one click; an operator signs into the
// console (/admin) with a token, finds the report in the review queue, resolves it, hides the
// player and sees both in the audit log, newest first, then signs out. The console fits a
// phone's width. The player downloads their data from the home page, then deletes it.
//
//   ARCADE_URL=http://127.0.0.1:8080 ARCADE_OPERATOR_TOKEN=arcade_op_… node web/e2e/admin.e2e.mjs
//
// .ci/e2e.sh makes the token with `arcade admin token create` on the server's database.

import fs from 'node:fs';

import { BASE, Failure, VIEWPORTS, check, checkResult, launch, log, openPage, playerName, quoted, readState, run, shot, relative, sleep, startGame, testid } from './lib.mjs';

const GAME = 'egg-catcher';
const TOKEN = process.env.ARCADE_OPERATOR_TOKEN;

/** Plays Egg Catcher: catches eggs until the score is at least 1, then lets them drop. */
async function playToAScore(page) {
  const stage = page.locator(testid('game-stage'));
  const overlay = page.locator(testid('pause-overlay'));
  const gameOver = page.locator(testid('game-over'));
  const startedAt = Date.now();
  let last = null;
  while (!(await gameOver.isVisible())) {
    check(Date.now() - startedAt < 180_000, `no game over within 180 s: ${JSON.stringify(last && { tick: last.tick, score: last.score })}`);
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
    if (state.gameOver) break;
    const catching = state.score < 1;
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

/** The console signed in with `token` by keyboard alone; returns the operator's name shown. */
async function signIn(page, token) {
  const input = page.locator(testid('token'));
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  check(await input.evaluate((el) => el === document.activeElement), 'the token field has no focus on a fresh console');
  await page.keyboard.type(token);
  await page.keyboard.press('Enter');
}

async function operatorName(page) {
  const name = page.locator(testid('operator-name'));
  await name.waitFor({ state: 'visible', timeout: 10_000 });
  return (await name.innerText()).trim();
}

/** Audit entries as shown: [{action, target}], newest first. */
function auditShown(page) {
  return page.locator(testid('audit-entry')).evaluateAll((els) => els.map((el) => ({ action: el.dataset.action, target: el.dataset.target })));
}

async function main() {
  if (!TOKEN) throw new Failure('ARCADE_OPERATOR_TOKEN is not set: run this through .ci/e2e.sh');
  const browser = await launch();
  try {
    // A player plays to a score; their browser keeps the token that claimed the name.
    const playing = await browser.newContext({ ...VIEWPORTS.desktop, acceptDownloads: true });
    const playerPage = await openPage(playing);
    await playerPage.goto(`${BASE}/play/${GAME}`, { waitUntil: 'load' });
    const player = playerName('e2e-admin');
    await startGame(playerPage, player);
    const final = await playToAScore(playerPage);
    await playerPage.locator(testid('game-over')).waitFor({ state: 'visible', timeout: 30_000 });
    const { score } = await checkResult(playerPage, { game: GAME, player, localScore: final?.score });
    check(score > 0, `the player scored nothing (${score}): not on the board to report`);
    log(`${player} scored ${score}`);

    // A visitor reports the name on the home page's board: one click.
    const visiting = await browser.newContext(VIEWPORTS.desktop);
    const visitor = await openPage(visiting);
    await visitor.goto(`${BASE}/`, { waitUntil: 'load' });
    const row = visitor.locator(`${testid('game-card')}[data-game="${GAME}"] ${testid('board-all')} ${testid('leaderboard-row')}[data-player="${quoted(player)}"]`);
    await row.waitFor({ state: 'visible', timeout: 15_000 });
    const reported = visitor.waitForResponse((r) => r.url().endsWith('/api/reports') && r.request().method() === 'POST');
    await row.locator('.report-name').click();
    check((await reported).status() === 202, `the report was answered ${(await reported).status()}`);
    await row.locator('.reported').waitFor({ state: 'visible', timeout: 5_000 });
    check((await row.locator('.reported').innerText()).trim() === 'reported', 'the board does not say the name was reported');
    log('the visitor reported the name in one click');

    // The score on the same row: one click reports it, named as the board shows it; the
    // report names that game's score of the player. Dismissed here, the queue keeps the name's.
    const operatorHeaders = { Authorization: `Bearer ${TOKEN}` };
    const scoreReported = visitor.waitForResponse((r) => r.url().endsWith('/api/reports') && r.request().method() === 'POST');
    await row.locator('.report-score').click();
    check((await scoreReported).status() === 202, `the score's report was answered ${(await scoreReported).status()}`);
    const waiting = await (await visitor.request.get(`${BASE}/api/admin/review?limit=100`, { headers: operatorHeaders })).json();
    const scoreReport = waiting.items.find((i) => i.kind === 'report' && i.player === player && i.session_id);
    check(scoreReport && scoreReport.game === GAME && scoreReport.score === score, `no report of the score ${score} in the queue: ${JSON.stringify(waiting.items)}`);
    const dismissed = await visitor.request.post(`${BASE}/api/admin/review/${encodeURIComponent(scoreReport.item)}/resolve`, {
      headers: operatorHeaders,
      data: { resolution: 'dismiss', reason: 'e2e: the score is fine' },
    });
    check(dismissed.status() === 204, `dismissing the score's report was answered ${dismissed.status()}`);
    log('the visitor reported the score in one click');
    visitor.assertNoErrors();

    // Seasons an operator adds get a board on every game's card: the running one (the default)
    // holds today's score; the one that is over is offered too, and holds none.
    const day = 86_400_000;
    const iso = (ms) => new Date(ms).toISOString();
    const seasonsAdded = [
      { slug: 'e2e-over', title: 'E2E past season', starts_at: iso(Date.now() - 9 * day), ends_at: iso(Date.now() - 2 * day) },
      { slug: 'e2e-now', title: 'E2E season', starts_at: iso(Date.now() - day), ends_at: iso(Date.now() + 7 * day) },
    ];
    for (const season of seasonsAdded) {
      const r = await visitor.request.post(`${BASE}/api/admin/seasons`, { headers: { Authorization: `Bearer ${TOKEN}` }, data: { ...season, reason: 'e2e' } });
      check(r.status() === 201, `adding the season ${season.slug} was answered ${r.status()}: ${await r.text()}`);
    }
    await visitor.reload({ waitUntil: 'load' });
    const card = visitor.locator(`${testid('game-card')}[data-game="${GAME}"]`);
    const picker = card.locator(testid('season-picker'));
    await picker.waitFor({ state: 'visible', timeout: 15_000 });
    check((await picker.inputValue()) === 'e2e-now', `the season shown first is ${await picker.inputValue()}, not the running one`);
    const seasonRow = card.locator(`${testid('board-season')} ${testid('leaderboard-row')}[data-player="${quoted(player)}"]`);
    await seasonRow.waitFor({ state: 'visible', timeout: 15_000 });
    await picker.selectOption('e2e-over');
    await card.locator(`${testid('board-season')} tr.empty:has-text("No scores in this season")`).waitFor({ state: 'visible', timeout: 15_000 });
    check((await seasonRow.count()) === 0, 'the season that is over shows a score of today');
    log('the running season holds the score; the one that is over holds none');
    visitor.assertNoErrors();

    // The operator: a wrong token is refused with the server's reason, the right one opens.
    const operating = await browser.newContext({ ...VIEWPORTS.desktop, acceptDownloads: true });
    // Refusals made on purpose: wrong tokens (401), an unknown name (404), a bad new name (422).
    const desk = await openPage(operating, /status of (401|404|422)\b/);
    await desk.goto(`${BASE}/admin`, { waitUntil: 'load' });
    await signIn(desk, 'arcade_op_not-a-real-token-0000000000000000000000000');
    const refused = desk.locator(testid('login-error'));
    await desk.waitForFunction((sel) => document.querySelector(sel)?.textContent.trim().length > 0, testid('login-error'), { timeout: 10_000 });
    log(`a wrong token: ${JSON.stringify(await refused.innerText())}`);
    check(!(await desk.locator('#console').isVisible()), 'the console opened with a wrong token');
    await desk.locator(testid('token')).fill('');
    await desk.locator(testid('token')).focus();
    await signIn(desk, TOKEN);
    check((await operatorName(desk)) === 'e2e', `signed in as ${await operatorName(desk)}, not e2e`);
    const kept = await desk.evaluate(() => ({ session: Object.keys(sessionStorage), local: Object.keys(localStorage) }));
    check(kept.session.length === 1 && kept.local.length === 0, `the token is not kept in the tab alone: ${JSON.stringify(kept)}`);
    log('signed in as e2e; the token is in sessionStorage only');

    // The report waits in the queue; resolved with a reason, it leaves it.
    const item = desk.locator(`${testid('review-item')}[data-kind="report"][data-player="${quoted(player)}"]`);
    await item.waitFor({ state: 'visible', timeout: 10_000 });
    const order = await desk.locator(testid('review-item')).evaluateAll((els) => els.map((el) => el.dataset.item));
    log(`the queue lists ${order.length} item(s), the report among them`);
    await item.locator(testid('resolution')).selectOption('dismiss');
    await item.locator(testid('review-reason')).fill('e2e: the name is fine');
    await item.locator(testid('resolve')).click();
    await item.waitFor({ state: 'detached', timeout: 10_000 });
    const status = (await desk.locator(testid('review-status')).innerText()).trim();
    check(status.startsWith('Resolved'), `no word of the resolution: ${JSON.stringify(status)}`);
    const queue = await (await desk.request.get(`${BASE}/api/admin/review?limit=100`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json();
    check(!queue.items.some((i) => i.kind === 'report' && i.player === player), 'the API still lists the report');
    log('the report was resolved and left the queue');

    // Every refusal shows why: the server's problem detail, or what the form lacks.
    const playerStatus = desk.locator(testid('player-status'));
    const problemShown = async (what) => {
      await desk.waitForFunction((sel) => {
        const el = document.querySelector(sel);
        return el?.classList.contains('error') && el.textContent.trim().length > 0;
      }, testid('player-status'), { timeout: 10_000 });
      const text = (await playerStatus.innerText()).trim();
      log(`${what}: ${JSON.stringify(text)}`);
      return text;
    };
    await desk.locator(testid('player-lookup')).fill(`${player} not`);
    await desk.locator(testid('player-lookup-button')).click();
    const unknown = await problemShown('an unknown name');
    check(!(await desk.locator(testid('player-view')).isVisible()), 'an unknown name shows a player');

    // The player: looked up, their scores shown, hidden with a reason.
    await desk.locator(testid('player-lookup')).fill(player);
    await desk.locator(testid('player-lookup-button')).click();
    await desk.locator(testid('player-shown')).waitFor({ state: 'visible', timeout: 10_000 });
    const scores = desk.locator(`${testid('player-game')}[data-game="${GAME}"] ${testid('player-score')}`);
    await scores.first().waitFor({ state: 'visible', timeout: 10_000 });
    check((await playerStatus.innerText()).trim() !== unknown, 'the error stays after a lookup that worked');
    await scores.first().locator(testid('remove-score')).click();
    check((await problemShown('a score removed without a reason')).includes('reason'), 'no word that a reason is needed');
    check((await scores.count()) >= 1, 'a score was removed without a reason');
    await desk.locator(testid('rename-to')).fill('no/slashes!');
    await desk.locator(testid('rename')).click();
    await desk.waitForFunction((sel) => !/reason/.test(document.querySelector(sel)?.textContent ?? ''), testid('player-status'), { timeout: 10_000 });
    const renameRefused = await problemShown('a rename to a bad name');
    check(renameRefused.length > 10, 'the rename was refused without the reason');
    await desk.locator(testid('player-reason')).fill('e2e: hidden for the test');
    await desk.locator(testid('player-hide')).click();
    await desk.waitForFunction((sel) => /hide done/.test(document.querySelector(sel)?.textContent ?? ''), testid('player-status'), { timeout: 10_000 });
    const board = await (await desk.request.get(`${BASE}/api/games/${GAME}/leaderboard?period=all&limit=100`)).json();
    check(!board.entries.some((e) => e.player === player), 'the hidden player is still on the board');
    log('the player was hidden and left the board');

    // The audit log: the hiding, then the resolution, newest first.
    await desk.waitForFunction((sel) => document.querySelector(sel)?.dataset.action === 'player_hidden', `${testid('audit-entry')}`, { timeout: 10_000 });
    const audit = await auditShown(desk);
    check(audit[0].action === 'player_hidden' && audit[1].action === 'review_resolved', `the audit log is not newest first: ${JSON.stringify(audit.slice(0, 3))}`);
    log(`the audit log shows ${audit[0].action} ${audit[0].target}, then ${audit[1].action} ${audit[1].target}`);
    await desk.screenshot({ path: shot('admin-desktop.png'), fullPage: true });
    log(`saved ${relative(shot('admin-desktop.png'))}`);

    // More than a page of the audit log: the older entries follow on, none twice, newest first.
    const authorised = { headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' } };
    for (let i = 0; i < 10; i++) {
      for (const action of ['unhide', 'hide']) {
        const r = await desk.request.post(`${BASE}/api/admin/players/${encodeURIComponent(player)}/${action}`, { ...authorised, data: { reason: `e2e: page ${i}` } });
        check(r.status() === 204, `${action} answered ${r.status()}`);
      }
    }
    await desk.locator(testid('audit-refresh')).click();
    await desk.waitForFunction((sel) => document.querySelectorAll(sel).length === 20, testid('audit-entry'), { timeout: 10_000 });
    const older = desk.locator(testid('audit-older'));
    check(await older.isVisible(), 'a full page of the audit log offers no older entries');
    for (let pages = 1; await older.isVisible(); pages++) {
      check(pages < 20, 'the audit log offers older entries without end');
      const shown = await desk.locator(testid('audit-entry')).count();
      await older.click();
      await desk.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length > n, [testid('audit-entry'), shown], { timeout: 10_000 });
    }
    const ids = await desk.locator(testid('audit-entry')).evaluateAll((els) => els.map((el) => Number(el.dataset.id)));
    check(ids.every((id, i) => i === 0 || id < ids[i - 1]), `the audit log's pages are not newest first without repeats: ${ids}`);
    log(`the audit log pages: ${ids.length} entries, newest first`);

    // A token refused mid-session (revoked, say) signs out, saying why.
    await desk.evaluate(() => {
      for (const key of Object.keys(sessionStorage)) sessionStorage.setItem(key, 'arcade_op_revoked-or-never-made');
    });
    await desk.reload({ waitUntil: 'load' });
    await desk.locator(testid('token')).waitFor({ state: 'visible', timeout: 10_000 });
    const why = (await desk.locator(testid('login-error')).innerText()).trim();
    check(why.startsWith('Signed out:') && why.length > 20, `a refused token signs out without saying why: ${JSON.stringify(why)}`);
    log(`a refused token: ${JSON.stringify(why)}`);
    await signIn(desk, TOKEN);
    check((await operatorName(desk)) === 'e2e', 'could not sign in again');

    // A reload keeps the session of the tab; signing out forgets the token.
    await desk.reload({ waitUntil: 'load' });
    check((await operatorName(desk)) === 'e2e', 'a reload lost the session');
    await desk.locator(testid('logout')).click();
    await desk.locator(testid('token')).waitFor({ state: 'visible', timeout: 5_000 });
    const left = await desk.evaluate(() => Object.keys(sessionStorage).length + Object.keys(localStorage).length);
    check(left === 0, 'signing out left the token behind');
    await desk.reload({ waitUntil: 'load' });
    await desk.locator(testid('token')).waitFor({ state: 'visible', timeout: 5_000 });
    check(!(await desk.locator('#console').isVisible()), 'the console opens after signing out');
    log('signed out: the token is gone');
    desk.assertNoErrors();

    // On a phone: nothing wider than the screen.
    const phoning = await browser.newContext(VIEWPORTS.phone);
    const phone = await openPage(phoning);
    await phone.goto(`${BASE}/admin`, { waitUntil: 'load' });
    await signIn(phone, TOKEN);
    await operatorName(phone);
    await phone.locator(testid('player-lookup')).fill(player);
    await phone.locator(testid('player-lookup-button')).click();
    await phone.locator(testid('player-shown')).waitFor({ state: 'visible', timeout: 10_000 });
    await phone.locator(testid('audit-entry')).first().waitFor({ state: 'visible', timeout: 10_000 });
    const overflow = await phone.evaluate(() => document.scrollingElement.scrollWidth - window.innerWidth);
    check(overflow <= 0, `the console is ${overflow}px wider than the phone`);
    await phone.screenshot({ path: shot('admin-phone.png'), fullPage: true });
    log(`phone: no horizontal overflow; saved ${relative(shot('admin-phone.png'))}`);
    phone.assertNoErrors();

    // The player's own data, from the home page of the browser that claimed the name.
    await playerPage.goto(`${BASE}/`, { waitUntil: 'load' });
    const download = playerPage.locator(testid('download-my-data'));
    await download.waitFor({ state: 'visible', timeout: 10_000 });
    const [file] = await Promise.all([playerPage.waitForEvent('download', { timeout: 10_000 }), download.click()]);
    const exported = JSON.parse(fs.readFileSync(await file.path(), 'utf8'));
    check(exported.player?.name === player, `the download is not the player's data: ${JSON.stringify(exported.player)}`);
    check(exported.scores?.some((s) => s.game === GAME && s.score === score), 'the download lacks the score');
    check(exported.player.hidden_at, 'the download does not say the player is hidden');
    log(`downloaded ${file.suggestedFilename()}: ${exported.scores.length} score(s)`);
    await playerPage.locator(testid('delete-my-data')).click();
    await playerPage.locator(testid('standing')).screenshot({ path: shot('home-my-data.png') });
    await playerPage.locator(testid('cancel-delete')).click();
    check(await download.isVisible(), 'cancelling deleted something');
    await playerPage.locator(testid('delete-my-data')).click();
    await playerPage.locator(testid('confirm-delete')).click();
    await playerPage.locator(testid('my-data-deleted')).waitFor({ state: 'visible', timeout: 10_000 });
    const remembered = await playerPage.evaluate(() => ({ player: localStorage.getItem('arcade.player'), tokens: JSON.parse(localStorage.getItem('arcade.tokens') || '{}') }));
    check(!remembered.player && Object.keys(remembered.tokens).length === 0, `the browser still remembers the player: ${JSON.stringify(remembered)}`);
    const gone = await playerPage.request.get(`${BASE}/api/games/${GAME}/players/${encodeURIComponent(player)}/scores`);
    check(gone.status() === 404, `the erased player's scores answer ${gone.status()}`);
    await playerPage.reload({ waitUntil: 'load' });
    await playerPage.locator(`${testid('game-card')}[data-game="${GAME}"]`).waitFor({ state: 'visible', timeout: 10_000 });
    check(!(await playerPage.locator(testid('standing')).isVisible()), 'the home page still shows the erased player');
    log('the player deleted their data; the browser forgot them');
    playerPage.assertNoErrors();
  } finally {
    await browser.close();
  }
}

run("the operators' console and the players' own data", main);
