//! Group commit: writes that arrive while earlier ones are being written wait, and go out
//! together in the next batch, one statement and one commit for all of them. An idle store
//! writes a lone item at once; a busy one writes bigger batches instead of queueing
//! transactions on its connections (and their backends on the same index pages).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use arcade_domain::{BackendError, BackendErrorKind};
use async_trait::async_trait;
use tokio::sync::oneshot;

/// Writes a batch of items in one go.
#[async_trait]
pub(crate) trait BatchWriter: Send + Sync + 'static {
    type Item: Send + 'static;
    type Outcome: Send + 'static;

    /// Whether `item` may go in the same batch as `batch` (for instance, not two upserts of
    /// one row in one statement). An item that does not fit waits for a later batch, in order.
    fn fits(batch: &[Self::Item], item: &Self::Item) -> bool;

    /// One outcome per item, in the items' order. One bad item should never fail the others
    /// (a writer retries alone what the database refused, or keeps each item in a savepoint).
    async fn write(&self, batch: &[Self::Item]) -> Vec<Result<Self::Outcome, BackendError>>;
}

type Reply<O> = oneshot::Sender<Result<O, BackendError>>;

struct Queue<W: BatchWriter> {
    waiting: VecDeque<(W::Item, Reply<W::Outcome>)>,
    /// Writer tasks running; each drains the queue and stops when it is empty.
    writers: usize,
}

struct Inner<W: BatchWriter> {
    writer: W,
    queue: Mutex<Queue<W>>,
    max_writers: usize,
    max_batch: usize,
}

impl<W: BatchWriter> Inner<W> {
    fn lock(&self) -> MutexGuard<'_, Queue<W>> {
        // The lock is never held across a write or an await, so a poisoned queue is whole.
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The queue in front of a [`BatchWriter`], shared by every caller of one store.
pub(crate) struct GroupCommit<W: BatchWriter> {
    inner: Arc<Inner<W>>,
}

impl<W: BatchWriter> Clone for GroupCommit<W> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<W: BatchWriter> std::fmt::Debug for GroupCommit<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("max_writers", &self.inner.max_writers)
            .field("max_batch", &self.inner.max_batch)
            .finish_non_exhaustive()
    }
}

impl<W: BatchWriter> GroupCommit<W> {
    /// At most `max_writers` batches in flight at once, of at most `max_batch` items each.
    pub(crate) fn new(writer: W, max_writers: usize, max_batch: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                writer,
                queue: Mutex::new(Queue {
                    waiting: VecDeque::new(),
                    writers: 0,
                }),
                max_writers: max_writers.max(1),
                max_batch: max_batch.max(1),
            }),
        }
    }

    /// Queue `item` and wait for its batch to be written. The write runs on a task of its
    /// own, so a caller that stops waiting (a client gone) neither cancels its item nor
    /// the others in its batch.
    pub(crate) async fn submit(&self, item: W::Item) -> Result<W::Outcome, BackendError> {
        let (reply, answer) = oneshot::channel();
        let start_writer = {
            let mut queue = self.inner.lock();
            queue.waiting.push_back((item, reply));
            let start = queue.writers < self.inner.max_writers;
            if start {
                queue.writers += 1;
            }
            start
        };
        if start_writer {
            tokio::spawn(drain(self.inner.clone()));
        }
        answer.await.unwrap_or_else(|_| {
            // Only a runtime shutting down drops a writer mid-write.
            Err(BackendError::new(
                BackendErrorKind::ShuttingDown,
                "group commit",
                "the writer stopped before the write was done",
            ))
        })
    }
}

/// Counts a writer out however its task ends. A task dropped mid-write (its runtime shutting
/// down) takes its batch's replies with it; the last writer out also fails whatever still
/// waits, since no task is left to write it.
struct Running<W: BatchWriter> {
    inner: Arc<Inner<W>>,
    counted_out: bool,
}

impl<W: BatchWriter> Drop for Running<W> {
    fn drop(&mut self) {
        if self.counted_out {
            return;
        }
        let mut queue = self.inner.lock();
        queue.writers -= 1;
        if queue.writers == 0 {
            queue.waiting.clear();
        }
    }
}

async fn drain<W: BatchWriter>(inner: Arc<Inner<W>>) {
    let mut running = Running {
        inner,
        counted_out: false,
    };
    loop {
        let (items, replies): (Vec<_>, Vec<_>) = {
            let mut queue = running.inner.lock();
            let batch = take_batch::<W>(&mut queue.waiting, running.inner.max_batch);
            if batch.is_empty() {
                // Counted out under the lock a submitter takes: an item queued after this
                // finds one writer fewer and starts one.
                queue.writers -= 1;
                running.counted_out = true;
                return;
            }
            batch.into_iter().unzip()
        };
        let outcomes = running.inner.writer.write(&items).await;
        debug_assert_eq!(outcomes.len(), replies.len());
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            // A caller that stopped waiting has nothing to tell.
            let _ = reply.send(outcome);
        }
    }
}

/// The first waiting items that fit together, up to `max`; the rest keep their order.
fn take_batch<W: BatchWriter>(
    waiting: &mut VecDeque<(W::Item, Reply<W::Outcome>)>,
    max: usize,
) -> Vec<(W::Item, Reply<W::Outcome>)> {
    let mut items: Vec<W::Item> = Vec::new();
    let mut replies = Vec::new();
    let mut kept = VecDeque::new();
    while let Some((item, reply)) = waiting.pop_front() {
        if items.is_empty() || (items.len() < max && W::fits(&items, &item)) {
            items.push(item);
            replies.push(reply);
        } else {
            kept.push_back((item, reply));
            if items.len() >= max {
                break;
            }
        }
    }
    kept.append(waiting);
    *waiting = kept;
    items.into_iter().zip(replies).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Items are (key, value); two items with one key never share a batch, and a value of 0
    /// fails its item.
    struct Recording {
        batches: Mutex<Vec<Vec<(u32, u32)>>>,
        in_flight: AtomicUsize,
        most_in_flight: AtomicUsize,
    }

    #[async_trait]
    impl BatchWriter for Arc<Recording> {
        type Item = (u32, u32);
        type Outcome = u32;

        fn fits(batch: &[(u32, u32)], item: &(u32, u32)) -> bool {
            batch.iter().all(|(k, _)| *k != item.0)
        }

        async fn write(&self, batch: &[(u32, u32)]) -> Vec<Result<u32, BackendError>> {
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_in_flight.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(5)).await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            self.batches.lock().unwrap().push(batch.to_vec());
            batch
                .iter()
                .map(|&(_, v)| {
                    if v == 0 {
                        Err(BackendError::defect("test", "zero"))
                    } else {
                        Ok(v * 10)
                    }
                })
                .collect()
        }
    }

    fn recording() -> Arc<Recording> {
        Arc::new(Recording {
            batches: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            most_in_flight: AtomicUsize::new(0),
        })
    }

    #[tokio::test]
    async fn waiting_items_share_batches_and_each_gets_its_own_outcome() {
        let rec = recording();
        let commit = GroupCommit::new(rec.clone(), 1, 16);
        let calls: Vec<_> = (0..40u32)
            .map(|i| {
                let commit = commit.clone();
                // Keys 0..20 twice: the second of each key waits for a later batch.
                tokio::spawn(async move { commit.submit((i % 20, i)).await })
            })
            .collect();
        let mut answers = Vec::new();
        for call in calls {
            answers.push(call.await.unwrap());
        }
        assert!(answers[0].is_err(), "value 0 fails alone");
        for (i, a) in answers.iter().enumerate().skip(1) {
            assert_eq!(a.as_ref().unwrap(), &(i as u32 * 10));
        }
        let batches = rec.batches.lock().unwrap();
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 40);
        assert!(batches.len() < 40, "items were batched: {batches:?}");
        for batch in batches.iter() {
            assert!(batch.len() <= 16);
            let mut keys: Vec<_> = batch.iter().map(|(k, _)| k).collect();
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), batch.len(), "one key twice in {batch:?}");
        }
        // Items of one key are written in the order they were submitted.
        let order: Vec<u32> = batches.iter().flatten().map(|(_, v)| *v).collect();
        for k in 0..20u32 {
            let first = order.iter().position(|v| *v == k).unwrap();
            let second = order.iter().position(|v| *v == k + 20).unwrap();
            assert!(first < second);
        }
        assert_eq!(rec.most_in_flight.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn writers_are_capped_and_stop_when_the_queue_is_empty() {
        let rec = recording();
        let commit = GroupCommit::new(rec.clone(), 2, 4);
        let calls: Vec<_> = (1..=30u32)
            .map(|i| {
                let commit = commit.clone();
                tokio::spawn(async move { commit.submit((i, i)).await })
            })
            .collect();
        for call in calls {
            call.await.unwrap().unwrap();
        }
        assert!(rec.most_in_flight.load(Ordering::SeqCst) <= 2);
        assert_eq!(commit.inner.lock().writers, 0);
        // A lone item later is written at once by a new writer.
        assert_eq!(commit.submit((99, 7)).await.unwrap(), 70);
        assert_eq!(rec.batches.lock().unwrap().last().unwrap(), &vec![(99, 7)]);
    }

    #[tokio::test]
    async fn a_caller_that_stops_waiting_does_not_cancel_its_write() {
        let rec = recording();
        let commit = GroupCommit::new(rec.clone(), 1, 8);
        let gone = tokio::time::timeout(Duration::from_millis(1), commit.submit((1, 1))).await;
        assert!(gone.is_err(), "the write takes 5 ms");
        assert_eq!(commit.submit((2, 2)).await.unwrap(), 20);
        let written: Vec<_> = rec
            .batches
            .lock()
            .unwrap()
            .iter()
            .flatten()
            .copied()
            .collect();
        assert!(written.contains(&(1, 1)), "{written:?}");
    }
}
