// Scripted game load for the monitoring test: plays short Egg Catcher games against a running
// arcade with the browser's own simulation, streaming heartbeats at the pace the server allows
// (each answer bringing the game's next window of randomness when it is due) and finishing
// each game, plus a few finishes the server must reject, one it takes late (and flags), and the
// reads a player makes. Everything goes through the public HTTP API.
//   node load.mjs http://127.0.0.1:PORT
// Exits non-zero if any answer differs from what a real browser would get.
import { EggCatcherSim, CATCH_Y, GAME_ID } from "../../../web/assets/games/egg-catcher/sim.js";

const base = process.argv[2];
if (!base) {
  console.error("usage: node load.mjs BASE_URL");
  process.exit(2);
}

// The server allows elapsed * 66 + 180 ticks (60 Hz + 10%, 3 s slack); keep a margin.
const allowedTicks = (elapsedMs) => Math.floor((elapsedMs / 1000) * 62) + 150;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const failures = [];

async function call(method, path, body, expect) {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const ok = Array.isArray(expect) ? expect.includes(res.status) : res.status === expect;
  if (!ok) failures.push(`${method} ${path}: expected ${expect}, got ${res.status}: ${text.slice(0, 300)}`);
  try {
    return { status: res.status, json: JSON.parse(text) };
  } catch {
    return { status: res.status, json: null };
  }
}

/**
 * A bot that chases the lowest egg for `chaseTicks`, then parks. It plays as far as `until`,
 * its windows of randomness and 10 000 ticks allow.
 */
function bot(seed, chaseTicks) {
  const sim = new EggCatcherSim(seed);
  return {
    sim,
    playUntil(until) {
      while (!sim.gameOver && !sim.waiting && sim.tick < Math.min(until, 10_000)) {
        if (sim.tick < chaseTicks) {
          const next = sim.eggs.filter((e) => e.y < CATCH_Y).sort((a, b) => b.y - a.y)[0];
          if (next) sim.setTarget(next.x);
        } else {
          sim.setTarget(0);
        }
        sim.step();
      }
    },
    get done() {
      return sim.gameOver || sim.tick >= 10_000;
    },
  };
}

async function start(player) {
  const r = await call("POST", `/api/games/${GAME_ID}/sessions`, { player }, 201);
  if (r.status !== 201) throw new Error(`could not start a session for ${player}`);
  return { id: r.json.session_id, seed: r.json.seed, startedAt: Date.now() };
}

/**
 * Plays `game` (a bot) at the pace the server allows, a heartbeat every half second that
 * brings the next window when it is due, until its game ends; then, after `finishAfterMs` of
 * the session (if later; a function of the ended game may give it), finishes it with the score
 * `hint` makes of the game (it may lie).
 */
async function stream(session, game, hint, expectFinish, finishAfterMs = 0) {
  const { sim } = game;
  let sent = 0;
  for (;;) {
    game.playUntil(allowedTicks(Date.now() - session.startedAt));
    if (game.done) break;
    const r = await call(
      "POST",
      `/api/sessions/${session.id}/heartbeat`,
      { offset: sent, inputs: sim.inputs.slice(sent), tick: sim.tick, score: 0 },
      200,
    );
    if (r.status === 200) {
      sent = r.json.accepted_inputs;
      if (r.json.window?.index === sim.revealed) sim.reveal(r.json.window.seed);
    }
    await sleep(500);
  }
  const after = typeof finishAfterMs === "function" ? finishAfterMs(sim) : finishAfterMs;
  await sleep(session.startedAt + after - Date.now());
  return call(
    "POST",
    `/api/sessions/${session.id}/finish`,
    { offset: sent, inputs: sim.inputs.slice(sent), tick: sim.tick, score: hint(sim) },
    expectFinish,
  );
}

const honestHint = (sim) => sim.score;

const t0 = Date.now();
await call("GET", "/", undefined, 200);
await call("GET", `/play/${GAME_ID}`, undefined, 200);
await call("GET", "/api/games", undefined, 200);
await call("GET", "/openapi.json", undefined, 200);
await call("GET", "/no-such-page", undefined, 404);
await call("GET", "/api/games/no-such-game/leaderboard", undefined, 404);

// Honest games of different lengths, so the score histogram has a spread.
const chases = [0, 250, 400, 550];
const honest = Promise.all(
  chases.map(async (chase, i) => {
    const session = await start(`loadbot-${i}`);
    const game = bot(session.seed, chase);
    const r = await stream(session, game, honestHint, 200);
    if (r.status === 200 && r.json.score !== game.sim.score)
      failures.push(`verified score ${r.json.score} differs from the simulated ${game.sim.score}`);
    return game.sim.score;
  }),
);

// A finish that comes long after its game ended: taken, and flagged late_finish for review.
const dawdler = (async () => {
  const session = await start("loadbot-dawdler");
  const game = bot(session.seed, 0);
  // Late for the game it played, however long that was: the server tolerates its start delay
  // and tick slack (3 s each), so finish 10 s after the game's last tick could have been played.
  const r = await stream(session, game, honestHint, 200, (sim) => (sim.tick / 60 + 10) * 1000);
  const history = await call("GET", `/api/games/${GAME_ID}/players/loadbot-dawdler/scores`, undefined, 200);
  const flags = history.json?.scores?.[0]?.flags;
  if (r.status === 200 && !flags?.includes("late_finish"))
    failures.push(`dawdler: expected a score flagged late_finish, got ${JSON.stringify(history.json)}`);
})();

// A client that lies about its score: rejected with score_mismatch.
const liar = (async () => {
  const session = await start("loadbot-liar");
  const game = bot(session.seed, 0);
  const r = await stream(session, game, (sim) => sim.score + 100, 422);
  if (r.json?.type !== "replay_rejected") failures.push(`liar: expected replay_rejected, got ${JSON.stringify(r.json)}`);
})();

// A client that claims far more ticks than the wall clock allows, past the windows it was
// given: rejected.
const speeder = (async () => {
  const session = await start("loadbot-speeder");
  const game = bot(session.seed, 600);
  game.playUntil(Infinity);
  const r = await call(
    "POST",
    `/api/sessions/${session.id}/finish`,
    { offset: 0, inputs: game.sim.inputs, tick: 100_000, score: game.sim.score },
    [409, 422],
  );
  if (r.json?.type !== "replay_rejected") failures.push(`speeder: expected replay_rejected, got ${JSON.stringify(r.json)}`);
})();

// A client whose inputs go backwards in time: rejected with input_out_of_order.
const scrambler = (async () => {
  const session = await start("loadbot-scrambler");
  await sleep(1000);
  await call(
    "POST",
    `/api/sessions/${session.id}/finish`,
    { offset: 0, inputs: [[50, 1000], [20, 2000]], tick: 60, score: 0 },
    [400, 409, 422],
  );
})();

const scores = await honest;
await Promise.all([liar, speeder, scrambler, dawdler]);

for (const period of ["all", "day", "week"]) {
  await call("GET", `/api/games/${GAME_ID}/leaderboard?period=${period}&limit=10`, undefined, 200);
}
await call("GET", `/api/games/${GAME_ID}/players/loadbot-3`, undefined, 200);
await call("GET", `/api/games/${GAME_ID}/players/loadbot-3/scores`, undefined, 200);

const seconds = ((Date.now() - t0) / 1000).toFixed(1);
if (failures.length) {
  console.error(`load: ${failures.length} unexpected answer(s):\n${failures.join("\n")}`);
  process.exit(1);
}
console.log(`load: ${scores.length} games scored ${scores.join(", ")}; 3 rejected finishes, 1 flagged; reads done in ${seconds} s`);
