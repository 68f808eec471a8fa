// The operators' console: the review queue, players, their scores and the audit log, through
// the operators' API. The token lives in this tab's sessionStorage only and goes out as
// `Authorization: Bearer`; any 401 signs out.

import { api, ApiError, request, h, saveJson, formatNumber, formatWhen } from '/assets/js/api.js';

const TOKEN_KEY = 'arcade.operator-token';
const AUDIT_PAGE = 20;
const REVIEW_LIMIT = 100;
const HISTORY_LIMIT = 10;
const enc = encodeURIComponent;

const $ = (id) => document.getElementById(id);
const els = {
  login: $('login'),
  loginForm: $('login-form'),
  token: $('token'),
  loginError: $('login-error'),
  console: $('console'),
  operatorBar: $('operator-bar'),
  operatorName: $('operator-name'),
  logout: $('logout'),
  reviewStatus: $('review-status'),
  reviewItems: $('review-items'),
  playerForm: $('player-form'),
  playerName: $('player-name'),
  playerStatus: $('player-status'),
  playerView: $('player-view'),
  auditStatus: $('audit-status'),
  auditEntries: $('audit-entries'),
  auditOlder: $('audit-older'),
};

function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function keepToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled: the token lasts as long as the page */
  }
}

let token = storedToken();
let games = [];
let auditCursor = null;

class SignedOut extends Error {}

/** An operators' API call; a 401 ends the session and shows why on the sign-in form. */
async function call(method, path, body) {
  try {
    return await request(method, path, body, { token });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      signOut(`Signed out: ${err.detail}`);
      throw new SignedOut();
    }
    throw err;
  }
}

/** Show `err` in `statusEl`: the problem's `detail` for an API error. */
function showError(statusEl, err) {
  if (err instanceof SignedOut) return;
  showProblem(statusEl, err instanceof ApiError ? err.detail : `Something went wrong: ${err?.message ?? err}`);
}

function showProblem(statusEl, text) {
  statusEl.classList.add('error');
  statusEl.textContent = text;
}

function showStatus(statusEl, text) {
  statusEl.classList.remove('error');
  statusEl.textContent = text;
}

/** Run `job` with `button` disabled meanwhile; errors go to `statusEl`. */
async function busy(button, statusEl, job) {
  button.disabled = true;
  try {
    await job();
  } catch (err) {
    showError(statusEl, err);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Signing in and out

function signOut(message = '') {
  token = null;
  keepToken(null);
  els.console.hidden = true;
  els.operatorBar.hidden = true;
  els.login.hidden = false;
  els.reviewItems.replaceChildren();
  els.auditEntries.replaceChildren();
  els.playerView.replaceChildren();
  els.playerView.hidden = true;
  for (const status of [els.reviewStatus, els.playerStatus, els.auditStatus]) showStatus(status, '');
  els.loginError.textContent = message;
  els.token.value = '';
  els.token.focus();
}

async function signIn(candidate) {
  token = candidate;
  const me = await request('GET', '/api/admin/me', undefined, { token });
  keepToken(token);
  els.operatorName.textContent = me.name;
  els.operatorBar.hidden = false;
  els.login.hidden = true;
  els.loginError.textContent = '';
  els.console.hidden = false;
  const catalogue = await api.listGames().catch(() => null);
  games = Array.isArray(catalogue?.games) ? catalogue.games : [];
  await Promise.all([loadReview(), loadAudit(true)]);
}

els.loginForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const candidate = els.token.value.trim();
  if (!candidate) {
    els.loginError.textContent = 'Paste your operator token.';
    return;
  }
  const button = els.loginForm.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    await signIn(candidate);
    $('review-title').focus();
  } catch (err) {
    token = null;
    keepToken(null);
    els.loginError.textContent = err instanceof ApiError ? err.detail : String(err);
  } finally {
    button.disabled = false;
  }
});

els.logout.addEventListener('click', () => signOut('Signed out.'));

// ---------------------------------------------------------------------------------------------
// Small form parts

function reasonField(id, { required = false, label = 'Reason' } = {}) {
  const input = h('input', { id, type: 'text', maxlength: 500, autocomplete: 'off', required, dataset: { testid: id } });
  return { input, row: h('div', { class: 'admin-field' }, h('label', { for: id }, required ? `${label} (required)` : label), input) };
}

function checkbox(id, label) {
  const input = h('input', { id, type: 'checkbox', dataset: { testid: id } });
  return { input, row: h('div', { class: 'admin-check' }, input, h('label', { for: id }, label)) };
}

/** A reason, or an error shown and null when a required one is missing. */
function reasonOf(input, statusEl) {
  const reason = input.value.trim();
  if (!reason && input.required) {
    showProblem(statusEl, 'Give a reason: the audit log keeps it.');
    input.focus();
    return null;
  }
  return reason;
}

const withReason = (reason, body = {}) => (reason ? { ...body, reason } : body);

// ---------------------------------------------------------------------------------------------
// Review queue

async function loadReview() {
  showStatus(els.reviewStatus, 'Loading…');
  try {
    const data = await call('GET', `/api/admin/review?limit=${REVIEW_LIMIT}`);
    const items = Array.isArray(data?.items) ? data.items : [];
    els.reviewItems.replaceChildren(...items.map(reviewItem));
    showStatus(els.reviewStatus, items.length === 0 ? 'Nothing waits for review.' : `${items.length} waiting.`);
  } catch (err) {
    showError(els.reviewStatus, err);
  }
}

let itemCount = 0;

function reviewItem(item) {
  const n = ++itemCount;
  const what = item.kind === 'report' ? (item.session_id ? 'Report of a score' : 'Report of a name') : 'Flagged score';
  const resolution = h(
    'select',
    { id: `resolution-${n}`, dataset: { testid: 'resolution' } },
    h('option', { value: 'dismiss' }, 'Dismiss'),
    item.session_id ? h('option', { value: 'remove_score' }, 'Remove the score') : null,
    h('option', { value: 'hide_player' }, 'Hide the player'),
  );
  const reason = reasonField(`review-reason-${n}`);
  reason.input.dataset.testid = 'review-reason';
  const resolve = h('button', { type: 'submit', class: 'button small primary', dataset: { testid: 'resolve' } }, 'Resolve');
  const open = h('button', { type: 'button', class: 'button small', dataset: { testid: 'open-player' } }, 'Open player');
  open.addEventListener('click', () => lookUp(item.player, { jump: true }));
  const form = h(
    'form',
    { class: 'admin-actions' },
    h('div', { class: 'admin-field' }, h('label', { for: `resolution-${n}` }, 'Resolution'), resolution),
    reason.row,
    resolve,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(resolve, els.reviewStatus, async () => {
      await call('POST', `/api/admin/review/${enc(item.item)}/resolve`, withReason(reason.input.value.trim(), { resolution: resolution.value }));
      await loadReview();
      showStatus(els.reviewStatus, `Resolved: ${what.toLowerCase()} of ${item.player}. ${els.reviewStatus.textContent}`);
      // The item and its form are gone: keep the keyboard in the queue.
      $('review-title').focus();
      refreshAfterAction();
    });
  });
  const facts = [
    item.game ? `${item.game}` : null,
    typeof item.score === 'number' ? `score ${formatNumber(item.score)}` : null,
    item.flags?.length ? `flags: ${item.flags.join(', ')}` : null,
    formatWhen(item.at) || item.at,
  ].filter(Boolean);
  return h(
    'li',
    { class: 'admin-item', dataset: { testid: 'review-item', item: item.item, kind: item.kind, player: item.player } },
    h('p', { class: 'admin-item-head' }, h('strong', null, what), ' — ', h('span', { class: 'admin-player' }, item.player), ' ', open),
    h('p', { class: 'admin-facts' }, facts.join(' · ')),
    item.reason ? h('p', { class: 'admin-reason' }, `“${item.reason}”`) : null,
    form,
  );
}

$('review-refresh').addEventListener('click', (event) => busy(event.currentTarget, els.reviewStatus, loadReview));

// ---------------------------------------------------------------------------------------------
// Players

let shownPlayer = null;

els.playerForm.addEventListener('submit', (event) => {
  event.preventDefault();
  lookUp(els.playerName.value);
});

/** Show a player; `jump` brings the section into view, `quiet` keeps its status line. */
async function lookUp(name, { jump = false, quiet = false } = {}) {
  const wanted = String(name ?? '').trim();
  if (!wanted) {
    showProblem(els.playerStatus, 'Type a player name.');
    return;
  }
  els.playerName.value = wanted;
  if (jump) {
    $('players').scrollIntoView();
    $('players-title').focus();
  }
  if (!quiet) showStatus(els.playerStatus, 'Looking up…');
  // A game the player has no score in answers 404; a name no game knows is shown as its 404.
  let missing = null;
  const unless404 = (err) => {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
    missing = err;
    return null;
  };
  try {
    const per = await Promise.all(
      games.map(async (game) => {
        const [standing, history] = await Promise.all([
          api.playerStanding(game.id, wanted, 'all').catch(unless404),
          request('GET', `/api/games/${enc(game.id)}/players/${enc(wanted)}/scores?limit=${HISTORY_LIMIT}`).catch(unless404),
        ]);
        return { game, standing, history };
      }),
    );
    if (missing && per.every((p) => !p.history && !p.standing)) {
      els.playerView.hidden = true;
      els.playerView.replaceChildren();
      shownPlayer = null;
      throw missing;
    }
    shownPlayer = per.find((p) => p.history?.player || p.standing?.player)?.history?.player ?? per.find((p) => p.standing?.player)?.standing?.player ?? wanted;
    renderPlayer(shownPlayer, per);
    if (!quiet) showStatus(els.playerStatus, '');
  } catch (err) {
    showError(els.playerStatus, err);
  }
}

function refreshAfterAction() {
  loadAudit(true);
  if (shownPlayer && !els.playerView.hidden) lookUp(shownPlayer, { quiet: true });
}

function renderPlayer(name, per) {
  const sections = per.map(({ game, standing, history }) => {
    const best = standing?.best;
    const scores = Array.isArray(history?.scores) ? history.scores : [];
    return h(
      'div',
      { class: 'admin-game', dataset: { testid: 'player-game', game: game.id } },
      h('h4', null, game.title || game.id),
      h('p', null, best ? `All time: rank #${formatNumber(best.rank)}, best ${formatNumber(best.score)}` : 'Not on the all-time board (no score, or hidden).'),
      scores.length === 0
        ? h('p', { class: 'status' }, 'No scores.')
        : h('ul', { class: 'admin-list' }, ...scores.map((score) => scoreItem(name, game, score))),
    );
  });
  els.playerView.replaceChildren(
    h('h3', { dataset: { testid: 'player-shown' } }, name),
    ...sections,
    playerActions(name),
  );
  els.playerView.hidden = false;
}

let scoreCount = 0;

function scoreItem(player, game, score) {
  const n = ++scoreCount;
  const reason = reasonField(`score-reason-${n}`, { required: true });
  reason.input.dataset.testid = 'score-reason';
  const remove = h('button', { type: 'submit', class: 'button small', dataset: { testid: 'remove-score' } }, 'Remove score');
  const form = h('form', { class: 'admin-actions', novalidate: true }, reason.row, remove);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const why = reasonOf(reason.input, els.playerStatus);
    if (why === null) return;
    busy(remove, els.playerStatus, async () => {
      await call('POST', `/api/admin/scores/${enc(score.session_id)}/remove`, { reason: why });
      showStatus(els.playerStatus, `Removed a score of ${formatNumber(score.score)} in ${game.title || game.id}.`);
      refreshAfterAction();
    });
  });
  const flags = score.flags?.length ? ` · flags: ${score.flags.join(', ')}` : '';
  return h(
    'li',
    { class: 'admin-item', dataset: { testid: 'player-score', session: score.session_id } },
    h('p', { class: 'admin-facts' }, `${formatNumber(score.score)} · ${formatWhen(score.achieved_at) || score.achieved_at}${flags}`),
    form,
  );
}

function playerActions(name) {
  const reason = reasonField('player-reason');
  const buttons = ['hide', 'unhide', 'ban', 'unban'].map((action) => {
    const button = h('button', { type: 'button', class: 'button small', dataset: { testid: `player-${action}` } }, action[0].toUpperCase() + action.slice(1));
    button.addEventListener('click', () =>
      busy(button, els.playerStatus, async () => {
        await call('POST', `/api/admin/players/${enc(name)}/${action}`, withReason(reason.input.value.trim()));
        showStatus(els.playerStatus, `${name}: ${action} done.`);
        refreshAfterAction();
      }),
    );
    return button;
  });
  const exportButton = h('button', { type: 'button', class: 'button small', dataset: { testid: 'player-export' } }, 'Export data');
  exportButton.addEventListener('click', () =>
    busy(exportButton, els.playerStatus, async () => {
      const data = await call('GET', `/api/admin/players/${enc(name)}/export`);
      saveJson('arcade-player-data.json', data);
      showStatus(els.playerStatus, `Exported the data of ${name}.`);
    }),
  );

  const renameTo = h('input', { id: 'rename-to', type: 'text', maxlength: 64, autocomplete: 'off', dataset: { testid: 'rename-to' } });
  const blockOld = checkbox('rename-block-old', 'Block the old name');
  const renameReason = reasonField('rename-reason');
  const renameButton = h('button', { type: 'submit', class: 'button small', dataset: { testid: 'rename' } }, 'Rename');
  const renameForm = h(
    'form',
    { class: 'admin-actions', novalidate: true },
    h('div', { class: 'admin-field' }, h('label', { for: 'rename-to' }, 'New name'), renameTo),
    blockOld.row,
    renameReason.row,
    renameButton,
  );
  renameForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const to = renameTo.value.trim();
    if (!to) {
      showProblem(els.playerStatus, 'Type the new name.');
      renameTo.focus();
      return;
    }
    busy(renameButton, els.playerStatus, async () => {
      await call('POST', `/api/admin/players/${enc(name)}/rename`, withReason(renameReason.input.value.trim(), { to, block_old: blockOld.input.checked }));
      showStatus(els.playerStatus, `Renamed ${name} to ${to}.`);
      shownPlayer = to;
      refreshAfterAction();
    });
  });

  const eraseReason = reasonField('erase-reason', { required: true });
  const blockName = checkbox('erase-block-name', 'Block the name');
  const eraseButton = h('button', { type: 'submit', class: 'button small danger', dataset: { testid: 'erase' } }, 'Delete player');
  const eraseForm = h('form', { class: 'admin-actions', novalidate: true }, eraseReason.row, blockName.row, eraseButton);
  eraseForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const why = reasonOf(eraseReason.input, els.playerStatus);
    if (why === null) return;
    busy(eraseButton, els.playerStatus, async () => {
      const receipt = await call('DELETE', `/api/admin/players/${enc(name)}`, { reason: why, block_name: blockName.input.checked });
      showStatus(els.playerStatus, `Deleted ${name}: ${receipt.scores_erased} scores, ${receipt.reports_erased} reports (${receipt.reference}).`);
      els.playerView.hidden = true;
      els.playerView.replaceChildren();
      shownPlayer = null;
      els.playerName.focus();
      refreshAfterAction();
    });
  });

  return h(
    'div',
    { class: 'admin-player-actions' },
    h('h4', null, 'Boards, play and data'),
    reason.row,
    h('div', { class: 'admin-buttons' }, ...buttons, exportButton),
    h('h4', null, 'Rename'),
    renameForm,
    h('h4', null, 'Delete everything of the player'),
    eraseForm,
  );
}

// ---------------------------------------------------------------------------------------------
// Audit log

async function loadAudit(fromNewest) {
  if (fromNewest) auditCursor = null;
  showStatus(els.auditStatus, 'Loading…');
  try {
    const cursor = auditCursor ? `&cursor=${enc(auditCursor)}` : '';
    const data = await call('GET', `/api/admin/audit?limit=${AUDIT_PAGE}${cursor}`);
    const entries = Array.isArray(data?.entries) ? data.entries : [];
    const items = entries.map(auditEntry);
    if (fromNewest) els.auditEntries.replaceChildren(...items);
    else els.auditEntries.append(...items);
    auditCursor = data?.next_cursor ?? null;
    els.auditOlder.hidden = !auditCursor;
    showStatus(els.auditStatus, els.auditEntries.children.length === 0 ? 'Nothing recorded yet.' : '');
  } catch (err) {
    showError(els.auditStatus, err);
  }
}

function auditEntry(entry) {
  return h(
    'li',
    { class: 'admin-item', dataset: { testid: 'audit-entry', id: String(entry.id), action: entry.action, target: entry.target } },
    h('p', { class: 'admin-item-head' }, h('strong', null, entry.action), ' ', h('span', { class: 'admin-target' }, entry.target)),
    h('p', { class: 'admin-facts' }, `${entry.actor} · ${new Date(entry.at).toLocaleString()}`),
    entry.reason ? h('p', { class: 'admin-reason' }, `“${entry.reason}”`) : null,
  );
}

$('audit-refresh').addEventListener('click', (event) => busy(event.currentTarget, els.auditStatus, () => loadAudit(true)));
els.auditOlder.addEventListener('click', (event) => busy(event.currentTarget, els.auditStatus, () => loadAudit(false)));

// ---------------------------------------------------------------------------------------------

if (token) {
  signIn(token).catch((err) => signOut(err instanceof ApiError ? `Signed out: ${err.detail}` : ''));
} else {
  els.token.focus();
}
