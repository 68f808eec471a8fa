// Thin wrapper around the Arcade HTTP API plus the small bits of state the
// browser remembers (player name, player token, sound preference).
//
// Every error the server returns is an RFC 9457 problem document
// (`application/problem+json`: {type, title, status, detail, request_id}).
// Failed calls reject with an ApiError carrying those fields so callers can
// show `detail` to the player and branch on `type` / `status`.

export class ApiError extends Error {
  constructor({ status = 0, type = 'about:blank', title = '', detail = '', requestId = null, retryAfter = null } = {}) {
    super(detail || title || `Request failed (${status})`);
    this.name = 'ApiError';
    this.status = status;
    this.type = type;
    this.title = title;
    this.detail = detail || title || defaultDetail(status);
    this.requestId = requestId;
    this.retryAfter = retryAfter;
  }

  /** True for failures worth retrying: the network, or the server being briefly unavailable. */
  get transient() {
    return this.status === 0 || this.status === 502 || this.status === 503 || this.status === 504;
  }
}

function defaultDetail(status) {
  if (status === 0) return 'Could not reach the arcade server. Check your connection.';
  if (status === 429) return 'Too many requests. Please wait a moment.';
  if (status >= 500) return 'The arcade server had a problem. Please try again.';
  return `Request failed (${status}).`;
}

function parseRetryAfter(value) {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  if (Number.isFinite(date)) return Math.max(0, Math.round((date - Date.now()) / 1000));
  return null;
}

/**
 * Perform a JSON request, with `token` as its bearer token when given. Resolves with the
 * parsed body (or null for an empty body); rejects with ApiError.
 */
export async function request(method, path, body, { signal, token } = {}) {
  const init = { method, headers: { Accept: 'application/json' }, signal, credentials: 'same-origin' };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError({ status: 0, type: 'network_error' });
  }
  const text = await response.text().catch(() => '');
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const problem = data && typeof data === 'object' ? data : {};
    throw new ApiError({
      status: response.status,
      type: typeof problem.type === 'string' ? problem.type : 'about:blank',
      title: typeof problem.title === 'string' ? problem.title : response.statusText,
      detail: typeof problem.detail === 'string' ? problem.detail : '',
      requestId: problem.request_id ?? response.headers.get('x-request-id'),
      retryAfter: parseRetryAfter(response.headers.get('Retry-After')),
    });
  }
  return data;
}

const enc = encodeURIComponent;

export const api = {
  listGames: (opts) => request('GET', '/api/games', undefined, opts),

  leaderboard: (game, period = 'all', limit = 10, opts) =>
    request('GET', `/api/games/${enc(game)}/leaderboard?period=${enc(period)}&limit=${limit}`, undefined, opts),

  /** The board of a day (`YYYY-MM-DD`) or an ISO week (`YYYY-Www`) that is over. */
  pastLeaderboard: (game, period, name, limit = 1, opts) => {
    const which = period === 'week' ? 'week' : 'date';
    return request('GET', `/api/games/${enc(game)}/leaderboard?period=${enc(period)}&${which}=${enc(name)}&limit=${limit}`, undefined, opts);
  },

  /** The seasons operators defined, newest first. */
  seasons: (opts) => request('GET', '/api/seasons', undefined, opts),

  /** A season's board: each player's best within it. */
  seasonLeaderboard: (game, season, limit = 10, opts) =>
    request('GET', `/api/games/${enc(game)}/leaderboard?season=${enc(season)}&limit=${limit}`, undefined, opts),

  playerStanding: (game, name, period = 'all', opts) =>
    request('GET', `/api/games/${enc(game)}/players/${enc(name)}?period=${enc(period)}`, undefined, opts),

  startSession: (game, player, token) => {
    const body = { player };
    if (token) body.token = token;
    return request('POST', `/api/games/${enc(game)}/sessions`, body);
  },

  heartbeat: (sessionId, payload) => request('POST', `/api/sessions/${enc(sessionId)}/heartbeat`, payload),

  finish: (sessionId, payload) => request('POST', `/api/sessions/${enc(sessionId)}/finish`, payload),

  /** Report a name for an operator's review (no token: nothing of who reports is kept). */
  report: (player, reason) => request('POST', '/api/reports', reason ? { player, reason } : { player }),

  /** Report a score as a board shows it (its game, score and time) for an operator's review. */
  reportScore: (game, entry) => request('POST', '/api/reports', { player: entry.player, shown: { game, score: entry.score, achieved_at: entry.achieved_at } }),

  /** Everything the arcade keeps of the player whose token this is. */
  exportOwnData: (player, token) => request('GET', `/api/players/${enc(player)}/export`, undefined, { token }),

  /** Erase the player whose token this is: name, scores, replays, reports about them. */
  eraseOwnData: (player, token) => request('DELETE', `/api/players/${enc(player)}`, undefined, { token }),
};

/** Offer `data` as a JSON file download named `filename`. */
export function saveJson(filename, data) {
  const url = URL.createObjectURL(new Blob([`${JSON.stringify(data, null, 2)}\n`], { type: 'application/json' }));
  const link = h('a', { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A small button that reports in one click (`send` makes the report), then says it did. */
function reportButton(label, send, kind = 'report-name') {
  const button = h('button', { type: 'button', class: kind, title: label, 'aria-label': label }, '⚑');
  button.addEventListener('click', async (event) => {
    event.stopPropagation();
    button.disabled = true;
    try {
      await send();
      button.replaceWith(h('span', { class: 'reported' }, 'reported'));
    } catch (err) {
      button.disabled = false;
      button.title = err instanceof ApiError && err.status === 429 ? 'Too many reports: try again in a minute' : 'Could not report: try again';
    }
  });
  return button;
}

// ---------------------------------------------------------------------------
// Remembered player and preferences (localStorage may be unavailable).

const PLAYER_KEY = 'arcade.player';
const TOKENS_KEY = 'arcade.tokens';
const SOUND_KEY = 'arcade.sound';

function readJson(key, fallback) {
  try {
    const raw = localStorage.getItem(key);
    return raw ? JSON.parse(raw) : fallback;
  } catch {
    return fallback;
  }
}

function writeJson(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    /* storage full or disabled: nothing to remember then */
  }
}

export const NAME_MAX = 24;

/** Tidy a typed name the way players expect: trimmed, inner whitespace collapsed. */
export function cleanName(name) {
  return String(name ?? '').normalize('NFC').trim().replace(/\s+/g, ' ');
}

/** Returns an error message, or '' when the name is acceptable to send. */
export function validateName(name) {
  const length = [...name].length;
  if (length === 0) return 'Please enter a name.';
  if (length > NAME_MAX) return `Names can be at most ${NAME_MAX} characters.`;
  return '';
}

/** The remembered player: {name, token} (token may be null), or null. */
export function storedPlayer() {
  const player = readJson(PLAYER_KEY, null);
  if (!player || typeof player.name !== 'string' || !player.name) return null;
  return { name: player.name, token: tokenFor(player.name) };
}

export function tokenFor(name) {
  const tokens = readJson(TOKENS_KEY, {});
  const token = tokens && typeof tokens === 'object' ? tokens[cleanName(name)] : null;
  return typeof token === 'string' && token ? token : null;
}

/** Remember the player's name, and their token when the server just issued one. */
export function rememberPlayer(name, token, alsoAs) {
  const clean = cleanName(name);
  writeJson(PLAYER_KEY, { name: clean });
  if (token) {
    const tokens = readJson(TOKENS_KEY, {});
    const next = tokens && typeof tokens === 'object' ? tokens : {};
    next[clean] = token;
    if (alsoAs && cleanName(alsoAs) !== clean) next[cleanName(alsoAs)] = token;
    writeJson(TOKENS_KEY, next);
  }
}

/** Forget a player whose data was erased: their token, and them as the remembered player. */
export function forgetPlayer(name) {
  const clean = cleanName(name);
  const tokens = readJson(TOKENS_KEY, {});
  if (tokens && typeof tokens === 'object') {
    // The same token may be kept under another spelling of the name too.
    const mine = tokens[clean];
    for (const [key, token] of Object.entries(tokens)) {
      if (key === clean || (mine && token === mine)) delete tokens[key];
    }
    writeJson(TOKENS_KEY, tokens);
  }
  if (cleanName(readJson(PLAYER_KEY, null)?.name) === clean) {
    try {
      localStorage.removeItem(PLAYER_KEY);
    } catch {
      /* storage disabled: nothing was remembered */
    }
  }
}

export function soundEnabled() {
  return readJson(SOUND_KEY, false) === true;
}

export function setSoundEnabled(on) {
  writeJson(SOUND_KEY, Boolean(on));
}

// ---------------------------------------------------------------------------
// Small DOM helpers shared by the pages.

/** Create an element: h('td', {class: 'x', dataset: {testid: 'y'}}, 'text', child). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') el.className = value;
      else if (key === 'dataset') Object.assign(el.dataset, value);
      else if (key === 'text') el.textContent = value;
      else el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** A line of instructions, with each `[Key]` shown as a key: nodes to append to an element. */
export function textWithKeys(text) {
  return String(text)
    .split(/(\[[^\]]+\])/)
    .filter(Boolean)
    .map((part) => (/^\[[^\]]+\]$/.test(part) ? h('kbd', null, part.slice(1, -1)) : part));
}

const numberFormat = new Intl.NumberFormat();
export const formatNumber = (n) => (typeof n === 'number' ? numberFormat.format(n) : '—');

export function formatRank(rank) {
  return typeof rank === 'number' && rank > 0 ? `#${numberFormat.format(rank)}` : '—';
}

const relative = typeof Intl.RelativeTimeFormat === 'function' ? new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' }) : null;

/** "3 min ago", "yesterday", or a date for older moments. */
export function formatWhen(iso) {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '';
  const seconds = Math.round((t - Date.now()) / 1000);
  const abs = Math.abs(seconds);
  if (relative) {
    if (abs < 45) return relative.format(0, 'second');
    if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
    if (abs < 86400) return relative.format(Math.round(seconds / 3600), 'hour');
    if (abs < 7 * 86400) return relative.format(Math.round(seconds / 86400), 'day');
  }
  return new Date(t).toLocaleDateString();
}

/**
 * Fill a <tbody> with leaderboard entries. Rows carry data-testid
 * "leaderboard-row" plus data-player / data-score for readers and tests.
 */
/**
 * Fill a board's rows. Others' rows offer to report the name, and with `game` (a board of
 * that game's scores) the score as well.
 */
export function renderLeaderboardRows(tbody, entries, highlightName, emptyText = 'No scores yet. Be the first!', game = null) {
  const highlight = highlightName ? cleanName(highlightName).toLowerCase() : null;
  const rows = [];
  if (!entries || entries.length === 0) {
    rows.push(h('tr', { class: 'empty' }, h('td', { colspan: 3 }, emptyText)));
  } else {
    for (const entry of entries) {
      const mine = highlight !== null && cleanName(entry.player).toLowerCase() === highlight;
      const when = formatWhen(entry.achieved_at);
      const nameCell = h('td', { class: 'player' }, entry.player);
      if (mine) nameCell.append(h('span', { class: 'you-badge' }, 'you'));
      else nameCell.append(reportButton(`Report the name ${entry.player}`, () => api.report(entry.player)));
      const scoreCell = h('td', { class: 'score' }, formatNumber(entry.score));
      if (!mine && game && entry.achieved_at) {
        scoreCell.prepend(reportButton(`Report the score ${formatNumber(entry.score)} of ${entry.player}`, () => api.reportScore(game, entry), 'report-score'));
      }
      rows.push(
        h(
          'tr',
          {
            class: mine ? 'mine' : null,
            title: when ? `${entry.player}: ${formatNumber(entry.score)} (${when})` : null,
            dataset: { testid: 'leaderboard-row', player: entry.player, score: String(entry.score), rank: String(entry.rank) },
          },
          h('td', { class: 'rank' }, formatRank(entry.rank)),
          nameCell,
          scoreCell,
        ),
      );
    }
  }
  tbody.replaceChildren(...rows);
}

/**
 * Follow live leaderboard changes (server-sent events). `onChange(kind, data)` is called for
 * `score`, `top`, `overtaken` and `reset`. The browser reconnects by itself and resumes with
 * Last-Event-ID, so nothing is missed across short drops. Returns a function that stops it.
 */
export function followLive({ game, player } = {}, onChange) {
  if (typeof EventSource === 'undefined') return () => {};
  const params = new URLSearchParams();
  if (game) params.set('game', game);
  if (game && player) params.set('player', player);
  const query = params.toString();
  const source = new EventSource(`/api/events${query ? `?${query}` : ''}`);
  for (const kind of ['score', 'top', 'overtaken', 'reset']) {
    source.addEventListener(kind, (event) => {
      let data = null;
      try {
        data = JSON.parse(event.data);
      } catch {
        data = null;
      }
      onChange(kind, data);
    });
  }
  return () => source.close();
}
