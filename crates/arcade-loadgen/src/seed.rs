//! Bulk seeding: a million players with scores in a few seconds.
//!
//! PostgreSQL gets `COPY` streams into `players`, `scores` and `best_scores` (the all-time
//! board for everyone, plus the current day and week boards for scores that fall in them),
//! as the schema in `crates/arcade-store/migrations/postgres` requires. Redis gets the same
//! boards through [`RedisRankIndex`]'s own `load` (pipelined, a few thousand members per
//! round trip), so the key layout and member format are exactly the server's; a read-back
//! through the same index then checks ranks against the order computed here.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Instant;

use anyhow::{Context as _, bail, ensure};
use arcade_domain::name::PlayerName;
use arcade_domain::ports::RankIndex as _;
use arcade_domain::ranks::Standing;
use arcade_domain::time::{BoardKey, Period, Timestamp};
use arcade_domain::token::TokenDigest;
use arcade_games::replay_codec;
use arcade_sessions::RedisRankIndex;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use sqlx::{Connection as _, PgConnection};

/// The game whose boards the seeder fills.
pub const GAME: &str = "egg-catcher";
/// Rows per COPY message.
const COPY_CHUNK: usize = 20_000;
/// Seeded scores are spread over this many days before now.
const SPREAD_DAYS: i64 = 30;

/// One seeded player and their single score.
#[derive(Debug, Clone)]
pub struct SeededPlayer {
    pub key: String,
    pub name: String,
    pub score: u32,
    pub ticks: u32,
    pub achieved_at: i64,
    pub session_id: uuid::Uuid,
}

/// `count` players named `{prefix}{n}`, with scores shaped like real play: most players score
/// little, few score a lot, and many scores tie (they are multiples of 10).
pub fn generate(prefix: &str, count: usize, now: Timestamp, rng_seed: u64) -> Vec<SeededPlayer> {
    let mut rng = StdRng::seed_from_u64(rng_seed);
    (0..count)
        .map(|n| {
            let name = format!("{prefix}{n}");
            let key = PlayerName::parse(&name)
                .map(|p| p.key().to_owned())
                .unwrap_or_else(|e| panic!("seeded name {name:?} is invalid: {e}"));
            // Catches: exponential with a mean of 40 (a few minutes of decent play).
            let u: f64 = rng.random_range(f64::EPSILON..1.0);
            let catches = (-u.ln() * 40.0) as u32;
            let ticks = 600 + catches * 110 + rng.random_range(0..600);
            SeededPlayer {
                key,
                name,
                score: catches * 10,
                ticks,
                achieved_at: now.0 - rng.random_range(0..SPREAD_DAYS * 86_400_000),
                session_id: uuid::Uuid::from_u128(rng.random()),
            }
        })
        .collect()
}

/// The boards a seeded player stands on now: all-time, and today's and this week's when the
/// score falls in them.
fn boards_of(p: &SeededPlayer, now: Timestamp) -> Vec<(Period, i64)> {
    let at = Timestamp(p.achieved_at);
    let mut boards = vec![(Period::All, 0)];
    for period in [Period::Day, Period::Week] {
        if period.bucket(at) == period.bucket(now) {
            boards.push((period, period.bucket(now)));
        }
    }
    boards
}

fn standing(p: &SeededPlayer) -> Standing {
    Standing {
        score: u64::from(p.score),
        achieved_at_ms: p.achieved_at,
        player_key: p.key.clone(),
        player_name: p.name.clone(),
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2 + 3);
    s.push_str("\\\\x");
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

async fn copy(
    conn: &mut PgConnection,
    statement: &str,
    rows: impl Iterator<Item = String>,
) -> anyhow::Result<u64> {
    let mut copy = conn.copy_in_raw(statement).await?;
    let mut buf = String::new();
    let mut in_buf = 0;
    for row in rows {
        buf.push_str(&row);
        in_buf += 1;
        if in_buf == COPY_CHUNK {
            copy.send(std::mem::take(&mut buf).into_bytes()).await?;
            in_buf = 0;
        }
    }
    if !buf.is_empty() {
        copy.send(buf.into_bytes()).await?;
    }
    Ok(copy.finish().await?)
}

/// Load the players into PostgreSQL (a migrated, empty-of-these-players database).
pub async fn postgres(
    url: &str,
    players: &[SeededPlayer],
    token: &str,
    now: Timestamp,
) -> anyhow::Result<()> {
    let digest = hex(&TokenDigest::of(token).0);
    let replay = hex(&replay_codec::pack(&[]));
    let mut conn = PgConnection::connect(url)
        .await
        .context("cannot connect to PostgreSQL")?;
    let started = Instant::now();
    let n = copy(
        &mut conn,
        "COPY players (key, name, token_digest, created_at) FROM STDIN",
        players
            .iter()
            .map(|p| format!("{}\t{}\t{digest}\t{}\n", p.key, p.name, p.achieved_at)),
    )
    .await?;
    eprintln!("players: {n} rows in {:.1?}", started.elapsed());
    // Scores and bests only refer to players, so they load side by side.
    let scores = async {
        let mut conn = PgConnection::connect(url).await?;
        let started = Instant::now();
        let n = copy(
            &mut conn,
            "COPY scores (session_id, game, player_key, score, ticks, game_over, rules_version, \
             seed, stats, replay, achieved_at) FROM STDIN",
            players.iter().map(|p| {
                let catches = p.score / 10;
                format!(
                    "{}\t{GAME}\t{}\t{}\t{}\tt\t1\t{}\t{{\"catches\": {catches}, \"level\": {}, \
                     \"lives\": 0, \"misses\": 3}}\t{replay}\t{}\n",
                    p.session_id,
                    p.key,
                    p.score,
                    p.ticks,
                    p.session_id.as_u128() as u32,
                    catches / 10 + 1,
                    p.achieved_at
                )
            }),
        )
        .await?;
        eprintln!("scores: {n} rows in {:.1?}", started.elapsed());
        anyhow::Ok(())
    };
    let bests = async {
        let mut conn = PgConnection::connect(url).await?;
        let started = Instant::now();
        let n = copy(
            &mut conn,
            "COPY best_scores (game, period, bucket, player_key, score, achieved_at, session_id) \
             FROM STDIN",
            players.iter().flat_map(|p| {
                boards_of(p, now).into_iter().map(move |(period, bucket)| {
                    format!(
                        "{GAME}\t{}\t{bucket}\t{}\t{}\t{}\t{}\n",
                        period.as_str(),
                        p.key,
                        p.score,
                        p.achieved_at,
                        p.session_id
                    )
                })
            }),
        )
        .await?;
        eprintln!("best_scores: {n} rows in {:.1?}", started.elapsed());
        anyhow::Ok(())
    };
    tokio::try_join!(scores, bests)?;
    sqlx::query("ANALYZE players, scores, best_scores")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

/// Load the current boards into Redis through the server's own rank index, then read ranks
/// back through it and compare them with board order computed here.
pub async fn redis(
    url: &str,
    prefix: &str,
    players: &[SeededPlayer],
    now: Timestamp,
) -> anyhow::Result<()> {
    let index = RedisRankIndex::connect(url, prefix)
        .await
        .context("cannot connect to Redis")?;
    let mut boards: HashMap<Period, Vec<Standing>> = HashMap::new();
    for p in players {
        for (period, _) in boards_of(p, now) {
            boards.entry(period).or_default().push(standing(p));
        }
    }
    for period in Period::ALL {
        let board = BoardKey::current(GAME, period, now);
        let standings = boards.remove(&period).unwrap_or_default();
        let started = Instant::now();
        let n = standings.len();
        let mut sorted = standings.clone();
        index.load(&board, standings).await?;
        eprintln!(
            "redis {} board: {n} players in {:.1?}",
            period.as_str(),
            started.elapsed()
        );
        sorted.sort_unstable();
        verify(&index, &board, &sorted).await?;
    }
    Ok(())
}

/// Ranks read back through the index must be positions in board order.
async fn verify(
    index: &RedisRankIndex,
    board: &BoardKey,
    sorted: &[Standing],
) -> anyhow::Result<()> {
    if sorted.is_empty() {
        return Ok(());
    }
    let top = index.page(board, None, 10).await?;
    ensure!(
        top.iter().zip(sorted).all(|(r, s)| r.standing == *s),
        "the top of the Redis board differs from board order"
    );
    let mut rng = StdRng::seed_from_u64(42);
    let mut probes: Vec<usize> = (0..50).map(|_| rng.random_range(0..sorted.len())).collect();
    probes.extend([0, sorted.len() - 1]);
    for i in probes {
        let expected = &sorted[i];
        let Some(found) = index.get(board, &expected.player_key).await? else {
            bail!("{} is missing from the Redis board", expected.player_key);
        };
        ensure!(
            found.rank == i as u64 + 1 && found.standing == *expected,
            "{} read back at rank {} ({:?}), expected rank {}",
            expected.player_key,
            found.rank,
            found.standing,
            i + 1
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_players_have_valid_distinct_keys_and_plausible_scores() {
        let now = Timestamp(1_795_392_000_000);
        let players = generate("seed", 2_000, now, 1);
        let keys: std::collections::HashSet<_> = players.iter().map(|p| &p.key).collect();
        assert_eq!(keys.len(), players.len());
        assert!(players.iter().all(|p| p.score % 10 == 0 && p.ticks >= 600));
        assert!(players.iter().all(|p| p.achieved_at <= now.0));
        assert!(
            players
                .iter()
                .all(|p| boards_of(p, now)[0] == (Period::All, 0))
        );
        assert_eq!(hex(&[0, 255]), "\\\\x00ff");
    }
}
