// Game shell: name entry, session lifecycle (start, heartbeat, finish),
// pause / sound controls, HUD and the game-over screen. The game itself
// (simulation, drawing and input) lives in /assets/games/{game}/game.js.

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
} from '/assets/js/api.js';

const $ = (id) => document.getElementById(id);

const els = {
  title: $('game-title'),
  description: $('game-description'),
  setup: $('setup'),
  form: $('start-form'),
  name: $('player-name'),
  start: $('start-button'),
  formError: $('form-error'),
  playArea: $('play-area'),
  stage: $('stage'),
  canvas: $('game-canvas'),
  score: $('hud-score'),
  lives: $('hud-lives'),
  level: $('hud-level'),
  soundButton: $('sound-button'),
  pauseButton: $('pause-button'),
  pauseOverlay: $('pause-overlay'),
  stageMessage: $('stage-message'),
  netStatus: $('net-status'),
  gameOver: $('game-over'),
  resultStatus: $('result-status'),
  resultDetails: $('result-details'),
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

const MAX_LIVES = 3;
const FINISH_MAX_ATTEMPTS = 9; // 1+2+4+8+16+30+30+30 s of waiting, then ask the player
const FINISH_MAX_DELAY_MS = 30_000;

const gameId = parseGameId(location.pathname);
let gameModule = null;
let gameInfo = null;
let game = null; // current game instance
let session = null; // {id, seed, acked, heartbeatMs, timer, inflight, closed}
let playerName = '';
let starting = false;

function parseGameId(pathname) {
  const match = /^\/play\/([a-z0-9][a-z0-9-]{0,63})\/?$/.exec(pathname);
  return match ? match[1] : null;
}

function showOnly(section) {
  for (const el of [els.setup, els.playArea, els.gameOver, els.fatal]) el.hidden = el !== section;
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
// Sound: short WebAudio beeps, off by default.

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

function tone(freq, start, duration, type = 'square', volume = 0.05, slideTo = 0) {
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
  if (kind === 'catch') {
    tone(880, 0, 0.08, 'square', 0.04, 1320);
  } else if (kind === 'miss') {
    tone(220, 0, 0.28, 'triangle', 0.09, 90);
  } else if (kind === 'level') {
    tone(523, 0, 0.1, 'square', 0.04);
    tone(659, 0.1, 0.1, 'square', 0.04);
    tone(784, 0.2, 0.18, 'square', 0.045);
  }
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
  if (soundOn && ensureAudio()) tone(660, 0, 0.06, 'square', 0.03);
  renderSoundButton();
}

// ---------------------------------------------------------------------------
// HUD

const lifeIcons = [];
for (let i = 0; i < MAX_LIVES; i++) {
  const icon = h('span', { class: 'life', 'aria-hidden': 'true' });
  lifeIcons.push(icon);
  els.lives.append(icon);
}

function updateHud({ score, lives, level }) {
  els.score.textContent = formatNumber(score);
  for (let i = 0; i < lifeIcons.length; i++) lifeIcons[i].classList.toggle('lost', i >= lives);
  els.lives.setAttribute('aria-label', `${lives} ${lives === 1 ? 'life' : 'lives'} left`);
  els.level.textContent = String(level);
}

// ---------------------------------------------------------------------------
// Fit the 3:4 field into the window.

function fitStage() {
  if (els.playArea.hidden) return;
  const available = els.playArea.parentElement.clientWidth;
  const top = els.stage.getBoundingClientRect().top + window.scrollY;
  const viewport = window.visualViewport ? window.visualViewport.height : window.innerHeight;
  const room = viewport - top - 40; // leave space for the status line
  const width = Math.max(200, Math.floor(Math.min(available, room * 0.75)));
  els.playArea.style.setProperty('--stage-width', `${width}px`);
}
window.addEventListener('resize', fitStage);
if (window.visualViewport) window.visualViewport.addEventListener('resize', fitStage);

// ---------------------------------------------------------------------------
// Pause

function pauseGame() {
  if (!game || !game.running || game.paused) return;
  game.pause();
  els.pauseOverlay.hidden = false;
  els.pauseButton.setAttribute('aria-pressed', 'true');
  els.pauseButton.classList.add('on');
  els.pauseButton.title = 'Resume (P)';
  els.pauseButton.querySelector('.visually-hidden').textContent = 'Resume';
  els.pauseOverlay.focus({ preventScroll: true });
}

function resumeGame() {
  if (!game || !game.running || !game.paused) return;
  els.pauseOverlay.hidden = true;
  els.pauseButton.setAttribute('aria-pressed', 'false');
  els.pauseButton.classList.remove('on');
  els.pauseButton.title = 'Pause (P)';
  els.pauseButton.querySelector('.visually-hidden').textContent = 'Pause';
  game.resume();
  els.canvas.focus({ preventScroll: true });
}

function togglePause() {
  if (!game || !game.running) return;
  if (game.paused) resumeGame();
  else pauseGame();
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') pauseGame();
});
window.addEventListener('blur', pauseGame);
els.pauseButton.addEventListener('click', togglePause);
els.pauseOverlay.addEventListener('click', resumeGame);
els.soundButton.addEventListener('click', toggleSound);

window.addEventListener('keydown', (e) => {
  if (!game || !game.running || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA')) return;
  if (e.key === 'p' || e.key === 'P' || e.key === 'Escape') {
    e.preventDefault();
    if (!e.repeat) togglePause();
  } else if (e.key === 'm' || e.key === 'M') {
    if (!e.repeat) toggleSound();
  } else if (e.key === ' ' || e.key === 'ArrowUp' || e.key === 'ArrowDown') {
    // Keep the page still while playing (a focused button still gets its Space).
    if (!(t && t.tagName === 'BUTTON')) e.preventDefault();
  }
});

// ---------------------------------------------------------------------------
// Session: start, heartbeat, finish

function setNetStatus(message) {
  els.netStatus.textContent = message;
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
    playerName = serverName;
    if (gameModule.RULES_VERSION !== undefined && info.rules_version !== undefined && info.rules_version !== gameModule.RULES_VERSION) {
      fatal('This page is out of date with the server. Please reload the page to get the latest version of the game.');
      return;
    }
    beginPlay(info);
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
  if (game) game.destroy();
  session = {
    id: info.session_id,
    acked: 0,
    heartbeatMs: Math.max(500, Number(info.heartbeat_interval_ms) || 2000),
    timer: 0,
    inflight: null,
    closed: false,
  };
  els.pauseOverlay.hidden = true;
  els.stageMessage.hidden = true;
  els.pauseButton.setAttribute('aria-pressed', 'false');
  els.pauseButton.classList.remove('on');
  setNetStatus('');
  showOnly(els.playArea);
  fitStage();

  game = gameModule.createGame(els.canvas, {
    seed: info.seed,
    onHud: updateHud,
    onEvent: playSound,
    onGameOver: () => finishGame(session),
  });
  els.canvas.focus({ preventScroll: true });
  game.start();
  session.timer = setInterval(() => sendHeartbeat(session), session.heartbeatMs);
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
  const inputs = finalInputs(sim);
  const offset = Math.min(s.acked, inputs.length);
  return { offset, inputs: inputs.slice(offset), tick: sim.tick, score: sim.score };
}

function sendHeartbeat(s) {
  if (!game || s !== session || s.closed || s.inflight) return;
  const sim = game.sim;
  const body = batchFrom(s, sim);
  s.inflight = api
    .heartbeat(s.id, body)
    .then((res) => {
      if (typeof res?.accepted_inputs === 'number') {
        s.acked = Math.max(0, Math.min(res.accepted_inputs, sim.inputs.length));
      }
      if (!s.closed) setNetStatus('');
    })
    .catch((err) => {
      if (s.closed) return;
      if (err instanceof ApiError && (err.status === 404 || err.status === 410)) {
        setNetStatus('This game session has ended on the server, so this score cannot be saved.');
      } else {
        setNetStatus('Connection trouble. Your game continues and will be saved when the connection is back.');
      }
    })
    .finally(() => {
      s.inflight = null;
    });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function finishGame(s) {
  if (!s || s.closed) return;
  s.closed = true;
  clearInterval(s.timer);
  const sim = game.sim;
  // Let a heartbeat that is on its way land first so the offset is current.
  if (s.inflight) await s.inflight.catch(() => {});
  const body = batchFrom(s, sim);
  const localStats = { catches: sim.catches, misses: sim.misses, level: sim.level };

  setNetStatus('');
  els.resultDetails.hidden = true;
  els.resultStatus.classList.remove('error');
  els.resultStatus.textContent = 'Saving your score…';
  loadBoards(); // show the boards straight away; refreshed after saving
  await sleep(900); // let the player see the final moment on the field
  if (s !== session) return;
  showOnly(els.gameOver);
  els.gameOver.focus({ preventScroll: true });
  followBoards();
  await submitFinish(s, body, localStats);
}

async function submitFinish(s, body, localStats) {
  // Retries go on even if the player starts another game meanwhile; only the
  // screen updates are skipped then.
  let delay = 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await api.finish(s.id, body);
      if (s !== session) return;
      showResult(result, localStats);
      loadBoards();
      return;
    } catch (err) {
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
          'We could not reach the server to save your score. ',
          retryButton(() => submitFinish(s, body, localStats)),
        );
        return;
      }
      const wait = err.retryAfter ? Math.min(err.retryAfter * 1000, FINISH_MAX_DELAY_MS) : delay;
      if (s === session) {
        els.resultStatus.textContent = `Saving your score… (the server is busy or unreachable; trying again in ${Math.round(wait / 1000)} s)`;
      }
      await sleep(wait);
      delay = Math.min(delay * 2, FINISH_MAX_DELAY_MS);
      if (s === session) els.resultStatus.textContent = 'Saving your score…';
    }
  }
}

function retryButton(onClick) {
  const button = h('button', { type: 'button', class: 'button small', dataset: { testid: 'retry-finish' } }, 'Try again');
  button.addEventListener('click', () => {
    els.resultStatus.classList.remove('error');
    els.resultStatus.textContent = 'Saving your score…';
    onClick();
  }, { once: true });
  return button;
}

function showFinishError(err) {
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

function showResult(result, localStats) {
  els.resultStatus.classList.remove('error');
  els.resultStatus.textContent = result.game_over === false ? 'Score saved.' : 'Score verified and saved.';
  els.verifiedScore.textContent = formatNumber(result.score);
  els.verifiedScore.dataset.score = String(result.score);
  const ranks = result.ranks || {};
  els.rankAll.textContent = formatRank(ranks.all ?? result.rank);
  els.rankDay.textContent = formatRank(ranks.day);
  els.personalBest.textContent = formatNumber(result.personal_best ?? result.score);
  const isNew = result.new_personal_best === true;
  els.newPb.hidden = !isNew;
  els.pbBox.classList.toggle('highlight', isNew);
  const stats = result.stats || localStats;
  const parts = [];
  if (typeof stats.catches === 'number') parts.push(`${stats.catches} ${stats.catches === 1 ? 'egg' : 'eggs'} caught`);
  if (typeof stats.misses === 'number') parts.push(`${stats.misses} missed`);
  if (typeof stats.level === 'number') {
    const shown = typeof gameModule?.displayLevel === 'function' ? gameModule.displayLevel(stats.level) : stats.level;
    parts.push(`reached level ${shown}`);
  }
  els.resultStats.textContent = parts.join(' · ');
  els.resultDetails.hidden = false;
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
        renderLeaderboardRows(tbody, data?.entries ?? [], playerName, emptyText);
      } catch (err) {
        renderLeaderboardRows(tbody, [], null, `Could not load scores: ${err instanceof ApiError ? err.detail : 'unknown error'}`);
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
  if (game) {
    game.destroy();
    game = null;
  }
  session = null;
  showOnly(els.setup);
  els.name.focus();
  els.name.select();
}

async function init() {
  renderSoundButton();
  if (!gameId) {
    fatal('There is no game at this address.');
    return;
  }
  const remembered = storedPlayer();
  if (remembered) els.name.value = remembered.name;

  const [infoResult, moduleResult] = await Promise.allSettled([
    api.listGames(),
    import(`/assets/games/${gameId}/game.js`),
  ]);
  if (infoResult.status === 'fulfilled') {
    gameInfo = (infoResult.value?.games || []).find((g) => g.id === gameId) || null;
    if (!gameInfo) {
      fatal(`There is no game called “${gameId}” in this arcade.`);
      return;
    }
  }
  if (moduleResult.status === 'rejected') {
    fatal('The game could not be loaded. Please check your connection and reload the page.');
    return;
  }
  gameModule = moduleResult.value;
  const title = gameInfo?.title || gameId;
  els.title.textContent = title;
  document.title = `${title} · Arcade`;
  if (gameInfo?.description) els.description.textContent = gameInfo.description;
  els.start.disabled = false;
  showOnly(els.setup);
  if (!els.name.value) els.name.focus();
}

els.start.disabled = true;
init();
