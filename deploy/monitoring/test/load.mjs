// Scripted game load for the monitoring test: plays short Egg Catcher games against a running
// arcade with the browser's own simulation, streaming heartbeats at the pace the server allows
// and finishing each game, plus a few finishes the server must reject and the reads a player
// makes. Everything goes through the public HTTP API.
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

/** Plays a whole game offline: a bot chases the lowest egg for `chaseTicks`, then parks. */
function play(seed, chaseTicks) {
  const sim = new EggCatcherSim(seed);
  while (!sim.gameOver && sim.tick < 10_000) {
    if (sim.tick < chaseTicks) {
      const next = sim.eggs.filter((e) => e.y < CATCH_Y).sort((a, b) => b.y - a.y)[0];
      if (next) sim.setTarget(next.x);
    } else {
      sim.setTarget(0);
    }
    sim.step();
  }
  return { inputs: sim.inputs.map(([t, v]) => [t, v]), ticks: sim.tick, score: sim.score };
}

async function start(player) {
  const r = await call("POST", `/api/games/${GAME_ID}/sessions`, { player }, 201);
  if (r.status !== 201) throw new Error(`could not start a session for ${player}`);
  return { id: r.json.session_id, seed: r.json.seed, startedAt: Date.now() };
}

/** Streams a finished game at the allowed pace, then finishes it; `scoreHint` may lie. */
async function stream(session, game, scoreHint, expectFinish) {
  let sent = 0;
  for (;;) {
    const allowed = allowedTicks(Date.now() - session.startedAt);
    if (allowed >= game.ticks) break;
    const upto = game.inputs.findIndex(([t]) => t >= allowed);
    const batch = game.inputs.slice(sent, upto === -1 ? game.inputs.length : upto);
    const r = await call(
      "POST",
      `/api/sessions/${session.id}/heartbeat`,
      { offset: sent, inputs: batch, tick: allowed, score: 0 },
      200,
    );
    if (r.status === 200) sent = r.json.accepted_inputs;
    await sleep(500);
  }
  return call(
    "POST",
    `/api/sessions/${session.id}/finish`,
    { offset: sent, inputs: game.inputs.slice(sent), tick: game.ticks, score: scoreHint },
    expectFinish,
  );
}

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
    const game = play(session.seed, chase);
    const r = await stream(session, game, game.score, 200);
    if (r.status === 200 && r.json.score !== game.score)
      failures.push(`verified score ${r.json.score} differs from the simulated ${game.score}`);
    return game.score;
  }),
);

// A client that lies about its score: rejected with score_mismatch.
const liar = (async () => {
  const session = await start("loadbot-liar");
  const game = play(session.seed, 0);
  const r = await stream(session, game, game.score + 100, 422);
  if (r.json?.type !== "replay_rejected") failures.push(`liar: expected replay_rejected, got ${JSON.stringify(r.json)}`);
})();

// A client that claims far more ticks than the wall clock allows: rejected with too_fast.
const speeder = (async () => {
  const session = await start("loadbot-speeder");
  const game = play(session.seed, 600);
  const r = await call(
    "POST",
    `/api/sessions/${session.id}/finish`,
    { offset: 0, inputs: game.inputs, tick: 100_000, score: game.score },
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
await Promise.all([liar, speeder, scrambler]);

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
console.log(`load: ${scores.length} games scored ${scores.join(", ")}; 3 rejected finishes; reads done in ${seconds} s`);
