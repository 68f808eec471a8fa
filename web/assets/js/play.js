// The game page's shell, the same for every game: name entry, the session (start, heartbeat,
// finish, and the game's windows of randomness, fetched as it plays), the score bar,
// countdown, pause (recorded, with the time the game's clock stood still), restart and quit,
// sound, and the game-over screen with its boards. The game itself (simulation, drawing,
// input) is the module /assets/games/{game}/game.js, which exports `meta` (what the shell
// shows of it) and `createGame(stage, options)`; docs/games/adding-a-game.md describes the
// contract.

import {
  api,
  ApiError,
  followLive,
  h,
  cleanName,
  validateName,
  storedPlayer,
  tokenFor,
  rememberPlayer,
  soundEnabled,
  setSoundEnabled,
  renderLeaderboardRows,
  formatNumber,
  formatRank,
  textWithKeys,
} from '/assets/js/api.js';

const $ = (id) => document.getElementById(id);

const els = {
  title: $('game-title'),
  description: $('game-description'),
  howTo: $('how-to'),
  setup: $('setup'),
  form: $('start-form'),
  name: $('player-name'),
  start: $('start-button'),
  formError: $('form-error'),
  playArea: $('play-area'),
  hudFields: $('hud-fields'),
  stage: $('stage'),
  soundButton: $('sound-button'),
  restartButton: $('restart-button'),
  quitButton: $('quit-button'),
  pauseButton: $('pause-button'),
  pauseOverlay: $('pause-overlay'),
  countdown: $('countdown'),
  confirm: $('confirm'),
  confirmTitle: $('confirm-title'),
  confirmYes: $('confirm-yes'),
  confirmNo: $('confirm-no'),
  stageMessage: $('stage-message'),
  netStatus: $('net-status'),
  gameOver: $('game-over'),
  resultStatus: $('result-status'),
  resultDetails: $('result-details'),
  scoreLabel: $('score-label'),
  verifiedScore: $('verified-score'),
  rankAll: $('rank-all'),
  rankDay: $('rank-day'),
  pbBox: $('pb-box'),
  personalBest: $('personal-best'),
  newPb: $('new-pb'),
  resultStats: $('result-stats'),
  again: $('again-button'),
  rename: $('rename-button'),
  boardDay: $('board-day'),
  boardAll: $('board-all'),
  fatal: $('fatal'),
};

const FINISH_MAX_ATTEMPTS = 9; // 1+2+4+8+16+30+30+30 s of waiting, then ask the player
const FINISH_MAX_DELAY_MS = 30_000;
const COUNTDOWN_STEP_MS = 600;
/** The countdown's length: 3, 2, 1 and a half step of "Go!". */
const COUNTDOWN_MS = 3.5 * COUNTDOWN_STEP_MS;
/** Time the game's clock fell behind the wall clock (a stall, a wait for a window) that is
 * recorded as a pause; less is within the server's slack. */
const STALL_MS = 1000;
/** How often the shell looks whether the next window is due. */
const WINDOW_CHECK_MS = 250;

const gameId = parseGameId(location.pathname);
let gameModule = null;
let meta = null;
let gameInfo = null;
let game = null; // the game being played: the module's handle
let session = null; // see beginPlay
let playerName = '';
let best = null; // the player's best in this game, all time (null: none yet or unknown)
let starting = false;

function parseGameId(pathname) {
  const match = /^\/play\/([a-z0-9][a-z0-9-]{0,63})\/?$/.exec(pathname);
  return match ? match[1] : null;
}

function showOnly(section) {
  for (const el of [els.setup, els.playArea, els.gameOver, els.fatal]) el.hidden = el !== section;
  // While a game is on screen the page itself never scrolls (wheel, keys or touch).
  document.documentElement.classList.toggle('playing', section === els.playArea);
  if (section === els.playArea) window.scrollTo(0, 0);
}

function fatal(message, linkHome = true) {
  els.fatal.replaceChildren(h('h2', null, 'Something went wrong'), h('p', null, message));
  if (linkHome) els.fatal.append(h('p', null, h('a', { class: 'button', href: '/' }, 'Back to the Arcade')));
  showOnly(els.fatal);
}

function setFormError(message) {
  els.formError.textContent = message;
  els.name.setAttribute('aria-invalid', message ? 'true' : 'false');
}

// ---------------------------------------------------------------------------
// Sound: short WebAudio tones, off by default; each game names its sounds in `meta.sounds`.

let audio = null;
let soundOn = soundEnabled();

function ensureAudio() {
  if (!audio) {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    audio = new Ctx();
  }
  if (audio.state === 'suspended') audio.resume().catch(() => {});
  return audio;
}

function tone({ freq, start = 0, duration, type = 'square', volume = 0.05, slideTo = 0 }) {
  const ac = audio;
  const osc = ac.createOscillator();
  const gain = ac.createGain();
  const t0 = ac.currentTime + start;
  osc.type = type;
  osc.frequency.setValueAtTime(freq, t0);
  if (slideTo) osc.frequency.exponentialRampToValueAtTime(slideTo, t0 + duration);
  gain.gain.setValueAtTime(0.0001, t0);
  gain.gain.exponentialRampToValueAtTime(volume, t0 + 0.01);
  gain.gain.exponentialRampToValueAtTime(0.0001, t0 + duration);
  osc.connect(gain).connect(ac.destination);
  osc.start(t0);
  osc.stop(t0 + duration + 0.02);
}

function playSound(kind) {
  if (!soundOn || !audio || audio.state !== 'running') return;
  const tones = meta?.sounds?.[kind];
  if (Array.isArray(tones)) for (const t of tones) tone(t);
}

function renderSoundButton() {
  els.soundButton.setAttribute('aria-pressed', String(soundOn));
  els.soundButton.classList.toggle('on', soundOn);
  els.soundButton.title = soundOn ? 'Sound on (M to mute)' : 'Sound off (M to unmute)';
  els.soundButton.querySelector('.visually-hidden').textContent = soundOn ? 'Sound on' : 'Sound off';
}

function toggleSound() {
  soundOn = !soundOn;
  setSoundEnabled(soundOn);
  if (soundOn && ensureAudio()) tone({ freq: 660, duration: 0.06, volume: 0.03 });
  renderSoundButton();
}

// ---------------------------------------------------------------------------
// Score bar: the fields the game names in `meta.hud`, and the player's best after the score.

const hud = new Map(); // key -> {field, value, icons}
let lastHud = {};

function buildHud() {
  hud.clear();
  const fields = [];
  const spec = Array.isArray(meta.hud) ? meta.hud : [{ key: 'score', label: 'Score' }];
  for (const field of spec) {
    fields.push(field);
    if (field.key === 'score') fields.push({ key: 'best', label: 'Best' });
  }
  els.hudFields.replaceChildren(
    ...fields.map((field) => {
      const value = h('span', {
        class: `hud-value${field.icons ? ' icons' : ''}`,
        dataset: { testid: `hud-${field.key}` },
        role: field.icons ? 'img' : null,
      });
      const icons = [];
      for (let i = 0; i < (field.icons || 0); i++) {
        const icon = h('span', { class: field.iconClass || 'hud-icon', 'aria-hidden': 'true' });
        icons.push(icon);
        value.append(icon);
      }
      hud.set(field.key, { field, value, icons });
      return h('div', { class: `hud-item hud-${field.key}` }, h('span', { class: 'hud-label' }, field.label), value);
    }),
  );
  lastHud = {};
}

function updateHud(values) {
  lastHud = { ...lastHud, ...values };
  for (const [key, { field, value, icons }] of hud) {
    const v = key === 'best' ? Math.max(best ?? 0, lastHud.score ?? 0) : lastHud[key];
    if (icons.length > 0) {
      for (let i = 0; i < icons.length; i++) icons[i].classList.toggle('lost', i >= (v ?? 0));
      value.setAttribute('aria-label', typeof field.describe === 'function' ? field.describe(v ?? 0) : `${field.label}: ${v ?? 0}`);
    } else {
      value.textContent = typeof v === 'number' ? formatNumber(v) : '—';
    }
  }
}

// ---------------------------------------------------------------------------
// Fit the field into the window: it takes the room left by the score bar and the status line,
// beside the score bar when the window is wide and short (a phone held sideways).

function fitStage() {
  if (els.playArea.hidden || !meta) return;
  const aspect = meta.aspect || 1;
  const viewport = window.visualViewport ? window.visualViewport.height : window.innerHeight;
  const side = window.innerWidth > window.innerHeight && viewport < 600;
  els.playArea.classList.toggle('side', side);
  const wrap = els.playArea.getBoundingClientRect();
  const hudBox = els.playArea.querySelector('.hud').getBoundingClientRect();
  const status = els.netStatus.getBoundingClientRect().height || 24;
  const top = wrap.top + window.scrollY;
  let width;
  if (side) {
    const room = viewport - top - 8;
    width = Math.min(wrap.width - hudBox.width - 12, room * aspect);
  } else {
    const room = viewport - top - hudBox.height - status - 12;
    width = Math.min(wrap.width, room * aspect, 640 * aspect);
  }
  els.playArea.style.setProperty('--stage-width', `${Math.max(160, Math.floor(width))}px`);
}
window.addEventListener('resize', fitStage);
if (window.visualViewport) window.visualViewport.addEventListener('resize', fitStage);

// Nothing scrolls the page mid-game: not the wheel, not a finger on the field.
window.addEventListener(
  'wheel',
  (e) => {
    if (!els.playArea.hidden) e.preventDefault();
  },
  { passive: false },
);
els.stage.addEventListener('touchmove', (e) => e.preventDefault(), { passive: false });

// ---------------------------------------------------------------------------
// Pause, restart and quit

function setPausedLook(paused) {
  els.pauseButton.setAttribute('aria-pressed', String(paused));
  els.pauseButton.classList.toggle('on', paused);
  els.pauseButton.title = paused ? 'Resume (P)' : 'Pause (P)';
  els.pauseButton.querySelector('.visually-hidden').textContent = paused ? 'Resume' : 'Pause';
}

function pauseGame() {
  if (!game || !game.running || game.paused) return;
  game.pause();
  if (session) session.pausedAt = performance.now();
  setPausedLook(true);
  if (els.confirm.hidden) {
    els.pauseOverlay.hidden = false;
    els.pauseOverlay.focus({ preventScroll: true });
  }
}

function resumeGame() {
  if (!game || !game.running || !game.paused || !els.confirm.hidden) return;
  els.pauseOverlay.hidden = true;
  setPausedLook(false);
  if (session && session.pausedAt !== null) {
    recordPause(session, game.sim.tick, performance.now() - session.pausedAt);
    session.pausedAt = null;
  }
  game.resume();
  focusGame();
}

function togglePause() {
  if (!game || !game.running) return;
  if (game.paused) resumeGame();
  else pauseGame();
}

function focusGame() {
  const target = els.stage.querySelector('[tabindex="0"]') || els.stage;
  target.focus({ preventScroll: true });
}

/** Ask before ending a game in progress: `what` is 'restart' or 'quit'. */
function askToEnd(what) {
  if (!game || !session || session.closed) return;
  if (!game.running) {
    // Still counting down: nothing was played yet.
    endGame(what);
    return;
  }
  pauseGame();
  els.pauseOverlay.hidden = true;
  els.confirm.dataset.action = what;
  els.confirmTitle.textContent = what === 'restart' ? 'Restart this game?' : 'Quit this game?';
  els.confirmYes.textContent = what === 'restart' ? 'Restart' : 'Quit';
  els.confirm.hidden = false;
  els.confirmNo.focus({ preventScroll: true });
}

function closeConfirm() {
  els.confirm.hidden = true;
  delete els.confirm.dataset.action;
}

function endGame(what) {
  closeConfirm();
  abandon();
  if (what === 'restart') startGame(playerName);
  else showSetup();
}

/** Stop the game on screen; its session is left to expire on the server, unsaved. */
function abandon() {
  stopCountdown();
  if (session) {
    session.closed = true;
    clearInterval(session.timer);
    clearInterval(session.windowTimer);
  }
  if (game) {
    game.destroy();
    game = null;
  }
  session = null;
}

els.confirmYes.addEventListener('click', () => endGame(els.confirm.dataset.action));
els.confirmNo.addEventListener('click', () => {
  closeConfirm();
  resumeGame();
});
els.restartButton.addEventListener('click', () => askToEnd('restart'));
els.quitButton.addEventListener('click', () => askToEnd('quit'));
els.pauseButton.addEventListener('click', togglePause);
els.pauseOverlay.addEventListener('click', resumeGame);
els.soundButton.addEventListener('click', toggleSound);

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') pauseGame();
});
window.addEventListener('blur', pauseGame);

window.addEventListener('keydown', (e) => {
  if (els.playArea.hidden || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA')) return;
  if (!els.confirm.hidden) {
    if (e.key === 'Escape') {
      e.preventDefault();
      closeConfirm();
      resumeGame();
    }
    return;
  }
  if (!game) return;
  if (e.key === 'p' || e.key === 'P' || e.key === 'Escape') {
    e.preventDefault();
    if (!e.repeat) togglePause();
  } else if (e.key === 'm' || e.key === 'M') {
    if (!e.repeat) toggleSound();
  } else if (e.key === 'r' || e.key === 'R') {
    if (!e.repeat) askToEnd('restart');
  } else if (e.key === 'q' || e.key === 'Q') {
    if (!e.repeat) askToEnd('quit');
  } else if (e.key === ' ' || e.key.startsWith('Arrow') || e.key === 'PageUp' || e.key === 'PageDown' || e.key === 'Home' || e.key === 'End') {
    // Keep the page still while playing (a focused button still gets its Space).
    if (!(t && t.tagName === 'BUTTON' && e.key === ' ')) e.preventDefault();
  }
});

// ---------------------------------------------------------------------------
// Countdown: 3, 2, 1 before the game's clock starts.

let countdownTimer = 0;

function stopCountdown() {
  clearTimeout(countdownTimer);
  countdownTimer = 0;
  els.countdown.hidden = true;
}

function countdown(onDone) {
  stopCountdown();
  let n = 3;
  const show = () => {
    els.countdown.textContent = n > 0 ? String(n) : 'Go!';
    els.countdown.classList.remove('tick');
    void els.countdown.offsetWidth; // restart the pulse animation
    els.countdown.classList.add('tick');
    if (n > 0) playSound('countdown');
    if (n < 0) {
      stopCountdown();
      onDone();
      return;
    }
    n--;
    countdownTimer = setTimeout(show, n < 0 ? COUNTDOWN_STEP_MS / 2 : COUNTDOWN_STEP_MS);
  };
  els.countdown.hidden = false;
  show();
}

// ---------------------------------------------------------------------------
// Session: start, heartbeat, finish

function setNetStatus(message) {
  els.netStatus.textContent = message;
}

async function loadBest(name) {
  try {
    const data = await api.playerStanding(gameId, name, 'all');
    best = typeof data?.best?.score === 'number' ? data.best.score : null;
  } catch {
    // 404: no score yet; anything else: unknown for now. The bar shows this game's score.
    best = null;
  }
  updateHud({});
}

async function startGame(name) {
  if (starting) return;
  const clean = cleanName(name);
  const problem = validateName(clean);
  if (problem) {
    showOnly(els.setup);
    setFormError(problem);
    els.name.focus();
    return;
  }
  starting = true;
  els.start.disabled = true;
  els.again.disabled = true;
  const previousLabel = els.start.textContent;
  els.start.textContent = 'Starting…';
  setFormError('');
  try {
    const info = await api.startSession(gameId, clean, tokenFor(clean));
    const serverName = info?.player?.name || clean;
    rememberPlayer(serverName, info?.player?.token, clean);
    if (serverName !== playerName) best = null;
    playerName = serverName;
    if (meta.rulesVersion !== undefined && info.rules_version !== undefined && info.rules_version !== meta.rulesVersion) {
      fatal('This page is out of date with the server. Please reload the page to get the latest version of the game.');
      return;
    }
    beginPlay(info);
    loadBest(serverName);
  } catch (err) {
    showOnly(els.setup);
    setFormError(startErrorMessage(err, clean));
    els.name.focus();
    els.name.select();
  } finally {
    starting = false;
    els.start.disabled = false;
    els.again.disabled = false;
    els.start.textContent = previousLabel;
  }
}

function startErrorMessage(err, name) {
  if (!(err instanceof ApiError)) return 'Could not start the game. Please try again.';
  if (err.status === 0) return 'Could not reach the arcade server. Check your connection and try again.';
  if (err.status === 401 || err.type === 'player_token_invalid') {
    return `The name “${name}” already belongs to another player. Please pick a different name.`;
  }
  if (err.status === 422 || err.type === 'invalid_player_name') {
    return `That name can't be used: ${err.detail}`;
  }
  if (err.status === 429 || err.type === 'rate_limited') {
    const wait = err.retryAfter ? ` Try again in ${Math.ceil(err.retryAfter)} s.` : ' Please wait a moment.';
    return `Too many games started in a short time.${wait}`;
  }
  return `Could not start the game: ${err.detail}`;
}

function beginPlay(info) {
  abandon();
  const tickMs = 1000 / (Number(info.tick_hz) || 60);
  session = {
    id: info.session_id,
    // The session signed by the server, sent with every request: should the server lose the
    // session, it puts it back from the ticket and every input sent again (`session_lost`).
    ticket: typeof info.ticket === 'string' ? info.ticket : undefined,
    resend: false,
    acked: 0,
    heartbeatMs: Math.max(500, Number(info.heartbeat_interval_ms) || 2000),
    timer: 0,
    windowTimer: 0,
    inflight: null,
    lastSentAt: 0,
    closed: false,
    // Windows: the next is asked for once the game is this close to it.
    windowTicks: Number(info.window_ticks) || 600,
    revealTicks: Number(info.reveal_ticks) || 240,
    // Pauses: [tick, ms] pairs, every one sent with each request; `sentPauses` of them were
    // sent already (a later pause at the same tick may only join one not sent yet).
    pauses: [],
    sentPauses: 0,
    pausedMs: 0,
    pausedAt: null,
    pauseBudgetMs: Number(info.pause_budget_ms) || Infinity,
    // Where the game's clock would be if it never stood still: the countdown after the answer.
    clockStart: performance.now() + COUNTDOWN_MS,
    tickMs,
    refused: null,
  };
  closeConfirm();
  els.pauseOverlay.hidden = true;
  els.stageMessage.hidden = true;
  setPausedLook(false);
  setNetStatus('');
  buildHud();
  showOnly(els.playArea);
  fitStage();

  const s = session;
  game = gameModule.createGame(els.stage, {
    seed: info.seed,
    onHud: updateHud,
    onEvent: playSound,
    onWait: (waiting) => showWaiting(s, waiting),
    onGameOver: () => finishGame(s),
  });
  els.stage.readGameState = () => (game ? game.state() : null);
  focusGame();
  countdown(() => {
    if (s !== session || !game) return;
    game.start();
    focusGame();
    s.timer = setInterval(() => sendHeartbeat(s), s.heartbeatMs);
    s.windowTimer = setInterval(() => askForWindow(s), WINDOW_CHECK_MS);
  });
}

/**
 * Records that the game stood still `ms` at `tick`: the server lets game time fall behind the
 * wall clock only by what pauses account for, within the session's budget.
 */
function recordPause(s, tick, ms) {
  const whole = Math.round(ms);
  if (whole < 1) return;
  const last = s.pauses[s.pauses.length - 1];
  if (last && s.pauses.length > s.sentPauses && last[0] === tick) last[1] += whole;
  else s.pauses.push([tick, whole]);
  s.pausedMs += whole;
}

/** Records as a pause the time the game's clock fell behind (stalls, waits for a window). */
function recordStall(s, sim) {
  const behind = performance.now() - s.clockStart - sim.tick * s.tickMs - s.pausedMs;
  if (behind >= STALL_MS) recordPause(s, sim.tick, behind);
}

/** Over the field while the game waits for its next window, or can no longer be saved. */
function showWaiting(s, waiting) {
  if (s !== session) return;
  if (s.refused) {
    els.stageMessage.textContent = s.refused;
    els.stageMessage.hidden = false;
    return;
  }
  els.stageMessage.textContent = 'Waiting for the connection…';
  els.stageMessage.hidden = !waiting;
  if (waiting) sendHeartbeat(s);
}

/** Sends a heartbeat at once when the game nears the end of the windows it holds. */
function askForWindow(s) {
  if (!game || s !== session || s.closed || s.inflight || game.paused) return;
  const sim = game.sim;
  const end = sim.revealed * s.windowTicks;
  // A little inside the reveal distance, so the server's clock agrees too.
  const due = sim.tick + s.revealTicks - 30 >= end || (game.state().waiting && !s.refused);
  if (due && performance.now() - s.lastSentAt >= 1000) sendHeartbeat(s);
}

/**
 * The inputs that can no longer change: one recorded at the current tick may still be replaced
 * before the next step, and sending it early would make the next batch conflict.
 */
function finalInputs(sim) {
  const inputs = sim.inputs;
  const last = inputs[inputs.length - 1];
  return last && last[0] >= sim.tick ? inputs.slice(0, -1) : inputs;
}

function batchFrom(s, sim) {
  recordStall(s, sim);
  const inputs = finalInputs(sim);
  const offset = Math.min(s.acked, inputs.length);
  s.sentPauses = s.pauses.length;
  return {
    offset,
    inputs: inputs.slice(offset),
    tick: sim.tick,
    score: sim.score,
    pauses: s.pauses.map(([tick, ms]) => [tick, ms]),
    ticket: s.ticket,
  };
}

function sendHeartbeat(s) {
  // While paused nothing moves: the pause is sent once it ends, with its length.
  if (!game || s !== session || s.closed || s.inflight || game.paused) return;
  const sim = game.sim;
  const body = batchFrom(s, sim);
  s.lastSentAt = performance.now();
  s.inflight = api
    .heartbeat(s.id, body)
    .then((res) => {
      if (typeof res?.accepted_inputs === 'number') {
        s.acked = Math.max(0, Math.min(res.accepted_inputs, sim.inputs.length));
      }
      const w = res?.window;
      if (game && s === session && w && w.index === sim.revealed && Number.isInteger(w.seed)) {
        game.reveal(w.seed);
      }
      if (!s.closed) setNetStatus('');
    })
    .catch((err) => {
      if (s.closed) return;
      if (err instanceof ApiError && err.type === 'session_lost') {
        // The server lost the session (its store restarted): send every input again, with
        // the ticket, and the game goes on.
        s.acked = 0;
        s.resend = true;
      } else if (err instanceof ApiError && (err.status === 404 || err.status === 410)) {
        setNetStatus('This game session has ended on the server, so this score cannot be saved.');
      } else if (err instanceof ApiError && err.type === 'replay_rejected') {
        // Paused for longer than the arcade allows, or out of step with it: nothing of this
        // game can be saved any more, and no further window will come.
        s.refused = `This game can no longer be saved: ${err.detail}`;
        setNetStatus('This game can no longer be saved.');
        showWaiting(s, true);
      } else if (game?.state()?.waiting) {
        setNetStatus('Connection trouble. Your game goes on as soon as the connection is back.');
      } else {
        setNetStatus('Connection trouble. Your game continues and will be saved when the connection is back.');
      }
    })
    .finally(() => {
      s.inflight = null;
      if (s.resend) {
        s.resend = false;
        sendHeartbeat(s);
      }
    });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function finishGame(s) {
  if (!s || s.closed) return;
  s.closed = true;
  clearInterval(s.timer);
  clearInterval(s.windowTimer);
  const sim = game.sim;
  // Let a heartbeat that is on its way land first so the offset is current.
  if (s.inflight) await s.inflight.catch(() => {});
  const body = batchFrom(s, sim);
  // Kept until the score is saved: a server that lost the session needs every input again.
  s.allInputs = finalInputs(sim).slice();
  const local = { score: sim.score, stats: typeof game.stats === 'function' ? game.stats() : {} };

  setNetStatus('');
  showPending(local);
  loadBoards(); // show the boards straight away; refreshed after saving
  await sleep(900); // let the player see the final moment on the field
  if (s !== session) return;
  showOnly(els.gameOver);
  els.again.focus({ preventScroll: true });
  followBoards();
  await submitFinish(s, body, local);
}

/** The game's own score, shown at once and marked as not yet verified by the server. */
function showPending(local) {
  els.resultDetails.dataset.state = 'pending';
  els.resultStatus.classList.remove('error');
  els.resultStatus.textContent = 'Verifying your score with the server…';
  els.scoreLabel.textContent = 'Your score (being verified)';
  els.verifiedScore.textContent = formatNumber(local.score);
  delete els.verifiedScore.dataset.score;
  els.verifiedScore.dataset.local = String(local.score);
  els.rankAll.textContent = '…';
  els.rankDay.textContent = '…';
  els.personalBest.textContent = formatNumber(Math.max(best ?? 0, local.score));
  els.newPb.hidden = true;
  els.pbBox.classList.remove('highlight');
  els.resultStats.textContent = summary(local.stats);
}

function summary(stats) {
  if (!stats || typeof meta?.summary !== 'function') return '';
  try {
    return meta.summary(stats);
  } catch {
    return '';
  }
}

function offline(err) {
  return err instanceof ApiError && err.status === 0;
}

async function submitFinish(s, body, local) {
  // Retries go on even if the player starts another game meanwhile; only the
  // screen updates are skipped then.
  let delay = 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await api.finish(s.id, body);
      if (s !== session) return;
      showResult(result, local);
      loadBoards();
      return;
    } catch (err) {
      if (err instanceof ApiError && err.type === 'session_lost' && body.offset > 0) {
        // The server lost the session: every input again, with the ticket, at once.
        body = { ...body, offset: 0, inputs: s.allInputs };
        attempt--;
        continue;
      }
      const retryable = err instanceof ApiError && (err.transient || err.status === 429);
      if (s !== session && !retryable) return;
      if (!retryable) {
        showFinishError(err);
        loadBoards();
        return;
      }
      if (attempt >= FINISH_MAX_ATTEMPTS) {
        if (s !== session) return;
        els.resultStatus.classList.add('error');
        els.resultStatus.replaceChildren(
          'We could not reach the server to verify and save your score. ',
          retryButton(() => submitFinish(s, body, local)),
        );
        return;
      }
      const wait = err.retryAfter ? Math.min(err.retryAfter * 1000, FINISH_MAX_DELAY_MS) : delay;
      if (s === session) {
        els.resultStatus.textContent = offline(err)
          ? `You are offline: your score will be verified and saved when the connection is back (next try in ${Math.round(wait / 1000)} s).`
          : `Verifying your score… (the server is busy; trying again in ${Math.round(wait / 1000)} s)`;
      }
      await Promise.race([sleep(wait), online()]);
      delay = Math.min(delay * 2, FINISH_MAX_DELAY_MS);
      if (s === session) els.resultStatus.textContent = 'Verifying your score with the server…';
    }
  }
}

/** Resolves when the browser says it is back online. */
function online() {
  return new Promise((resolve) => window.addEventListener('online', resolve, { once: true }));
}

function retryButton(onClick) {
  const button = h('button', { type: 'button', class: 'button small', dataset: { testid: 'retry-finish' } }, 'Try again');
  button.addEventListener(
    'click',
    () => {
      els.resultStatus.classList.remove('error');
      els.resultStatus.textContent = 'Verifying your score with the server…';
      onClick();
    },
    { once: true },
  );
  return button;
}

function showFinishError(err) {
  els.resultDetails.dataset.state = 'unsaved';
  els.scoreLabel.textContent = 'Your score (not saved)';
  els.rankAll.textContent = '—';
  els.rankDay.textContent = '—';
  els.resultStatus.classList.add('error');
  let message;
  if (err instanceof ApiError && err.type === 'replay_rejected') {
    message = 'Your score could not be verified when the server replayed the game, so it was not recorded.';
  } else if (err instanceof ApiError && (err.status === 404 || err.type === 'session_not_found')) {
    message = 'The server no longer knows this game session, so the score could not be saved.';
  } else if (err instanceof ApiError && (err.status === 410 || err.type === 'session_expired')) {
    message = 'This game session expired before it was saved (it was paused or offline for too long), so the score could not be recorded.';
  } else {
    message = `Your score could not be saved: ${err instanceof ApiError ? err.detail : 'unexpected error'}`;
  }
  const detail = err instanceof ApiError && err.detail && !message.includes(err.detail) ? ` (${err.detail})` : '';
  els.resultStatus.textContent = message + detail;
}

function showResult(result, local) {
  els.resultDetails.dataset.state = 'verified';
  els.resultStatus.classList.remove('error');
  els.resultStatus.textContent = result.score === 0 ? 'Score verified. Scores above 0 take a place on the boards.' : 'Score verified and saved.';
  els.scoreLabel.textContent = 'Verified score';
  els.verifiedScore.textContent = formatNumber(result.score);
  els.verifiedScore.dataset.score = String(result.score);
  const ranks = result.ranks || {};
  els.rankAll.textContent = formatRank(ranks.all ?? result.rank);
  els.rankDay.textContent = formatRank(ranks.day);
  best = Math.max(best ?? 0, result.personal_best ?? result.score);
  els.personalBest.textContent = formatNumber(result.personal_best ?? result.score);
  const isNew = result.new_personal_best === true && result.score > 0;
  els.newPb.hidden = !isNew;
  els.pbBox.classList.toggle('highlight', isNew);
  els.resultStats.textContent = summary(result.stats || local.stats);
}

// The game-over boards move live, and the player hears when someone overtakes them.
let stopLive = null;
let liveTimer = null;
function followBoards() {
  if (stopLive) stopLive();
  stopLive = followLive({ game: gameId, player: playerName }, (kind, data) => {
    if (els.gameOver.hidden) return;
    if (kind === 'overtaken' && data) {
      let note = document.getElementById('overtaken-note');
      if (!note) {
        note = h('p', { id: 'overtaken-note', class: 'live-note', 'data-testid': 'overtaken' });
        els.resultStatus.after(note);
      }
      note.textContent = `${data.by} just overtook you: you are now ${formatRank(data.rank)} all time.`;
    }
    if (!liveTimer) {
      liveTimer = setTimeout(() => {
        liveTimer = null;
        loadBoards();
      }, 500);
    }
  });
}

let boardsLoading = null;
async function loadBoards() {
  if (boardsLoading) return boardsLoading;
  boardsLoading = Promise.all(
    [
      ['day', els.boardDay, 'No scores yet today.'],
      ['all', els.boardAll, undefined],
    ].map(async ([period, tbody, emptyText]) => {
      try {
        const data = await api.leaderboard(gameId, period, 10);
        renderLeaderboardRows(tbody, data?.entries ?? [], playerName, emptyText, gameId);
      } catch (err) {
        // Keep rows already shown; otherwise say why there are none (and try again later).
        if (tbody.querySelector('tr:not(.empty)')) return;
        const waiting = err instanceof ApiError && (err.transient || err.status === 429);
        renderLeaderboardRows(tbody, [], null, waiting ? 'Waiting for the connection…' : `Could not load scores: ${err instanceof ApiError ? err.detail : 'unknown error'}`);
        if (waiting) online().then(loadBoards);
      }
    }),
  ).finally(() => {
    boardsLoading = null;
  });
  return boardsLoading;
}

// ---------------------------------------------------------------------------
// Page setup

els.form.addEventListener('submit', (e) => {
  e.preventDefault();
  startGame(els.name.value);
});

els.name.addEventListener('input', () => {
  if (els.formError.textContent) setFormError('');
});

els.again.addEventListener('click', () => {
  if (playerName) startGame(playerName);
  else showSetup();
});

els.rename.addEventListener('click', showSetup);

function showSetup() {
  abandon();
  showOnly(els.setup);
  els.name.focus();
  els.name.select();
}

function renderInstructions() {
  const items = [...(Array.isArray(meta.instructions) ? meta.instructions : [])];
  items.push('Pause with [P] or [Esc], restart with [R], quit with [Q]; [M] turns the sound on or off.');
  els.howTo.replaceChildren(...items.map((text) => h('li', null, ...textWithKeys(text))));
}

async function init() {
  renderSoundButton();
  if (!gameId) {
    fatal('There is no game at this address.');
    return;
  }
  const remembered = storedPlayer();
  if (remembered) els.name.value = remembered.name;

  const [infoResult, moduleResult] = await Promise.allSettled([api.listGames(), import(`/assets/games/${gameId}/game.js`)]);
  if (infoResult.status === 'fulfilled') {
    gameInfo = (infoResult.value?.games || []).find((g) => g.id === gameId) || null;
    if (!gameInfo) {
      fatal(`There is no game called “${gameId}” in this arcade.`);
      return;
    }
  }
  if (moduleResult.status === 'rejected' || typeof moduleResult.value?.createGame !== 'function') {
    fatal('The game could not be loaded. Please check your connection and reload the page.');
    return;
  }
  gameModule = moduleResult.value;
  meta = gameModule.meta || {};
  const title = gameInfo?.title || meta.title || gameId;
  els.title.textContent = title;
  document.title = `${title} · Arcade`;
  els.description.textContent = gameInfo?.description || meta.description || '';
  els.stage.style.setProperty('--aspect', String(meta.aspect || 1));
  renderInstructions();
  els.start.disabled = false;
  showOnly(els.setup);
  if (!els.name.value) els.name.focus();
}

els.start.disabled = true;
init();
