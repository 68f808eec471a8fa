//! Encoding a leaderboard page as the API answers it (DTO conversion and JSON).
//! `cargo bench -p arcade-server`.

use std::hint::black_box;

use arcade_domain::query::encode_board_cursor;
use arcade_domain::ranks::{Ranked, Standing};
use arcade_server::dto::{BoardEntry, Leaderboard};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn page(size: u64) -> Vec<Ranked> {
    (1..=size)
        .map(|rank| Ranked {
            rank,
            standing: Standing {
                score: 10_000 - rank * 10,
                achieved_at_ms: 1_795_392_000_000 + rank as i64 * 1_000,
                player_key: format!("player{rank}"),
                player_name: format!("Player Number {rank}"),
            },
        })
        .collect()
}

fn encode(entries: Vec<Ranked>) -> Vec<u8> {
    let next_cursor = entries.last().map(|r| encode_board_cursor(&r.standing));
    let body = Leaderboard {
        game: "egg-catcher".to_owned(),
        period: "all".to_owned(),
        date: None,
        week: None,
        season: None,
        entries: entries.into_iter().map(BoardEntry::from).collect(),
        next_cursor,
    };
    serde_json::to_vec(&body).expect("a leaderboard encodes")
}

fn leaderboard_json(c: &mut Criterion) {
    let mut group = c.benchmark_group("leaderboard_json");
    for size in [10, 100] {
        let entries = page(size);
        group.throughput(Throughput::Bytes(encode(entries.clone()).len() as u64));
        group.bench_function(format!("page_of_{size}"), |b| {
            b.iter_batched(
                || entries.clone(),
                |e| encode(black_box(e)),
                criterion::BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, leaderboard_json);
criterion_main!(benches);
