// Home page: the list of games, their leaderboards and the local player's standing.

import { api, ApiError, followLive, forgetPlayer, h, saveJson, storedPlayer, renderLeaderboardRows, formatNumber, formatRank, formatWhen } from '/assets/js/api.js';

const REFRESH_MS = 10_000;
const BOARD_LIMIT = 10;
const PERIODS = [
  { id: 'all', label: 'All time' },
  { id: 'day', label: 'Today' },
];

const gamesEl = document.getElementById('games');
const statusEl = document.getElementById('games-status');
const standingSection = document.getElementById('standing');
const standingBody = document.getElementById('standing-body');

let player = storedPlayer();
/** @type {{id: string, title: string, boards: Map<string, HTMLTableSectionElement>, standing: HTMLElement | null, winners: HTMLElement, winnersOf: string | null, season: string | null}[]} */
let cards = [];
/** The seasons operators defined, newest first (none: no season board is shown). */
let seasons = [];
let timer = null;
let refreshing = false;

function boardTable(game, period) {
  const tbody = h('tbody', null, h('tr', { class: 'empty' }, h('td', { colspan: 3 }, 'Loading…')));
  const table = h(
    'table',
    { class: 'board', dataset: { testid: `board-${period.id}`, period: period.id } },
    h('caption', null, period.label),
    h(
      'thead',
      null,
      h('tr', null, h('th', { scope: 'col', class: 'rank' }, 'Rank'), h('th', { scope: 'col' }, 'Player'), h('th', { scope: 'col', class: 'score' }, 'Score')),
    ),
    tbody,
  );
  return { table, tbody };
}

const DAY_MS = 86_400_000;

/** The civil date `days` after `date` (`YYYY-MM-DD`), as a date: no time zone involved. */
function addDays(date, days) {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d) + days * DAY_MS).toISOString().slice(0, 10);
}

/** The ISO week (`YYYY-Www`) of a civil date `YYYY-MM-DD`: the week of its Thursday. */
function isoWeek(date) {
  const [y, m, d] = date.split('-').map(Number);
  const day = new Date(Date.UTC(y, m - 1, d));
  const weekday = day.getUTCDay() || 7;
  const thursday = new Date(day.getTime() + (4 - weekday) * DAY_MS);
  const year = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / DAY_MS / 7);
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** The season shown first: the newest that has begun, or the newest of all. */
function defaultSeason() {
  const now = Date.now();
  return (seasons.find((s) => Date.parse(s.starts_at) <= now) ?? seasons[0])?.slug ?? null;
}

/** A board of the season the player picks, or null when there are no seasons. */
function seasonBoard(game, onPick) {
  if (seasons.length === 0) return null;
  const picker = h(
    'select',
    { class: 'season-picker', 'aria-label': `Season of ${game.title}`, dataset: { testid: 'season-picker' } },
    ...seasons.map((s) => h('option', { value: s.slug }, s.finished ? `${s.title} (over)` : s.title)),
  );
  picker.value = defaultSeason();
  picker.addEventListener('change', () => onPick(picker.value));
  const { table, tbody } = boardTable(game, { id: 'season', label: '' });
  table.querySelector('caption').replaceChildren(picker);
  return { table, tbody };
}

function winnersLine() {
  const item = (id, label) => h('li', { dataset: { testid: `winner-${id}` } }, h('span', { class: 'winner-label' }, label), ' ', h('span', { class: 'winner-name' }, '…'));
  return h('ul', { class: 'winners', 'aria-label': 'Past winners', dataset: { testid: 'winners' } }, item('day', "Yesterday's winner:"), item('week', "Last week's winner:"));
}

function gameCard(game) {
  const boards = new Map();
  const boardEls = PERIODS.map((period) => {
    const { table, tbody } = boardTable(game, period);
    boards.set(period.id, tbody);
    return table;
  });
  const season = seasonBoard(game, (slug) => {
    const card = cards.find((c) => c.id === game.id);
    if (!card) return;
    card.season = slug;
    refreshSeasonBoard(card);
  });
  if (season) {
    boards.set('season', season.tbody);
    boardEls.push(season.table);
  }
  const winners = winnersLine();
  const titleId = `game-${game.id}-title`;
  const card = h(
    'article',
    { class: 'game-card', 'aria-labelledby': titleId, dataset: { testid: 'game-card', game: game.id } },
    h(
      'div',
      { class: 'game-card-head' },
      h('img', { class: 'game-art', src: `/assets/games/${encodeURIComponent(game.id)}/art.svg`, alt: '', width: 76, height: 76 }),
      h(
        'div',
        { class: 'game-card-text' },
        h('h3', { id: titleId }, game.title),
        h('p', null, game.description || ''),
      ),
      h('a', { class: 'button primary play-button', href: game.play_url || `/play/${encodeURIComponent(game.id)}`, dataset: { testid: `play-${game.id}` } }, 'Play'),
    ),
    h('div', { class: 'boards' }, ...boardEls),
    winners,
  );
  return { card, boards, winners };
}

async function loadGames() {
  statusEl.textContent = 'Loading games…';
  statusEl.hidden = false;
  statusEl.classList.remove('error');
  try {
    const data = await api.listGames();
    const games = Array.isArray(data?.games) ? data.games : [];
    if (games.length === 0) {
      statusEl.textContent = 'No games are available right now.';
      return;
    }
    // Seasons are extra: without them (or their list) the other boards show all the same.
    seasons = await api.seasons().then((d) => (Array.isArray(d?.seasons) ? d.seasons : []), () => []);
    statusEl.hidden = true;
    cards = games.map((game) => {
      const { card, boards, winners } = gameCard(game);
      gamesEl.append(card);
      return { id: game.id, title: game.title, boards, standing: null, winners, winnersOf: null, season: defaultSeason() };
    });
    setupStanding();
    await refresh();
    schedule();
  } catch (err) {
    statusEl.classList.add('error');
    const waiting = err instanceof ApiError && err.transient;
    statusEl.replaceChildren(
      waiting ? 'Waiting for the connection to the arcade… ' : `Could not load the games. ${err instanceof ApiError ? err.detail : ''} `,
      h('button', { type: 'button', class: 'button small', dataset: { testid: 'retry' } }, 'Try again'),
    );
    statusEl.querySelector('button').addEventListener('click', () => loadGames(), { once: true });
  }
}

function setupStanding() {
  if (!player) return;
  standingSection.hidden = false;
  standingBody.replaceChildren(
    h('p', { class: 'standing-intro' }, 'Playing as ', h('strong', null, player.name), '.'),
    ...cards.map((card) => {
      card.standing = h('div', { class: 'standing-game', dataset: { game: card.id } }, h('p', null, `${card.title}: loading…`));
      return card.standing;
    }),
    player.token ? dataActions(player) : null,
  );
}

/**
 * The player's own data, where this browser holds the token that claimed the name: download
 * it, or erase it (asked once more first), after which the name and token are forgotten here.
 */
function dataActions(me) {
  const message = h('p', { class: 'status', role: 'status', dataset: { testid: 'my-data-status' } });
  const download = h('button', { type: 'button', class: 'button small', dataset: { testid: 'download-my-data' } }, 'Download my data');
  const erase = h('button', { type: 'button', class: 'button small subtle', dataset: { testid: 'delete-my-data' } }, 'Delete my data');
  const confirmYes = h('button', { type: 'button', class: 'button small danger', dataset: { testid: 'confirm-delete' } }, 'Delete everything');
  const confirmNo = h('button', { type: 'button', class: 'button small', dataset: { testid: 'cancel-delete' } }, 'Keep my data');
  const confirm = h(
    'div',
    { class: 'data-actions', role: 'group', 'aria-label': 'Confirm deletion', hidden: true },
    h('span', null, `Delete ${me.name}, every score and replay? This cannot be undone.`),
    confirmYes,
    confirmNo,
  );
  const failed = (err) => {
    message.classList.add('error');
    message.textContent = err instanceof ApiError ? err.detail : 'Something went wrong. Please try again.';
  };
  download.addEventListener('click', async () => {
    download.disabled = true;
    try {
      saveJson('arcade-player-data.json', await api.exportOwnData(me.name, me.token));
      message.classList.remove('error');
      message.textContent = 'Your data was downloaded.';
    } catch (err) {
      failed(err);
    } finally {
      download.disabled = false;
    }
  });
  erase.addEventListener('click', () => {
    confirm.hidden = false;
    confirmNo.focus();
  });
  confirmNo.addEventListener('click', () => {
    confirm.hidden = true;
    erase.focus();
  });
  confirmYes.addEventListener('click', async () => {
    confirmYes.disabled = true;
    try {
      await api.eraseOwnData(me.name, me.token);
      forgetPlayer(me.name);
      player = null;
      standingBody.replaceChildren(h('p', { dataset: { testid: 'my-data-deleted' }, tabindex: '-1' }, `Your data was deleted. The name ${me.name} is free again.`));
      standingBody.firstChild.focus();
      refresh();
    } catch (err) {
      confirmYes.disabled = false;
      failed(err);
    }
  });
  return h('div', { class: 'my-data' }, h('div', { class: 'data-actions' }, download, erase), confirm, message);
}

/**
 * Yesterday's and last week's winners, from the boards of the day before `today` and of the
 * week before today's (the arcade's own days and weeks). Read again only when the day changes:
 * a finished board stays as it is.
 */
async function refreshWinners(card, today) {
  if (typeof today !== 'string' || card.winnersOf === today) return;
  card.winnersOf = today;
  const show = async (period, name) => {
    const slot = card.winners.querySelector(`[data-testid="winner-${period}"] .winner-name`);
    try {
      const data = await api.pastLeaderboard(card.id, period, name);
      const top = data?.entries?.[0];
      slot.replaceChildren(top ? h('strong', null, top.player) : 'nobody played', top ? ` ${formatNumber(top.score)}` : '');
    } catch {
      card.winnersOf = null;
      slot.replaceChildren('—');
    }
  };
  await Promise.all([show('day', addDays(today, -1)), show('week', isoWeek(addDays(today, -7)))]);
}

async function refreshBoard(card, period) {
  const tbody = card.boards.get(period);
  try {
    const data = await api.leaderboard(card.id, period, BOARD_LIMIT);
    if (period === 'day') refreshWinners(card, data?.date);
    renderLeaderboardRows(tbody, data?.entries ?? [], player?.name, period === 'day' ? 'No scores yet today. Be the first!' : undefined, card.id);
  } catch (err) {
    // Keep whatever the board showed last; only replace the loading text.
    if (tbody.querySelector('tr.empty')) {
      const waiting = err instanceof ApiError && (err.transient || err.status === 429);
      renderLeaderboardRows(tbody, [], null, waiting ? 'Waiting for the connection…' : `Could not load scores: ${err instanceof ApiError ? err.detail : 'unknown error'}`);
    }
  }
}

async function refreshSeasonBoard(card) {
  const tbody = card.boards.get('season');
  if (!tbody || !card.season) return;
  const slug = card.season;
  try {
    const data = await api.seasonLeaderboard(card.id, slug, BOARD_LIMIT);
    // The player may have picked another season meanwhile.
    if (card.season === slug) renderLeaderboardRows(tbody, data?.entries ?? [], player?.name, 'No scores in this season yet.', card.id);
  } catch (err) {
    if (card.season === slug) renderLeaderboardRows(tbody, [], null, `Could not load the season: ${err instanceof ApiError ? err.detail : 'unknown error'}`);
  }
}

async function refreshStanding(card) {
  if (!player || !card.standing) return;
  try {
    const data = await api.playerStanding(card.id, player.name, 'all');
    const best = data?.best;
    if (!best) {
      card.standing.replaceChildren(h('p', null, `${card.title}: no score yet. Play a round!`));
      return;
    }
    const summary = h(
      'p',
      { class: 'standing-summary' },
      `${card.title}: `,
      h('strong', { dataset: { testid: 'standing-rank' } }, formatRank(best.rank)),
      ' all time, best ',
      h('strong', { dataset: { testid: 'standing-score' } }, formatNumber(best.score)),
      best.achieved_at ? ` (${formatWhen(best.achieved_at)})` : '',
    );
    const neighbours = Array.isArray(data.neighbours) ? data.neighbours : [];
    const parts = [summary];
    if (neighbours.length > 0) {
      const tbody = h('tbody');
      renderLeaderboardRows(tbody, neighbours, player.name);
      parts.push(
        h(
          'table',
          { class: 'board compact' },
          h('caption', { class: 'visually-hidden' }, `Players around you in ${card.title}`),
          h('thead', null, h('tr', null, h('th', { scope: 'col', class: 'rank' }, 'Rank'), h('th', { scope: 'col' }, 'Player'), h('th', { scope: 'col', class: 'score' }, 'Score'))),
          tbody,
        ),
      );
    }
    card.standing.replaceChildren(...parts);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      card.standing.replaceChildren(h('p', null, `${card.title}: no score yet. Play a round!`));
    } else if (card.standing.textContent.endsWith('loading…')) {
      card.standing.replaceChildren(h('p', null, `${card.title}: could not load your standing right now.`));
    }
  }
}

async function refresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    const jobs = [];
    for (const card of cards) {
      for (const period of PERIODS) jobs.push(refreshBoard(card, period.id));
      jobs.push(refreshSeasonBoard(card));
      jobs.push(refreshStanding(card));
    }
    await Promise.all(jobs);
  } finally {
    refreshing = false;
  }
}

function schedule() {
  clearInterval(timer);
  timer = null;
  if (document.visibilityState === 'visible' && cards.length > 0) {
    timer = setInterval(refresh, REFRESH_MS);
  }
}

// Back online: whatever could not load is loaded now.
window.addEventListener('online', () => {
  if (cards.length > 0) refresh();
  else if (!statusEl.hidden) loadGames();
});

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && cards.length > 0) refresh();
  schedule();
});

// Coming back through the browser's back/forward cache: show fresh scores.
window.addEventListener('pageshow', (event) => {
  if (event.persisted && cards.length > 0) {
    refresh();
    schedule();
  }
});

// Boards move live: any score or top-10 change refreshes them (coalesced, at most every 1 s).
let liveTimer = null;
followLive({}, () => {
  if (liveTimer || document.visibilityState !== 'visible' || cards.length === 0) return;
  liveTimer = setTimeout(() => {
    liveTimer = null;
    refresh();
  }, 1000);
});

loadGames();
