//! One rate limit shared by every worker (`[delivery] rate_per_minute`).
//!
//! Slots are handed out one every `60 / rate` seconds from a single next-slot instant, so the
//! limit holds for the whole run whatever the concurrency (a per-worker limit lets the real rate
//! reach workers × rate), and it is smooth: an idle period earns no burst afterwards.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
pub(crate) struct RateLimiter {
    interval: Option<Duration>,
    next_slot: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// `per_minute = 0` means no limit.
    pub(crate) fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            interval: (per_minute > 0).then(|| Duration::from_secs(60) / per_minute),
            next_slot: Mutex::new(None),
        }
    }

    /// Takes a slot if one is due now, without waiting; `false` (and nothing taken) otherwise.
    pub(crate) fn try_acquire(&self) -> bool {
        let Some(interval) = self.interval else {
            return true;
        };
        // As in `acquire`: the lock only ever guards a plain Instant.
        let mut next = self.next_slot.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        match *next {
            Some(slot) if slot > now => false,
            _ => {
                *next = Some(now + interval);
                true
            }
        }
    }

    /// Waits for this caller's slot.
    pub(crate) async fn acquire(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let slot = {
            // A poisoned lock only means another worker panicked while holding a plain Instant,
            // which cannot be left half-written.
            let mut next = self.next_slot.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    async fn acquisition_times(per_minute: u32, workers: usize, each: usize) -> Vec<Duration> {
        let limiter = Arc::new(RateLimiter::new(per_minute));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..workers {
            let limiter = Arc::clone(&limiter);
            tasks.push(tokio::spawn(async move {
                let mut times = Vec::new();
                for _ in 0..each {
                    limiter.acquire().await;
                    times.push(start.elapsed());
                }
                times
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.expect("worker"));
        }
        all.sort();
        all
    }

    #[tokio::test(start_paused = true)]
    async fn at_600_a_minute_no_second_carries_more_than_11_whatever_the_concurrency() {
        for workers in [1, 4, 16, 64] {
            let times = acquisition_times(600, workers, 200usize.div_ceil(workers)).await;
            assert!(times.len() >= 200, "{workers}");
            for (i, t) in times.iter().enumerate() {
                let in_window = times[i..]
                    .iter()
                    .take_while(|u| **u - *t < Duration::from_secs(1))
                    .count();
                assert!(
                    in_window <= 11,
                    "{workers} workers: {in_window} in the second after {t:?}"
                );
            }
            // And the limit does not slow below the rate either: n slots take (n − 1) × 100 ms.
            let last = times.last().copied().unwrap_or_default();
            assert!(
                last <= Duration::from_millis(100 * (times.len() as u64 - 1) + 1),
                "{workers}: {last:?}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_period_earns_no_burst() {
        let limiter = RateLimiter::new(60);
        limiter.acquire().await;
        tokio::time::sleep(Duration::from_secs(10)).await;
        let start = Instant::now();
        limiter.acquire().await;
        limiter.acquire().await;
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn zero_means_no_limit() {
        let limiter = RateLimiter::new(0);
        let start = Instant::now();
        for _ in 0..1000 {
            limiter.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn try_acquire_takes_only_a_slot_that_is_due() {
        let limiter = RateLimiter::new(60);
        assert!(limiter.try_acquire());
        assert!(!limiter.try_acquire(), "the next slot is a second away");
        tokio::time::sleep(Duration::from_millis(999)).await;
        assert!(!limiter.try_acquire());
        // A refused try took nothing: the slot is still the one a second after the first.
        let start = Instant::now();
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_millis(1));
        assert!(!limiter.try_acquire());
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(limiter.try_acquire());
        assert!(RateLimiter::new(0).try_acquire());
    }
}
